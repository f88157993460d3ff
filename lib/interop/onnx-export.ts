// ONNX export of rnnkit models with the standard recurrent operators (LSTM, GRU, RNN; opset 14).
// Inputs are time-major like ONNX's recurrent operators: `input` [seq, batch, features] (float32)
// or token ids [seq, batch] (int64, through Gather on the embedding), `sequence_lens` [batch]
// (int32, each in 1..seq). Gate blocks and biases are converted from PyTorch's layout to the
// spec's: LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h (linear_before_reset=1 for PyTorch's GRU
// variant, 0 for the original); B = [W_b; R_b] per direction. Layouts: docs/interop.md.
import { promises as fs } from 'fs';
import { DT } from './onnx-proto';
import { encodeModel } from './onnx-proto';
import { GraphBuilder } from './onnx-graph';
import { resolveTimeDelay } from '../layers/time-delay';
import type { TimeDelayOptions } from '../layers/time-delay';
import type { NARX } from '../models/narx';

type Cell = 'lstm' | 'gru' | 'rnn';
type SD = Record<string, ArrayLike<number>>;

/** PyTorch gate block order → ONNX: the PyTorch block each ONNX block takes. */
export const ONNX_GATE_ORDER: Record<Cell, number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] };
const GATES: Record<Cell, number> = { lstm: 4, gru: 3, rnn: 1 };

/** Rows of `src` ([G*H, cols]) with gate blocks reordered by `perm` (new block j = old block perm[j]). */
export function reorderGates(src: ArrayLike<number>, H: number, cols: number, perm: number[]): Float32Array {
  const out = new Float32Array(perm.length * H * cols),
    block = H * cols;
  perm.forEach((p, j) => {
    for (let k = 0; k < block; k++) out[j * block + k] = src[p * block + k];
  });
  return out;
}

function concat(parts: ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p as ArrayLike<number>, o);
    o += p.length;
  }
  return out;
}

export interface StackSpec {
  cell: Cell;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  directions: 1 | 2;
  activation?: 'tanh' | 'relu' | 'sigmoid';
  gruVariant?: 'pytorch' | 'original';
  /** 'zeros', 'learnable' (prefix.h0 / prefix.c0 of the state dict) or graph inputs ([L*D, batch, H]). */
  initial: 'zeros' | 'learnable' | { h: string; c: string | null };
}

export interface StackOut {
  /** The top layer's outputs [T, D, B, H] (ONNX Y). */
  y: string;
  /** Each layer's final states [D, B, H] (Y_h, Y_c). */
  hN: string[];
  cN: string[];
}

/** [T, D, B, H] → [T, B, D*H] (forward direction first in each row). */
export function flattenDirections(g: GraphBuilder, y: string, D: number, H: number): string {
  if (D === 1) return g.op('Squeeze', [y, g.int64s([1])]);
  const t = g.op('Transpose', [y], { perm: [0, 2, 1, 3] });
  return g.op('Reshape', [t, g.int64s([0, 0, D * H])]);
}

/** The batch size of `x` (whose axis `axis` is the batch) as a 1-element int64 tensor. */
export function batchDim(g: GraphBuilder, x: string, axis: number): string {
  const s = g.op('Shape', [x]);
  return g.op('Slice', [s, g.int64s([axis]), g.int64s([axis + 1])]);
}

/**
 * A stack of recurrent layers, one ONNX operator per layer (operators are single-layer);
 * `x` is [T, B, I], `lens` the sequence_lens input.
 */
