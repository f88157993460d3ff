// SimpleRNN, LSTM and GRU layers: a stack of numLayers recurrent layers, each optionally
// bidirectional (both directions write into one [T,B,2H] buffer), with dropout between layers.
// Parameter names, shapes and gate order are PyTorch's (docs/conventions.md).
import { FieldSpec, resolveOptions } from '../options';
import type { Gen } from '../exec';
import { glorotUniform, identityBlocks, orthogonalBlocks, uniform } from '../init';
import type { HostArray, RnnSpec } from '../native';
import type { FlatParameters } from '../params';
import { recurrentParameterShapes } from '../params';
import type { Rng } from '../rng';
import { Act, ActShape, Ctx, Layer, RecurrentState, SeqAct, allocLike, expectKind } from './layer';

/** Options shared by SimpleRNN, LSTM and GRU. */
export interface RecurrentOptions {
  /** Hidden units H per direction. Required. */
  hiddenSize: number;
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Add a reverse-direction layer at every level (default false). */
  bidirectional?: boolean;
  /** How the two directions' outputs combine: 'concat' (default, PyTorch), 'sum' or 'mean'. */
  merge?: 'concat' | 'sum' | 'mean';
  /** Dropout on the outputs of every layer but the last, while training (default 0). */
  dropout?: number;
  /** Use bias_ih and bias_hh (default true). */
  bias?: boolean;
  /** Initial state: 'zeros' (default) or 'learnable' (parameters h0/c0 of shape [numLayers*dirs, H]). A state given at call time wins over both. */
  initialState?: 'zeros' | 'learnable';
  /** Output every step [T,B,F] (default true) or only the final states [B,F] of the top layer. */
  returnSequences?: boolean;
  /** Initializer: 'keras' (glorot_uniform input weights, orthogonal recurrent weights, zero biases; default) or 'pytorch' (U(±1/sqrt(H)) everywhere). */
  init?: 'keras' | 'pytorch';
  /** Recurrent-weight initializer under 'keras' init: 'orthogonal' (default) or 'identity' (IRNN, for SimpleRNN with relu). */
  recurrentInit?: 'orthogonal' | 'identity';
  /**
   * LSTM only: initial forget-gate bias under 'keras' init (default 1, Keras unit_forget_bias;
   * 0 turns it off). Larger values (3–5) keep the cell state for long stretches from the start,
   * which helps dependencies over ~100 steps.
   */
  forgetBias?: number;
  /** SimpleRNN only: 'tanh' (default), 'relu' or 'sigmoid'. */
  activation?: 'tanh' | 'relu' | 'sigmoid';
  /** GRU only: 'pytorch' (reset after the recurrent product, default) or 'original' (Cho et al.). */
  gruVariant?: 'pytorch' | 'original';
}

export const RECURRENT_OPTIONS: Record<keyof RecurrentOptions, FieldSpec> = {
  hiddenSize: { type: 'int', min: 1, doc: 'hidden units per direction' },
  numLayers: { type: 'int', min: 1, max: 64, default: 1, doc: 'stacked layers' },
  bidirectional: { type: 'bool', default: false, doc: 'add a reverse direction' },
  merge: { type: 'enum', values: ['concat', 'sum', 'mean'], default: 'concat', doc: 'how directions combine' },
  dropout: { type: 'number', min: 0, max: 0.999999, default: 0, doc: 'dropout between layers' },
  bias: { type: 'bool', default: true, doc: 'use biases' },
  initialState: { type: 'enum', values: ['zeros', 'learnable'], default: 'zeros', doc: 'initial state' },
  returnSequences: { type: 'bool', default: true, doc: 'output every step or the final states' },
  init: { type: 'enum', values: ['keras', 'pytorch'], default: 'keras', doc: 'initializer family' },
  recurrentInit: { type: 'enum', values: ['orthogonal', 'identity'], default: 'orthogonal', doc: 'recurrent initializer' },
  forgetBias: { type: 'number', min: -20, max: 20, default: 1, doc: 'LSTM initial forget-gate bias' },
  activation: { type: 'enum', values: ['tanh', 'relu', 'sigmoid'], default: 'tanh', doc: 'SimpleRNN activation' },
  gruVariant: { type: 'enum', values: ['pytorch', 'original'], default: 'pytorch', doc: 'GRU variant' },
};

interface LayerCache {
  input: HostArray; // [T,B,in]
  inF: number;
  out: HostArray; // [T,B,D*H]
  mask: HostArray | null; // dropout mask applied to this layer's input
  reserves: HostArray[];
}

class Recurrent extends Layer {
  readonly type: string;
  readonly config: Required<RecurrentOptions>;
  readonly cell: RnnSpec['cell'];
  private inputSize = 0;

