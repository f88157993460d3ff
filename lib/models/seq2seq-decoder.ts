// The decoder of a Seq2Seq, one step at a time for greedy decoding, beam search and scoring:
// every buffer is allocated once per decoding call and reused by every step (views of the
// rows a step has), the recurrent stack steps from its state (no re-run over the prefix), and
// only each row's best log-probabilities (or one row's all) and attention leave the device.
import type { CpuDevice, FusedDecoder } from '../device/cpu';
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import type { FlatParameters } from '../params';
import type { AttentionStepBuffers, LuongAttention } from '../layers/attention';
import type { Embedding } from '../layers/embedding';
import type { RecurrentState, SeqAct } from '../layers/layer';
import type { Linear } from '../layers/linear';
import type { Recurrent, StepState } from '../layers/recurrent';

export interface DecoderParts {
  params: FlatParameters;
  embedding: Embedding;
  rnn: Recurrent;
  attention: LuongAttention | null;
  head: Linear;
  /** Target vocabulary size. */
  V: number;
}

/** Views of the buffers for a step of R rows. */
interface RowViews {
  ids: Tensor;
  parents: Tensor;
  emb: Tensor;
  states: [StepState, StepState];
  att: AttentionStepBuffers | null;
  logits: Tensor;
  lp: Tensor;
  values: Tensor | null;
  indices: Tensor | null;
}

/** What a step hands the host: per row its k best log-probabilities and tokens, or all V. */
export interface StepOut {
  R: number;
  /** [R,k] best log-probabilities, descending (top given), else null. */
  values: ArrayLike<number> | null;
  indices: ArrayLike<number> | null;
  /** [R,V] log-probabilities (no top), else null. */
  logp: ArrayLike<number> | null;
  /** [R,S] attention weights, null without attention. */
  alpha: ArrayLike<number> | null;
}

export class DecoderSteps {
  private readonly dev: Device;
  private readonly H: number;
  private readonly E: number;
  private readonly S: number;
  private readonly He: number;
  private readonly full: {
    ids: Tensor;
    parents: Tensor;
    emb: Tensor;
    states: [StepState, StepState];
    att: AttentionStepBuffers | null;
    logits: Tensor;
    lp: Tensor;
    values: Tensor | null;
    indices: Tensor | null;
  };
  private readonly views = new Map<number, RowViews>();
  private readonly host: Int32Array;
  /** The state after the last step: the encoder's (init) or one of the two buffers. */
  private cur: StepState;
  private curSet = -1;
  /** The CPU device's fused step (one native call per step), null elsewhere. */
  private readonly fused: FusedDecoder | null;

  constructor(
    private readonly p: DecoderParts,
    init: RecurrentState,
    maxRows: number,
    S: number,
    private readonly top: number | null,
  ) {
    const dev = (this.dev = p.params.device),
      dt = p.params.dtype;
    const H = (this.H = p.rnn.config.hiddenSize),
      E = (this.E = p.embedding.config.embeddingDim),
      L = p.rnn.config.numLayers,
      V = p.V;
    this.S = S;
    const lstm = p.rnn.cell === 'lstm';
    const He = (this.He = p.attention ? p.attention.encoderSize : 0);
    const k = top === null ? 0 : Math.min(top, V);
    // Two allocations (float, int32) cut into the buffers: a tensor allocation costs about as
    // much as a decoder step at batch 1.
    const floats = E + 2 * L * H * (lstm ? 2 : 1) + (p.attention ? S + He + (He + H) + 2 * H : 0) + 2 * V + k;
    const fblock = dev.alloc(dt, [maxRows * floats]),
      iblock = dev.alloc('int32', [maxRows * (2 + k)]);
    let fo = 0,
      io = 0;
    const f = (n: number) => {
      const t = dev.view(fblock, fo, [maxRows * n]);
      fo += maxRows * n;
      return t;
    };
    const ints = (n: number) => {
      const t = dev.view(iblock, io, [maxRows * n]);
      io += maxRows * n;
      return t;
    };
    const state = (): StepState => ({
      h: Array.from({ length: L }, () => f(H)),
      c: lstm ? Array.from({ length: L }, () => f(H)) : null,
    });
    this.full = {
      ids: ints(1),
      parents: ints(1),
      emb: f(E),
      states: [state(), state()],
      att: p.attention ? { alpha: f(S), context: f(He), cat: f(He + H), pre: f(H), out: f(H) } : null,
      logits: f(V),
      lp: f(V),
      values: k ? f(k) : null,
      indices: k ? ints(k) : null,
    };
    this.host = new Int32Array(maxRows);
    this.cur = { h: init.h, c: init.c };
    this.fused = this.fuse(init, maxRows, k);
  }