export function recurrentStack(
  g: GraphBuilder,
  sd: SD,
  prefix: string,
  x: string,
  lens: string,
  s: StackSpec,
): StackOut {
  const { cell, hiddenSize: H, numLayers: L, directions: D } = s;
  const G = GATES[cell],
    perm = ONNX_GATE_ORDER[cell];
  const op = cell === 'lstm' ? 'LSTM' : cell === 'gru' ? 'GRU' : 'RNN';
  const hN: string[] = [],
    cN: string[] = [];
  let inp = x,
    inF = s.inputSize,
    y = '';
  const get = (name: string): ArrayLike<number> => {
    const v = sd[prefix + name];
    if (!v) throw new Error(`exportOnnx: the model has no parameter '${prefix + name}'`);
    return v;
  };
  const opt = (name: string, n: number): ArrayLike<number> => sd[prefix + name] ?? new Float32Array(n);
  let batch: string | null = null;
  for (let l = 0; l < L; l++) {
    const W: ArrayLike<number>[] = [],
      R: ArrayLike<number>[] = [],
      Bs: ArrayLike<number>[] = [];
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      W.push(reorderGates(get(`weight_ih${sfx}`), H, inF, perm));
      R.push(reorderGates(get(`weight_hh${sfx}`), H, H, perm));
      Bs.push(reorderGates(opt(`bias_ih${sfx}`, G * H), H, 1, perm));
      Bs.push(reorderGates(opt(`bias_hh${sfx}`, G * H), H, 1, perm));
    }
    const w = g.floats(`${prefix}W_l${l}`, [D, G * H, inF], concat(W));
    const r = g.floats(`${prefix}R_l${l}`, [D, G * H, H], concat(R));
    const b = g.floats(`${prefix}B_l${l}`, [D, 2 * G * H], concat(Bs));
    let h0 = '',
      c0 = '';
    if (s.initial === 'learnable') {
      batch ??= batchDim(g, x, 1);
      const shape = g.op('Concat', [g.int64s([D]), batch, g.int64s([H])], { axis: 0 });
      const rows = (name: string) =>
        Array.from(get(name)).slice(l * D * H, (l + 1) * D * H) as ArrayLike<number> as Float32Array;
      h0 = g.op('Expand', [g.floats(`${prefix}h0_l${l}`, [D, 1, H], rows('h0')), shape]);
      if (cell === 'lstm') c0 = g.op('Expand', [g.floats(`${prefix}c0_l${l}`, [D, 1, H], rows('c0')), shape]);
    } else if (typeof s.initial === 'object') {
      const sl = (v: string) => g.op('Slice', [v, g.int64s([l * D]), g.int64s([(l + 1) * D]), g.int64s([0])]);
      h0 = sl(s.initial.h);
      if (cell === 'lstm' && s.initial.c) c0 = sl(s.initial.c);
    }
    const attrs: Record<string, number | string | string[]> = {
      hidden_size: H,
      direction: D === 2 ? 'bidirectional' : 'forward',
    };
    if (cell === 'gru') attrs.linear_before_reset = s.gruVariant === 'original' ? 0 : 1;
    if (cell === 'rnn') {
      const a = s.activation ?? 'tanh';
      attrs.activations = Array(D).fill(a === 'tanh' ? 'Tanh' : a === 'relu' ? 'Relu' : 'Sigmoid');
    }
    const ins = [inp, w, r, b, lens, h0];
    if (cell === 'lstm') ins.push(c0);
    while (ins[ins.length - 1] === '') ins.pop();
    const outs = g.node(op, ins, cell === 'lstm' ? 3 : 2, attrs);
    y = outs[0];
    hN.push(outs[1]);
    if (cell === 'lstm') cN.push(outs[2]);
    if (l < L - 1) inp = flattenDirections(g, y, D, H);
    inF = D * H;
  }
  return { y, hN, cN };
}

/** How a recurrent top's outputs combine: [T, D, B, H] → [T, B, F]. */
function mergedSequence(g: GraphBuilder, y: string, D: number, H: number, merge: string): string {
  if (D === 1 || merge === 'concat') return flattenDirections(g, y, D, H);
  if (merge === 'sum') return g.op('ReduceSum', [y, g.int64s([1])], { keepdims: 0 });
  return g.op('ReduceMean', [y], { axes: [1], keepdims: 0 });
}
/** Final states [D, B, H] → [B, F]. */
function mergedFinal(g: GraphBuilder, h: string, D: number, H: number, merge: string): string {
  if (D === 1) return g.op('Squeeze', [h, g.int64s([0])]);
  if (merge === 'concat') {
    const t = g.op('Transpose', [h], { perm: [1, 0, 2] });
    return g.op('Reshape', [t, g.int64s([0, D * H])]);
  }
  if (merge === 'sum') return g.op('ReduceSum', [h, g.int64s([0])], { keepdims: 0 });
  return g.op('ReduceMean', [h], { axes: [0], keepdims: 0 });
}

/** [T, B] step indices compared with the lengths: `Less` (valid steps) or `Equal` to length − 1 (the last). */
function stepMask(g: GraphBuilder, x: string, lens: string, which: 'valid' | 'last'): string {
  const T = g.op('Squeeze', [batchDim(g, x, 0), g.int64s([0])]);
  const steps = g.op('Unsqueeze', [g.op('Range', [g.int64s([0], []), T, g.int64s([1], [])]), g.int64s([1])]);
  const n = g.op('Unsqueeze', [g.op('Cast', [lens], { to: DT.INT64 }), g.int64s([0])]);
  return which === 'valid' ? g.op('Less', [steps, n]) : g.op('Equal', [steps, g.op('Sub', [n, g.int64s([1], [])])]);
}