  constructor(type: string, cell: RnnSpec['cell'], options: RecurrentOptions) {
    super();
    this.type = type;
    this.cell = cell;
    this.config = resolveOptions(type, RECURRENT_OPTIONS, options);
    if (cell !== 'elman' && options.activation !== undefined) throw new RangeError(`${type}: activation applies to SimpleRNN only`);
    if (cell !== 'gru' && options.gruVariant !== undefined) throw new RangeError(`${type}: gruVariant applies to GRU only`);
    if (cell !== 'lstm' && options.forgetBias !== undefined) throw new RangeError(`${type}: forgetBias applies to LSTM only`);
  }

  get directions(): number { return this.config.bidirectional ? 2 : 1; }
  /** Feature size of the output. */
  get outputSize(): number {
    return this.config.bidirectional && this.config.merge === 'concat' ? 2 * this.config.hiddenSize : this.config.hiddenSize;
  }

  build(input: ActShape, params: FlatParameters): ActShape {
    if (input.kind !== 'seq') throw new TypeError(`${this.type}: expected a seq input, received a ${input.kind} input${input.kind === 'ids' ? ' (add an Embedding first)' : ''}`);
    this.inputSize = input.F;
    const c = this.config;
    for (const [n, shape] of recurrentParameterShapes({ cell: this.cell, inputSize: input.F, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bidirectional: c.bidirectional, bias: c.bias })) {
      params.add(this.p(n), shape);
    }
    if (c.initialState === 'learnable') {
      params.add(this.p('h0'), [c.numLayers * this.directions, c.hiddenSize]);
      if (this.cell === 'lstm') params.add(this.p('c0'), [c.numLayers * this.directions, c.hiddenSize]);
    }
    return { kind: c.returnSequences ? 'seq' : 'vec', F: this.outputSize };
  }

  initialize(params: FlatParameters, rng: Rng): void {
    const c = this.config, H = c.hiddenSize, G = this.cell === 'lstm' ? 4 : this.cell === 'gru' ? 3 : 1;
    for (let l = 0; l < c.numLayers; l++) {
      const inF = l === 0 ? this.inputSize : H * this.directions;
      for (let d = 0; d < this.directions; d++) {
        const s = this.suffix(l, d);
        const wih = params.param(this.p(`weight_ih${s}`)), whh = params.param(this.p(`weight_hh${s}`));
        if (c.init === 'pytorch') {
          const k = 1 / Math.sqrt(H);
          uniform(wih, k, rng);
          uniform(whh, k, rng);
          if (c.bias) { uniform(params.param(this.p(`bias_ih${s}`)), k, rng); uniform(params.param(this.p(`bias_hh${s}`)), k, rng); }
        } else {
          glorotUniform(wih, G * H, inF, rng);
          if (c.recurrentInit === 'identity') identityBlocks(whh, G, H);
          else orthogonalBlocks(whh, G, H, rng);
          if (c.bias) {
            const bih = params.param(this.p(`bias_ih${s}`));
            bih.fill(0);
            params.param(this.p(`bias_hh${s}`)).fill(0);
            if (this.cell === 'lstm') bih.fill(c.forgetBias, H, 2 * H);
          }
        }
      }
    }
    if (c.initialState === 'learnable') {
      params.param(this.p('h0')).fill(0);
      if (this.cell === 'lstm') params.param(this.p('c0')).fill(0);
    }
  }

  private suffix(l: number, d: number): string { return `_l${l}${d ? '_reverse' : ''}`; }
  private spec(T: number, B: number, I: number, d: number): RnnSpec {
    const c = this.config;
    return {
      cell: this.cell, T, B, I, H: c.hiddenSize, reverse: d === 1,
      ...(this.directions === 2 ? { yStride: 2 * c.hiddenSize } : {}),
      ...(this.cell === 'elman' ? { activation: c.activation } : {}),
      ...(this.cell === 'gru' ? { gruVariant: c.gruVariant } : {}),
    };
  }

  /** Initial state of (layer, direction) broadcast to [B,H], or null for zeros. */
  private initial(ctx: Ctx, params: FlatParameters, which: 'h' | 'c', k: number, B: number): HostArray | null {
    const H = this.config.hiddenSize;
    const given = ctx.initialStates.get(this);
    if (given) {
      const arr = which === 'h' ? given.h : given.c;
      if (arr && arr[k]) {
        if (arr[k].length !== B * H) throw new RangeError(`${this.type}: initial ${which} state ${k} must have ${B * H} elements ([B,H]), received ${arr[k].length}`);
        return arr[k];
      }
    }
    if (this.config.initialState !== 'learnable') return null;
    const row = params.param(this.p(which === 'h' ? 'h0' : 'c0')).subarray(k * H, (k + 1) * H);
    const out = allocLike(ctx.dtype, B * H);
    for (let b = 0; b < B; b++) out.set(row, b * H);
    return out;
  }