  private fuse(init: RecurrentState, maxRows: number, k: number): FusedDecoder | null {
    const fd = (this.dev as Partial<Pick<CpuDevice, 'fusedDecoder'>>).fusedDecoder;
    if (!fd) return null;
    const { p, H, E, S, He, full } = this;
    const w = p.rnn.stepWeights(p.params),
      head = p.head.weights(p.params),
      c = p.rnn.config;
    if (w.I !== E || head.I !== H) return null;
    const a = full.att;
    return fd.call(this.dev, {
      cell: p.rnn.cell,
      ...(p.rnn.cell === 'elman' ? { activation: c.activation } : {}),
      ...(p.rnn.cell === 'gru' ? { gruVariant: c.gruVariant } : {}),
      L: c.numLayers,
      H,
      E,
      Vin: p.embedding.config.numEmbeddings,
      V: p.V,
      maxRows,
      S: a ? S : 0,
      He: a ? He : 0,
      k,
      R0: init.h[0].size / H,
      wEmb: p.embedding.table(p.params),
      wIh: w.wIh,
      wHh: w.wHh,
      bIh: w.bIh,
      bHh: w.bHh,
      h0: init.h,
      c0: init.c,
      wC: p.attention ? p.attention.combineWeight(p.params) : null,
      wOut: head.weight,
      bOut: head.bias,
      ids: full.ids,
      parents: full.parents,
      emb: full.emb,
      hA: full.states[0].h,
      hB: full.states[1].h,
      cA: full.states[0].c,
      cB: full.states[1].c,
      alpha: a ? a.alpha : null,
      context: a ? a.context : null,
      cat: a ? a.cat : null,
      pre: a ? a.pre : null,
      out: a ? a.out : null,
      logits: full.logits,
      lp: full.lp,
      values: full.values,
      indices: full.indices,
    });
  }

  private rows(R: number): RowViews {
    let v = this.views.get(R);
    if (v) return v;
    const d = this.dev,
      fu = this.full,
      H = this.H;
    const cut = (t: Tensor, n: number) => d.view(t, 0, [R * n]);
    const st = (s: StepState): StepState => ({
      h: s.h.map((t) => cut(t, H)),
      c: s.c ? s.c.map((t) => cut(t, H)) : null,
    });
    const k = this.top === null ? 0 : Math.min(this.top, this.p.V);
    const a = fu.att;
    v = {
      ids: cut(fu.ids, 1),
      parents: cut(fu.parents, 1),
      emb: cut(fu.emb, this.E),
      states: [st(fu.states[0]), st(fu.states[1])],
      att: a
        ? {
            alpha: cut(a.alpha, this.S),
            context: cut(a.context, this.He),
            cat: cut(a.cat, this.He + H),
            pre: cut(a.pre, H),
            out: cut(a.out, H),
          }
        : null,
      logits: cut(fu.logits, this.p.V),
      lp: cut(fu.lp, this.p.V),
      values: fu.values ? cut(fu.values, k) : null,
      indices: fu.indices ? cut(fu.indices, k) : null,
    };
    this.views.set(R, v);
    return v;
  }

  /**
   * One step of R rows: row r feeds tokens[r] and continues the state of row parents[r] of the
   * previous step (parents null: row r's own). enc and keys: the encoder columns of the rows.
   */
  step(
    tokens: ArrayLike<number>,
    R: number,
    parents: ArrayLike<number> | null,
    enc: SeqAct,
    keys: Tensor | null,
  ): StepOut {
    const { dev, p, H } = this;
    const v = this.rows(R);
    for (let r = 0; r < R; r++) this.host[r] = tokens[r];
    dev.write(v.ids, this.host.subarray(0, R));
    if (this.fused) {
      if (parents) {
        for (let r = 0; r < R; r++) this.host[r] = parents[r];
        dev.write(v.parents, this.host.subarray(0, R));
      }
      this.fused.step(
        R,
        parents !== null,
        p.attention ? enc.data : null,
        p.attention ? keys : null,
        enc.lengths?.dev ?? null,
      );
      return this.results(v, R);
    }
    p.embedding.lookupInto(p.params, v.ids, R, v.emb);
    let from = this.cur;
    if (parents) {
      // the parents' states gathered into one buffer set, the step written into the other
      for (let r = 0; r < R; r++) this.host[r] = parents[r];
      dev.write(v.parents, this.host.subarray(0, R));
      const gi = this.curSet === 0 ? 1 : 0;
      const g = v.states[gi];
      const gather = (src: Tensor, dst: Tensor) =>
        dev.gatherRows({ R: src.size / H, N: R, F: H, src, idx: v.parents, dst });
      from.h.forEach((t, l) => gather(t, g.h[l]));
      if (from.c) from.c.forEach((t, l) => gather(t, g.c![l]));
      from = g;
      this.curSet = 1 - gi;
    } else this.curSet = this.curSet === 0 ? 1 : 0;
    const to = v.states[this.curSet];
    p.rnn.stepInto(p.params, v.emb, R, from, to);
    this.cur = to;
    let out = to.h[to.h.length - 1];
    if (p.attention) {
      p.attention.stepInto(p.params, out, R, enc, keys!, v.att!);
      out = v.att!.out;
    }
    p.head.applyInto(p.params, out, R, v.logits);
    const V = p.V;
    dev.logSoftmaxRows({ N: R, C: V, x: v.logits, y: v.lp });
    if (v.values && v.indices)
      dev.topkRows({ N: R, C: V, k: v.values.size / R, x: v.lp, values: v.values, indices: v.indices });
    return this.results(v, R);
  }

  /** What the host reads of a step's buffers. */
  private results(v: RowViews, R: number): StepOut {
    const dev = this.dev;
    let values: ArrayLike<number> | null = null,
      indices: ArrayLike<number> | null = null,
      logp: ArrayLike<number> | null = null;
    if (v.values && v.indices) {
      values = dev.toHostSync(v.values);
      indices = dev.toHostSync(v.indices);
    } else logp = dev.toHostSync(v.lp);
    const alpha = v.att ? dev.toHostSync(v.att.alpha) : null;
    return { R, values, indices, logp, alpha };
  }
}

/** Row r of a host [R,n] array, as numbers (the step's buffers are reused by the next step). */
export function rowOf(a: ArrayLike<number>, r: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let j = 0; j < n; j++) out[j] = a[r * n + j];
  return out;
}