/** Mean or max over each sequence's valid steps: [T, B, F] → [B, F]. */
function pool(g: GraphBuilder, x: string, lens: string, mode: 'mean' | 'max' | 'last'): string {
  if (mode === 'last') {
    const last = g.op('Unsqueeze', [stepMask(g, x, lens, 'last'), g.int64s([2])]);
    return g.op('ReduceSum', [g.op('Where', [last, x, g.scalar(0)]), g.int64s([0])], { keepdims: 0 });
  }
  if (mode === 'mean') {
    // padding steps are 0 (rnnkit and ONNX alike): the sum over all steps over the length
    const sum = g.op('ReduceSum', [x, g.int64s([0])], { keepdims: 0 });
    const n = g.op('Cast', [g.op('Unsqueeze', [lens, g.int64s([1])])], { to: DT.FLOAT });
    return g.op('Div', [sum, g.op('Max', [n, g.scalar(1)])]);
  }
  const valid = stepMask(g, x, lens, 'valid');
  const masked = g.op('Where', [g.op('Unsqueeze', [valid, g.int64s([2])]), x, g.scalar(-3.4e38)]);
  return g.op('ReduceMax', [masked], { axes: [0], keepdims: 0 });
}

/** A linear layer on [B, F] (Gemm) or [T, B, F] (MatMul + Add). */
function linear(g: GraphBuilder, sd: SD, prefix: string, x: string, rows3d: boolean, wName = `${prefix}weight`) {
  const w = sd[wName],
    b = sd[`${prefix}bias`];
  if (!w) throw new Error(`exportOnnx: the model has no parameter '${wName}'`);
  const O = b ? b.length : 0;
  const outF = O || 0;
  const F = w.length / outF;
  const bias = g.floats(`${prefix}bias`, [outF], b);
  if (!rows3d) return g.op('Gemm', [x, g.floats(`${prefix}weight`, [outF, F], w), bias], { transB: 1 });
  const wt = new Float32Array(F * outF);
  for (let o = 0; o < outF; o++) for (let f = 0; f < F; f++) wt[f * outF + o] = w[o * F + f];
  return g.op('Add', [g.op('MatMul', [x, g.floats(`${prefix}weight_t`, [F, outF], wt)]), bias]);
}

/** Outputs of a head: `logits` plus `probabilities` (classification: softmax, multilabel: sigmoid), or `output`. */
function headOutputs(g: GraphBuilder, z: string, task: string, dims: Array<number | string>) {
  if (task === 'regression') {
    g.op('Identity', [z], {}, 'output');
    g.output('output', DT.FLOAT, dims);
    return;
  }
  g.op('Identity', [z], {}, 'logits');
  g.output('logits', DT.FLOAT, dims);
  g.op(
    task === 'classification' ? 'Softmax' : 'Sigmoid',
    [z],
    task === 'classification' ? { axis: -1 } : {},
    'probabilities',
  );
  g.output('probabilities', DT.FLOAT, dims);
}

interface ReadyConfig {
  cell: Cell;
  inputSize: number | null;
  vocabSize: number | null;
  embeddingDim: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  merge: 'concat' | 'sum' | 'mean';
  initialState: 'zeros' | 'learnable';
  activation: 'tanh' | 'relu' | 'sigmoid';
  gruVariant: 'pytorch' | 'original';
  task: 'classification' | 'regression' | 'multilabel';
  outputSize: number;
  pooling?: 'last' | 'mean' | 'max';
}

/** The features entering the recurrent stack: `input` itself, or Gather on the embedding for token ids. */
function inputs(
  g: GraphBuilder,
  sd: SD,
  c: { vocabSize: number | null; inputSize: number | null; embeddingDim: number },
) {
  const lens = g.input('sequence_lens', DT.INT32, ['batch']);
  if (c.vocabSize === null)
    return { x: g.input('input', DT.FLOAT, ['seq', 'batch', c.inputSize!]), lens, F: c.inputSize! };
  const ids = g.input('input', DT.INT64, ['seq', 'batch']);
  const e = g.floats('embedding.weight', [c.vocabSize, c.embeddingDim], sd['embedding.weight']);
  return { x: g.op('Gather', [e, ids], { axis: 0 }), lens, F: c.embeddingDim };
}

function readyGraph(type: string, c: ReadyConfig, sd: SD): GraphBuilder {
  const g = new GraphBuilder(type);
  const { x, lens, F } = inputs(g, sd, c);
  const D = c.bidirectional ? 2 : 1,
    H = c.hiddenSize;
  const st = recurrentStack(g, sd, 'rnn.', x, lens, {
    cell: c.cell,
    inputSize: F,
    hiddenSize: H,
    numLayers: c.numLayers,
    directions: D,
    activation: c.activation,
    gruVariant: c.gruVariant,
    initial: c.initialState,
  });
  if (type === 'SequenceTagger') {
    const seq = mergedSequence(g, st.y, D, H, c.merge);
    headOutputs(g, linear(g, sd, 'head.', seq, true), c.task, ['seq', 'batch', c.outputSize]);
  } else {
    const pooled =
      c.pooling === 'mean' || c.pooling === 'max'
        ? pool(g, mergedSequence(g, st.y, D, H, c.merge), lens, c.pooling)
        : mergedFinal(g, st.hN[st.hN.length - 1], D, H, c.merge);
    headOutputs(g, linear(g, sd, 'head.', pooled, false), c.task, ['batch', c.outputSize]);
  }
  return g;
}