  *forward(x: Act, ctx: Ctx, params: FlatParameters): Gen<Act> {
    const s = expectKind(this.type, x, 'seq');
    if (s.F !== this.inputSize) throw new RangeError(`${this.type}: expected ${this.inputSize} input features, received ${s.F}`);
    const c = this.config, H = c.hiddenSize, D = this.directions, { T, B } = s;
    const lstm = this.cell === 'lstm';
    const layers: LayerCache[] = [];
    const final: RecurrentState = { h: [], c: lstm ? [] : null };
    let inp = s.data, inF = s.F;
    for (let l = 0; l < c.numLayers; l++) {
      let mask: HostArray | null = null;
      if (l > 0 && c.dropout > 0 && ctx.training) {
        mask = this.buffer(ctx, `mask${l}`, ctx.dtype, inp.length);
        ctx.exec.be.dropoutMask(c.dropout, ctx.rng.seed(), mask);
        const dropped = this.buffer(ctx, `dropped${l}`, ctx.dtype, inp.length);
        for (let i = 0; i < dropped.length; i++) dropped[i] = inp[i] * mask[i];
        inp = dropped;
      }
      const out = this.buffer(ctx, `out${l}`, ctx.dtype, T * B * D * H);
      const reserves: HostArray[] = [];
      for (let d = 0; d < D; d++) {
        const sp = this.spec(T, B, inF, d), sfx = this.suffix(l, d), k = l * D + d;
        // Final states are handed out through ctx.finalStates: valid until this layer's next call
        // (truncated BPTT copies them before the next window).
        const hN = this.buffer(ctx, `hN${k}`, ctx.dtype, B * H), cN = lstm ? this.buffer(ctx, `cN${k}`, ctx.dtype, B * H) : null;
        const reserve = ctx.training ? this.buffer(ctx, `reserve${k}`, ctx.dtype, ctx.exec.be.rnnReserveSize(sp)) : null;
        yield ctx.exec.rnnForward({
          ...sp, x: inp, lengths: s.lengths, h0: this.initial(ctx, params, 'h', k, B),
          c0: lstm ? this.initial(ctx, params, 'c', k, B) : null,
          wIh: params.param(this.p(`weight_ih${sfx}`)), wHh: params.param(this.p(`weight_hh${sfx}`)),
          bIh: c.bias ? params.param(this.p(`bias_ih${sfx}`)) : null, bHh: c.bias ? params.param(this.p(`bias_hh${sfx}`)) : null,
          y: out.subarray(d * H), hN, cN, reserve,
        });
        final.h.push(hN);
        if (cN) final.c!.push(cN);
        if (reserve) reserves.push(reserve);
      }
      layers.push({ input: inp, inF, out, mask, reserves });
      inp = out;
      inF = D * H;
    }
    ctx.finalStates.set(this, final);
    if (ctx.training) ctx.tape.record(this, { x: s, layers });
    const top = layers[layers.length - 1].out;
    const merge = D === 2 ? c.merge : 'concat';
    if (c.returnSequences) {
      return { kind: 'seq', data: merge === 'concat' ? top : mergeHalves(ctx, top, T * B, H, merge === 'mean'), T, B, F: this.outputSize, lengths: s.lengths };
    }
    const L = c.numLayers;
    const hTop = allocLike(ctx.dtype, B * D * H);
    for (let d = 0; d < D; d++) {
      const h = final.h[(L - 1) * D + d];
      for (let b = 0; b < B; b++) hTop.set(h.subarray(b * H, (b + 1) * H), b * D * H + d * H);
    }
    return { kind: 'vec', data: merge === 'concat' ? hTop : mergeHalves(ctx, hTop, B, H, merge === 'mean'), B, F: this.outputSize };
  }