interface LMConfig {
  cell: Cell;
  embeddingDim: number;
  hiddenSize: number;
  numLayers: number;
  tieWeights: boolean;
}

function languageModelGraph(c: LMConfig, vocab: number, sd: SD): GraphBuilder {
  const g = new GraphBuilder('LanguageModel');
  const { x, lens } = inputs(g, sd, { vocabSize: vocab, inputSize: null, embeddingDim: c.embeddingDim });
  const L = c.numLayers,
    H = c.hiddenSize;
  const h = g.input('initial_h', DT.FLOAT, [L, 'batch', H]);
  const cc = c.cell === 'lstm' ? g.input('initial_c', DT.FLOAT, [L, 'batch', H]) : null;
  const st = recurrentStack(g, sd, 'rnn.', x, lens, {
    cell: c.cell,
    inputSize: c.embeddingDim,
    hiddenSize: H,
    numLayers: L,
    directions: 1,
    initial: { h, c: cc },
  });
  const seq = flattenDirections(g, st.y, 1, H);
  const wName = sd['head.weight'] ? 'head.weight' : 'embedding.weight';
  headOutputs(g, linear(g, sd, 'head.', seq, true, wName), 'classification', ['seq', 'batch', vocab]);
  const finals = (v: string[], name: string) => {
    if (v.length === 1) g.op('Identity', v, {}, name);
    else g.op('Concat', v, { axis: 0 }, name);
    g.output(name, DT.FLOAT, [L, 'batch', H]);
  };
  finals(st.hN, 'final_h');
  if (c.cell === 'lstm') finals(st.cN, 'final_c');
  return g;
}

interface TDNNConfig {
  inputSize: number;
  layers: TimeDelayOptions[];
  outputSize: number;
  task: 'classification' | 'regression' | 'multilabel';
  output: 'sequence' | 'step';
  pooling: 'last' | 'mean' | 'max';
}

/**
 * A TDNN: each TimeDelay layer as one delayed copy of its input per tap (Pad on the time axis,
 * Slice back to seq steps), Concat of the copies in kernel order, MatMul + Add, the activation,
 * and a Mul by the valid-step mask (padding steps give 0, as in rnnkit).
 */
function tdnnGraph(c: TDNNConfig, sd: SD): GraphBuilder {
  const g = new GraphBuilder('TDNN');
  const lens = g.input('sequence_lens', DT.INT32, ['batch']);
  const x0 = g.input('input', DT.FLOAT, ['seq', 'batch', c.inputSize]);
  const T = batchDim(g, x0, 0);
  const mask = g.op('Unsqueeze', [g.op('Cast', [stepMask(g, x0, lens, 'valid')], { to: DT.FLOAT }), g.int64s([2])]);
  let x = x0,
    F = c.inputSize;
  c.layers.forEach((opts, i) => {
    const { config, taps } = resolveTimeDelay('exportOnnx', opts);
    const O = config.units,
      K = taps.length;
    const w = sd[`layers.${i}.weight`]; // [O, F, K]
    if (!w) throw new Error(`exportOnnx: the model has no parameter 'layers.${i}.weight'`);
    const copies = taps.map((d) => {
      if (d === 0) return x;
      const padded = g.op('Pad', [x, g.int64s([d, 0, 0, 0, 0, 0])]);
      return g.op('Slice', [padded, g.int64s([0]), T, g.int64s([0])]);
    });
    const unfolded = K === 1 ? copies[0] : g.op('Concat', copies, { axis: 2 });
    const wg = new Float32Array(K * F * O); // [K*F, O]: row j*F + f, column o = weight[o, f, j]
    for (let o = 0; o < O; o++)
      for (let j = 0; j < K; j++) for (let f = 0; f < F; f++) wg[(j * F + f) * O + o] = w[(o * F + f) * K + j];
    let z = g.op('MatMul', [unfolded, g.floats(`layers.${i}.weight_unfolded`, [K * F, O], wg)]);
    const b = sd[`layers.${i}.bias`];
    if (b) z = g.op('Add', [z, g.floats(`layers.${i}.bias`, [O], b)]);
    const act = config.activation;
    if (act !== 'linear') z = g.op(act === 'tanh' ? 'Tanh' : act === 'relu' ? 'Relu' : 'Sigmoid', [z]);
    x = g.op('Mul', [z, mask]);
    F = O;
  });
  if (c.output === 'step') headOutputs(g, linear(g, sd, 'head.', x, true), c.task, ['seq', 'batch', c.outputSize]);
  else headOutputs(g, linear(g, sd, 'head.', pool(g, x, lens, c.pooling), false), c.task, ['batch', c.outputSize]);
  return g;
}

/** [F, O] transposed copy of a PyTorch weight [O, F] (for MatMul on rows). */
function transposed(w: ArrayLike<number>, O: number, F: number): Float32Array {
  const t = new Float32Array(F * O);
  for (let o = 0; o < O; o++) for (let f = 0; f < F; f++) t[f * O + o] = w[o * F + f];
  return t;
}

function param(sd: SD, name: string): ArrayLike<number> {
  const v = sd[name];
  if (!v) throw new Error(`exportOnnx: the model has no parameter '${name}'`);
  return v;
}

interface Seq2SeqConfig {
  cell: Cell;
  embeddingDim: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  attention: 'none' | 'dot' | 'general';
}
interface Seq2SeqLike extends Exportable {
  source: { size: number };
  target: { size: number };
}

/** Final states of every layer, [L·D, B, H] (layer-major, forward first), as one value. */
function stacked(g: GraphBuilder, v: string[]): string {
  return v.length === 1 ? v[0] : g.op('Concat', v, { axis: 0 });
}

/**
 * The Seq2Seq encoder: `input` int64 [src_seq, batch] and `sequence_lens` → `encoder_outputs`
 * [src_seq, batch, D·H], `keys` [src_seq, batch, H] ('general' attention: W_a applied to every
 * encoder output), and the decoder's initial `h` (and `c`) [numLayers, batch, H] after the bridge.
 */
function seq2seqEncoderGraph(c: Seq2SeqConfig, srcVocab: number, sd: SD): GraphBuilder {
  const g = new GraphBuilder('Seq2SeqEncoder');
  const lens = g.input('sequence_lens', DT.INT32, ['batch']);
  const ids = g.input('input', DT.INT64, ['src_seq', 'batch']);
  const E = c.embeddingDim,
    H = c.hiddenSize,
    L = c.numLayers,
    D = c.bidirectional ? 2 : 1;
  const emb = g.floats('encoder.embedding.weight', [srcVocab, E], param(sd, 'encoder.embedding.weight'));
  const x = g.op('Gather', [emb, ids], { axis: 0 });
  const st = recurrentStack(g, sd, 'encoder.rnn.', x, lens, {
    cell: c.cell,
    inputSize: E,
    hiddenSize: H,
    numLayers: L,
    directions: D,
    initial: 'zeros',
  });
  const enc = flattenDirections(g, st.y, D, H);
  g.op('Identity', [enc], {}, 'encoder_outputs');
  g.output('encoder_outputs', DT.FLOAT, ['src_seq', 'batch', D * H]);
  if (c.attention === 'general') {
    const wa = transposed(param(sd, 'attention.weight_a'), H, D * H);
    g.op('MatMul', [enc, g.floats('attention.weight_a_t', [D * H, H], wa)], {}, 'keys');
    g.output('keys', DT.FLOAT, ['src_seq', 'batch', H]);
  }
  const bridge = (states: string[], which: 'h' | 'c') => {
    const all = stacked(g, states); // [L·D, B, H]
    if (D === 1) return g.op('Identity', [all], {}, which);
    // [L, 2, B, H] → [L, B, 2, H] → [L, B, 2H]: each row [fwd; bwd] of its layer
    const r = g.op('Reshape', [all, g.int64s([L, 2, -1, H])]);
    const cat = g.op('Reshape', [g.op('Transpose', [r], { perm: [0, 2, 1, 3] }), g.int64s([0, 0, 2 * H])]);
    const p = `bridge.${which}.`;
    const w = g.floats(`${p}weight_t`, [2 * H, H], transposed(param(sd, `${p}weight`), H, 2 * H));
    const z = g.op('Add', [g.op('MatMul', [cat, w]), g.floats(`${p}bias`, [H], param(sd, `${p}bias`))]);
    return which === 'h' ? g.op('Tanh', [z], {}, 'h') : g.op('Identity', [z], {}, 'c');
  };
  bridge(st.hN, 'h');
  g.output('h', DT.FLOAT, [L, 'batch', H]);
  if (c.cell === 'lstm') {
    bridge(st.cN, 'c');
    g.output('c', DT.FLOAT, [L, 'batch', H]);
  }
  return g;
}

/**
 * One Seq2Seq decoder step: `tokens` int64 [batch] (the previous tokens; <bos> first), `h` (and
 * `c`) [numLayers, batch, H]; with attention also `encoder_outputs`, `keys` ('general') and
 * `source_lens` int32 [batch] → `logits` and `log_probs` [batch, V], `h_next` (and `c_next`),
 * and with attention `attention` [batch, src_seq].
 */