  *backward(dy: Act, ctx: Ctx, params: FlatParameters): Gen<Act | null> {
    const cache = ctx.tape.take<{ x: SeqAct; layers: LayerCache[] }>(this, this.type);
    if (dy.kind === 'ids') throw new Error(`${this.type}.backward: unexpected ids`);
    const c = this.config, H = c.hiddenSize, D = this.directions, { T, B, lengths } = cache.x;
    const lstm = this.cell === 'lstm';
    const merge = D === 2 ? c.merge : 'concat';
    // Gradient w.r.t. the top layer's [T,B,D*H] output, or w.r.t. its final states.
    let dOut: HostArray | null = null;
    let dTopStates: HostArray[] | null = null;
    if (c.returnSequences) {
      dOut = merge === 'concat' ? dy.data : splitHalves(ctx, dy.data, T * B, H, merge === 'mean');
    } else {
      const full = merge === 'concat' ? dy.data : splitHalves(ctx, dy.data, B, H, merge === 'mean');
      dTopStates = [];
      for (let d = 0; d < D; d++) {
        const g = allocLike(ctx.dtype, B * H);
        for (let b = 0; b < B; b++) g.set(full.subarray(b * D * H + d * H, b * D * H + d * H + H), b * H);
        dTopStates.push(g);
      }
    }
    const outside = ctx.finalStateGrads?.get(this);
    const given = ctx.initialStates.get(this);
    const initGrads: RecurrentState | null = given && ctx.initialStateGrads ? { h: [], c: lstm ? [] : null } : null;
    for (let l = c.numLayers - 1; l >= 0; l--) {
      const lc = cache.layers[l];
      const dx = l > 0 || this.needsInputGrad ? this.buffer(ctx, `dx${l}`, ctx.dtype, T * B * lc.inF, true) : null;
      for (let d = 0; d < D; d++) {
        const sp = this.spec(T, B, lc.inF, d), sfx = this.suffix(l, d), k = l * D + d;
        const learn = c.initialState === 'learnable' && !given;
        const want = learn || initGrads !== null;
        const dh0 = want ? allocLike(ctx.dtype, B * H) : null, dc0 = want && lstm ? allocLike(ctx.dtype, B * H) : null;
        let dhN: HostArray | null = dTopStates && l === c.numLayers - 1 ? dTopStates[d] : null;
        if (outside?.h[k]) dhN = dhN ? dhN.map((v, i) => v + outside.h[k][i]) : outside.h[k];
        yield ctx.exec.rnnBackward({
          ...sp, x: lc.input, lengths, wIh: params.param(this.p(`weight_ih${sfx}`)), wHh: params.param(this.p(`weight_hh${sfx}`)),
          reserve: lc.reserves[d], dy: dOut ? dOut.subarray(d * H) : null,
          dhN, dcN: lstm && outside?.c?.[k] ? outside.c[k] : null,
          dx, dh0, dc0,
          dwIh: params.gradient(this.p(`weight_ih${sfx}`)), dwHh: params.gradient(this.p(`weight_hh${sfx}`)),
          dbIh: c.bias ? params.gradient(this.p(`bias_ih${sfx}`)) : null, dbHh: c.bias ? params.gradient(this.p(`bias_hh${sfx}`)) : null,
        });
        if (initGrads) {
          initGrads.h[k] = dh0!;
          if (initGrads.c) initGrads.c[k] = dc0!;
        } else {
          if (dh0) addBatchSum(params.gradient(this.p('h0')).subarray(k * H, (k + 1) * H), dh0, B, H);
          if (dc0) addBatchSum(params.gradient(this.p('c0')).subarray(k * H, (k + 1) * H), dc0, B, H);
        }
      }
      if (lc.mask && dx) for (let i = 0; i < dx.length; i++) dx[i] *= lc.mask[i];
      dOut = dx;
    }
    if (initGrads) ctx.initialStateGrads!.set(this, initGrads);
    return dOut ? { kind: 'seq', data: dOut, T, B, F: this.inputSize, lengths } : null;
  }
}

function mergeHalves(ctx: Ctx, a: HostArray, rows: number, H: number, mean: boolean): HostArray {
  const out = allocLike(ctx.dtype, rows * H), k = mean ? 0.5 : 1;
  for (let r = 0; r < rows; r++) for (let j = 0; j < H; j++) out[r * H + j] = k * (a[r * 2 * H + j] + a[r * 2 * H + H + j]);
  return out;
}
function splitHalves(ctx: Ctx, g: HostArray, rows: number, H: number, mean: boolean): HostArray {
  const out = allocLike(ctx.dtype, rows * 2 * H), k = mean ? 0.5 : 1;
  for (let r = 0; r < rows; r++) for (let j = 0; j < H; j++) { out[r * 2 * H + j] = k * g[r * H + j]; out[r * 2 * H + H + j] = k * g[r * H + j]; }
  return out;
}
function addBatchSum(dst: HostArray, src: HostArray, B: number, H: number) {
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) dst[j] += src[b * H + j];
}

/** Elman network h' = f(W_ih x + b_ih + W_hh h + b_hh) (PyTorch nn.RNN). */
export class SimpleRNN extends Recurrent {
  constructor(options: RecurrentOptions) { super('SimpleRNN', 'elman', options); }
}
/** Long short-term memory (PyTorch nn.LSTM, gates i, f, g, o). */
export class LSTM extends Recurrent {
  constructor(options: RecurrentOptions) { super('LSTM', 'lstm', options); }
}
/** Gated recurrent unit (PyTorch nn.GRU, gates r, z, n). */
export class GRU extends Recurrent {
  constructor(options: RecurrentOptions) { super('GRU', 'gru', options); }
}
export type { Recurrent };