function seq2seqDecoderGraph(c: Seq2SeqConfig, tgtVocab: number, sd: SD): GraphBuilder {
  const g = new GraphBuilder('Seq2SeqDecoderStep');
  const E = c.embeddingDim,
    H = c.hiddenSize,
    L = c.numLayers,
    He = (c.bidirectional ? 2 : 1) * H,
    V = tgtVocab;
  const tokens = g.input('tokens', DT.INT64, ['batch']);
  const h = g.input('h', DT.FLOAT, [L, 'batch', H]);
  const cc = c.cell === 'lstm' ? g.input('c', DT.FLOAT, [L, 'batch', H]) : null;
  const emb = g.floats('decoder.embedding.weight', [V, E], param(sd, 'decoder.embedding.weight'));
  const x = g.op('Gather', [emb, g.op('Unsqueeze', [tokens, g.int64s([0])])], { axis: 0 }); // [1, B, E]
  const st = recurrentStack(g, sd, 'decoder.rnn.', x, '', {
    cell: c.cell,
    inputSize: E,
    hiddenSize: H,
    numLayers: L,
    directions: 1,
    initial: { h, c: cc },
  });
  let out = g.op('Squeeze', [st.y, g.int64s([0, 1])]); // [1, 1, B, H] → [B, H]
  if (c.attention !== 'none') {
    const enc = g.input('encoder_outputs', DT.FLOAT, ['src_seq', 'batch', He]);
    const keys = c.attention === 'general' ? g.input('keys', DT.FLOAT, ['src_seq', 'batch', H]) : enc;
    const lens = g.input('source_lens', DT.INT32, ['batch']);
    // scores [B, S] = keys [B, S, H] · q [B, H, 1]
    const kT = g.op('Transpose', [keys], { perm: [1, 0, 2] });
    const q = g.op('Unsqueeze', [out, g.int64s([2])]);
    const scores = g.op('Squeeze', [g.op('MatMul', [kT, q]), g.int64s([2])]);
    // positions j >= source_lens[b] get no weight
    const S = g.op('Squeeze', [batchDim(g, enc, 0), g.int64s([0])]);
    const pos = g.op('Unsqueeze', [g.op('Range', [g.int64s([0], []), S, g.int64s([1], [])]), g.int64s([0])]);
    const n = g.op('Unsqueeze', [g.op('Cast', [lens], { to: DT.INT64 }), g.int64s([1])]);
    const masked = g.op('Where', [g.op('Less', [pos, n]), scores, g.scalar(-1e30)]);
    const alpha = g.op('Softmax', [masked], { axis: -1 }, 'attention');
    g.output('attention', DT.FLOAT, ['batch', 'src_seq']);
    // context [B, He] = α [B, 1, S] · values [B, S, He]; h̃ = tanh(W_c [context; h])
    const vals = g.op('Transpose', [enc], { perm: [1, 0, 2] });
    const ctxv = g.op('Squeeze', [g.op('MatMul', [g.op('Unsqueeze', [alpha, g.int64s([1])]), vals]), g.int64s([1])]);
    const cat = g.op('Concat', [ctxv, out], { axis: 1 });
    const wc = g.floats('attention.weight_c', [H, He + H], param(sd, 'attention.weight_c'));
    out = g.op('Tanh', [g.op('Gemm', [cat, wc], { transB: 1 })]);
  }
  const logits = g.op(
    'Gemm',
    [
      out,
      g.floats('head.weight', [V, H], param(sd, 'head.weight')),
      g.floats('head.bias', [V], param(sd, 'head.bias')),
    ],
    { transB: 1 },
    'logits',
  );
  g.output('logits', DT.FLOAT, ['batch', V]);
  g.op('LogSoftmax', [logits], { axis: -1 }, 'log_probs');
  g.output('log_probs', DT.FLOAT, ['batch', V]);
  g.op('Identity', [stacked(g, st.hN)], {}, 'h_next');
  g.output('h_next', DT.FLOAT, [L, 'batch', H]);
  if (c.cell === 'lstm') {
    g.op('Identity', [stacked(g, st.cN)], {}, 'c_next');
    g.output('c_next', DT.FLOAT, [L, 'batch', H]);
  }
  return g;
}

type NARXConfig = Pick<
  NARX['config'],
  'inputSize' | 'outputSize' | 'inputDelays' | 'feedbackDelays' | 'hiddenSizes' | 'activation'
>;
type Scaling =
  | { kind: 'standard'; mean: number[]; scale: number[] }
  | { kind: 'minmax'; range: [number, number]; min: number[]; scale: number[] };
interface NARXLike extends Exportable {
  scalers: { inputs: Scaling | null; targets: Scaling | null };
}

/** A scaler's transform(v) = (v − offset) / scale + base as constants. */
function scalerConsts(s: Scaling): { offset: number[]; scale: number[]; base: number } {
  return s.kind === 'standard'
    ? { offset: s.mean, scale: s.scale, base: 0 }
    : { offset: s.min, scale: s.scale, base: s.range[0] };
}

/**
 * NARX, open loop, one step: `input_taps` [batch, inputDelays.length, inputSize] (row j:
 * x_{t − inputDelays[j]}) and `target_taps` [batch, feedbackDelays.length, outputSize] (row k:
 * y_{t − feedbackDelays[k]}), in the data's own units → `output` [batch, outputSize], y_t in the
 * data's units. The fitted scalers are Sub/Div/Add constants before the network and Sub/Mul/Add after.
 */
function narxGraph(c: NARXConfig, sd: SD, scalers: NARXLike['scalers']): GraphBuilder {
  const g = new GraphBuilder('NARX');
  const parts: string[] = [];
  const taps = (name: string, n: number, F: number, s: Scaling | null, tag: string) => {
    if (n === 0 || F === 0) return;
    let v = g.input(name, DT.FLOAT, ['batch', n, F]);
    if (s) {
      const k = scalerConsts(s);
      v = g.op('Sub', [v, g.floats(`${tag}_scaler.offset`, [F], k.offset)]);
      v = g.op('Div', [v, g.floats(`${tag}_scaler.scale`, [F], k.scale)]);
      if (k.base !== 0) v = g.op('Add', [v, g.scalar(k.base)]);
    }
    parts.push(g.op('Reshape', [v, g.int64s([0, n * F])]));
  };
  taps('input_taps', c.inputDelays.length, c.inputSize, scalers.inputs, 'input');
  taps('target_taps', c.feedbackDelays.length, c.outputSize, scalers.targets, 'target');
  let x = parts.length === 1 ? parts[0] : g.op('Concat', parts, { axis: 1 });
  const sizes = [...c.hiddenSizes, c.outputSize];
  const act = c.activation === 'tanh' ? 'Tanh' : c.activation === 'relu' ? 'Relu' : 'Sigmoid';
  sizes.forEach((_, i) => {
    const p = `net.${2 * i}.`;
    x = linear(g, sd, p, x, false);
    if (i < sizes.length - 1) x = g.op(act, [x]);
  });
  const t = scalers.targets;
  if (t) {
    const k = scalerConsts(t);
    if (k.base !== 0) x = g.op('Sub', [x, g.scalar(k.base)]);
    x = g.op('Mul', [x, g.floats('target_scaler.scale_out', [c.outputSize], k.scale)]);
    x = g.op('Add', [x, g.floats('target_scaler.offset_out', [c.outputSize], k.offset)]);
  }
  g.op('Identity', [x], {}, 'output');
  g.output('output', DT.FLOAT, ['batch', c.outputSize]);
  return g;
}

/** What can be exported. */
const EXPORTABLE = ['SequenceClassifier', 'SequenceTagger', 'LanguageModel', 'TDNN', 'Seq2Seq', 'NARX'];

interface Exportable {
  type: string;
  config: Record<string, unknown>;
  stateDict(): Record<string, ArrayLike<number>>;
  vocabulary?: { size: number };
}

/** Which graph of a Seq2Seq model encodeOnnx returns. */
export interface EncodeOnnxOptions {
  /** Seq2Seq only (required there): 'encoder' or 'decoder' (one decoder step). */
  graph?: 'encoder' | 'decoder';
}

function exportable(model: unknown): Exportable {
  const m = model as Exportable;
  const type = m && typeof m === 'object' ? m.type : undefined;
  if (typeof type !== 'string' || !EXPORTABLE.includes(type))
    throw new TypeError(
      `exportOnnx: cannot export ${typeof type === 'string' ? `a ${type}` : 'this value'}; supported: ${EXPORTABLE.join(', ')}`,
    );
  return m;
}

/**
 * The ONNX ModelProto bytes of a model (what exportOnnx writes). A Seq2Seq model has two graphs:
 * `{ graph: 'encoder' }` or `{ graph: 'decoder' }` picks one.
 */
export function encodeOnnx(model: unknown, options: EncodeOnnxOptions = {}): Uint8Array {
  const m = exportable(model);
  const type = m.type;
  if (options === null || typeof options !== 'object')
    throw new TypeError('encodeOnnx: options must be an object such as { graph: "decoder" }');
  for (const k of Object.keys(options))
    if (k !== 'graph') throw new RangeError(`encodeOnnx: unknown option '${k}'; known options: graph`);
  const graph = options.graph;
  if (type === 'Seq2Seq') {
    if (graph !== 'encoder' && graph !== 'decoder')
      throw new RangeError(
        `encodeOnnx: a Seq2Seq model has two graphs; pass { graph: 'encoder' } or { graph: 'decoder' }, received ${JSON.stringify(graph)}`,
      );
  } else if (graph !== undefined)
    throw new RangeError(`encodeOnnx: option graph applies to Seq2Seq models only (this is a ${type})`);
  const sd = m.stateDict();
  let g: GraphBuilder;
  if (type === 'LanguageModel') g = languageModelGraph(m.config as unknown as LMConfig, m.vocabulary!.size, sd);
  else if (type === 'TDNN') g = tdnnGraph(m.config as unknown as TDNNConfig, sd);
  else if (type === 'Seq2Seq') {
    const s = m as Seq2SeqLike,
      c = m.config as unknown as Seq2SeqConfig;
    g = graph === 'encoder' ? seq2seqEncoderGraph(c, s.source.size, sd) : seq2seqDecoderGraph(c, s.target.size, sd);
  } else if (type === 'NARX') g = narxGraph(m.config as unknown as NARXConfig, sd, (m as NARXLike).scalers);
  else g = readyGraph(type, m.config as unknown as ReadyConfig, sd);
  const what = type === 'Seq2Seq' ? `${type} ${graph}${graph === 'decoder' ? ' step' : ''}` : type;
  return encodeModel(g.model(`rnnkit ${what}: ${JSON.stringify(m.config)}`));
}

/** Where exportOnnx writes a Seq2Seq model's decoder-step graph. */
export interface ExportOnnxOptions {
  /**
   * Seq2Seq only: the decoder-step file (default: `path` with `.decoder` inserted before its
   * extension, `s2s.onnx` → `s2s.decoder.onnx`; `.decoder.onnx` appended without one).
   */
  decoderPath?: string;
}

/** The default decoder-step file of a Seq2Seq export written at `path`. */
export function decoderPathOf(path: string): string {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const dot = path.lastIndexOf('.');
  if (dot <= slash + 1) return `${path}.decoder.onnx`;
  return `${path.slice(0, dot)}.decoder${path.slice(dot)}`;
}

/**
 * Writes a model as ONNX (opset 14) for onnxruntime and other ONNX runtimes and returns the paths
 * written. SequenceClassifier, SequenceTagger, TDNN: inputs `input` ([seq, batch, features]
 * float32, or [seq, batch] int64 token ids) and `sequence_lens` ([batch] int32, each 1..seq);
 * outputs `logits` and `probabilities` (regression: `output`). LanguageModel: also `initial_h`
 * (and `initial_c` for LSTM) [numLayers, batch, H] in, `final_h` (and `final_c`) out.
 *
 * Seq2Seq: two files, `[path, decoderPath]`. The encoder (`input` [src_seq, batch] int64,
 * `sequence_lens`) gives `encoder_outputs` [src_seq, batch, F], `keys` ('general' attention)
 * and the decoder's initial `h` (and `c`) [numLayers, batch, H] after the bridge. One decoder
 * step takes `tokens` [batch] int64, `h` (and `c`), with attention `encoder_outputs`, `keys`
 * ('general') and `source_lens` [batch] int32, and gives `logits`, `log_probs` [batch, V],
 * `h_next` (and `c_next`) and with attention `attention` [batch, src_seq]; greedy or beam
 * decoding is a loop over it.
 *
 * NARX: the open-loop one-step model: `input_taps` [batch, inputDelays.length, inputSize] and
 * `target_taps` [batch, feedbackDelays.length, outputSize] in the data's units → `output`
 * [batch, outputSize] (the fitted scalers are in the graph). Batch and sequence sizes are
 * dynamic. See docs/interop.md.
 */
export async function exportOnnx(model: unknown, path: string, options: ExportOnnxOptions = {}): Promise<string[]> {
  const m = exportable(model);
  if (options === null || typeof options !== 'object')
    throw new TypeError('exportOnnx: options must be an object such as { decoderPath }');
  for (const k of Object.keys(options))
    if (k !== 'decoderPath') throw new RangeError(`exportOnnx: unknown option '${k}'; known options: decoderPath`);
  if (typeof path !== 'string' || path === '') throw new TypeError('exportOnnx: path must be a non-empty string');
  if (m.type !== 'Seq2Seq') {
    if (options.decoderPath !== undefined)
      throw new RangeError(`exportOnnx: decoderPath applies to Seq2Seq models only (this is a ${m.type})`);
    await fs.writeFile(path, encodeOnnx(m));
    return [path];
  }
  const dec = options.decoderPath ?? decoderPathOf(path);
  if (typeof dec !== 'string' || dec === '') throw new TypeError('exportOnnx: decoderPath must be a non-empty string');
  if (dec === path) throw new RangeError('exportOnnx: decoderPath must differ from path (the encoder file)');
  const enc = encodeOnnx(m, { graph: 'encoder' }),
    step = encodeOnnx(m, { graph: 'decoder' });
  await fs.writeFile(path, enc);
  await fs.writeFile(dec, step);
  return [path, dec];
}
