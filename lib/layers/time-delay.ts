// A time-delay layer (TDNN, Waibel et al. 1989): y_t = act(b + Σ_k W_k x_{t-d_k}) over a set of
// delay taps d_k. One native unfold ([T,B,F] → [T,B,K*F], timeDelayForward), one GEMM over all
// T*B rows (linearForward), the activation op; padding steps are masked to 0 by the same unfold
// with the single tap 0. The weight is stored in PyTorch's Conv1d layout [O, F, K] (docs/tdnn.md).
import { FieldSpec, resolveOptions } from '../options';
import type { Gen } from '../exec';
import type { Tensor } from '../device/tensor';
import { uniform } from '../init';
import type { FlatParameters } from '../params';
import type { Rng } from '../rng';
import { Act, ActShape, Ctx, Layer, SeqAct, expectKind } from './layer';

/** Options of a TimeDelay layer. Give `delays`, or `window` (with `dilation`), not both. */
export interface TimeDelayOptions {
  /** Output features O. Required. */
  units: number;
  /** Distinct non-negative delay taps, e.g. [0, 1, 2, 5]. */
  delays?: number[] | null;
  /** Taps 0, d, 2d, …, (window-1)d (with `dilation` d). */
  window?: number | null;
  /** Spacing of the window's taps (default 1; only with `window`). */
  dilation?: number | null;
  /** 'tanh' (default), 'relu', 'sigmoid' or 'linear'. */
  activation?: 'tanh' | 'relu' | 'sigmoid' | 'linear';
  /** Add a bias (default true). */
  bias?: boolean;
  /** 'glorot' (Keras Conv1D glorot_uniform, zero bias; default) or 'pytorch' (Conv1d's U(±1/sqrt(F*K))). */
  init?: 'glorot' | 'pytorch';
}

export const TIME_DELAY_OPTIONS: Record<keyof TimeDelayOptions, FieldSpec> = {
  units: { type: 'int', min: 1, doc: 'output features O' },
  delays: {
    type: 'ints',
    min: 0,
    max: 65536,
    maxLength: 4096,
    distinct: true,
    default: null,
    nullable: true,
    doc: 'delay taps',
  },
  window: { type: 'int', min: 1, max: 4096, default: null, nullable: true, doc: 'taps 0, d, …, (window-1)d' },
  dilation: { type: 'int', min: 1, max: 65536, default: null, nullable: true, doc: 'spacing d of the window taps' },
  activation: {
    type: 'enum',
    values: ['tanh', 'relu', 'sigmoid', 'linear'],
    default: 'tanh',
    doc: 'activation',
  },
  bias: { type: 'bool', default: true, doc: 'add a bias' },
  init: { type: 'enum', values: ['glorot', 'pytorch'], default: 'glorot', doc: 'weight initializer' },
};

/** The largest delay a layer accepts (its history is [D,B,F]). */
export const MAX_DELAY = 65536;

/**
 * Resolves a TimeDelay's options (schema, then the rules between fields) and returns them with
 * the taps in kernel order: largest delay first, as Conv1d's kernel index runs.
 */
export function resolveTimeDelay(
  what: string,
  options: unknown,
): { config: Required<TimeDelayOptions>; taps: number[] } {
  const c = resolveOptions<Required<TimeDelayOptions>>(what, TIME_DELAY_OPTIONS, options);
  if (c.delays !== null && (c.window !== null || c.dilation !== null))
    throw new RangeError(`${what}: give delays or window (with dilation), not both`);
  if (c.delays === null && c.window === null) {
    if (c.dilation !== null) throw new RangeError(`${what}: dilation needs window`);
    throw new TypeError(`${what}: give delays (e.g. [0, 1, 2]) or window (with dilation)`);
  }
  let taps: number[];
  if (c.delays !== null) taps = c.delays.slice();
  else {
    c.dilation = c.dilation ?? 1;
    if ((c.window! - 1) * c.dilation > MAX_DELAY)
      throw new RangeError(
        `${what}: (window - 1) * dilation must be <= ${MAX_DELAY}, received window ${c.window} and dilation ${c.dilation}`,
      );
    taps = Array.from({ length: c.window! }, (_, k) => k * c.dilation!);
  }
  taps.sort((a, b) => b - a);
  return { config: c, taps };
}

/** Applies to a sequence [T,B,F]: every step sees the input at its delays; padding steps give 0. */
export class TimeDelay extends Layer {
  readonly type = 'TimeDelay';
  readonly config: Required<TimeDelayOptions>;
  /** The taps in kernel order: kernel index j of `weight [O,F,K]` multiplies x_{t - taps[j]}. */
  readonly taps: readonly number[];
  private inFeatures = 0;

  constructor(options: TimeDelayOptions) {
    super();
    const r = resolveTimeDelay('TimeDelay', options);
    this.config = r.config;
    this.taps = r.taps;
  }

  /** Taps K. */
  get K(): number {
    return this.taps.length;
  }
  /** The largest delay D: a history holds the D steps before t = 0. */
  get maxDelay(): number {
    return this.taps[0];
  }

  build(input: ActShape, params: FlatParameters): ActShape {
    if (input.kind !== 'seq')
      throw new TypeError(
        `TimeDelay: expected a seq input, received a ${input.kind} input${input.kind === 'ids' ? ' (add an Embedding first)' : ''}`,
      );
    this.inFeatures = input.F;
    params.add(this.p('weight'), [this.config.units, input.F, this.K]);
    if (this.config.bias) params.add(this.p('bias'), [this.config.units]);
    return { kind: 'seq', F: this.config.units };
  }

  initialize(params: FlatParameters, rng: Rng): void {
    const O = this.config.units,
      F = this.inFeatures,
      K = this.K;
    if (this.config.init === 'pytorch') {
      params.init(this.p('weight'), (w) => uniform(w, 1 / Math.sqrt(F * K), rng));
      if (this.config.bias) params.init(this.p('bias'), (w) => uniform(w, 1 / Math.sqrt(F * K), rng));
    } else {
      params.init(this.p('weight'), (w) => uniform(w, Math.sqrt(6 / (F * K + O * K)), rng));
      if (this.config.bias) params.init(this.p('bias'), () => {});
    }
  }

  private tapsTensor(ctx: Ctx): Tensor {
    return ctx.tape.scratch.constant(this, 'taps', () => Int32Array.from(this.taps));
  }
  private zeroTap(ctx: Ctx): Tensor {
    return ctx.tape.scratch.constant(this, 'tap0', () => Int32Array.from([0]));
  }
  /**
   * Element indices from the stored weight [O,F,K] to the GEMM's layout [O,K,F] (the unfold's
   * columns are tap-major): wGemm[o,k,f] = weight[o,f,k].
   */
  private permutation(ctx: Ctx): Tensor {
    const O = this.config.units,
      F = this.inFeatures,
      K = this.K;
    return ctx.tape.scratch.constant(this, `perm${O}x${F}x${K}`, () => {
      const idx = new Int32Array(O * K * F);
      for (let o = 0; o < O; o++)
        for (let k = 0; k < K; k++) for (let f = 0; f < F; f++) idx[(o * K + k) * F + f] = (o * F + f) * K + k;
      return idx;
    });
  }

  /** The history given for this call ([D,B,F] before t = 0), checked, or null. */
  private history(ctx: Ctx, B: number): Tensor | null {
    const h = ctx.history?.get(this);
    if (!h) return null;
    const D = this.maxDelay,
      F = this.inFeatures;
    if (D === 0)
      throw new RangeError(
        `TimeDelay: the taps [${this.taps.join(', ')}] look at no step before t = 0, so no history can be given (received ${h.size} elements)`,
      );
    if (h.size !== D * B * F)
      throw new RangeError(
        `TimeDelay: history must have ${D * B * F} elements ([D,B,F] = [${D},${B},${F}]: the ${D} steps before t = 0), received ${h.size}`,
      );
    if (h.dtype !== ctx.dtype)
      throw new TypeError(`TimeDelay: history must be ${ctx.dtype} like the input, received ${h.dtype}`);
    return h;
  }

  *forward(x: Act, ctx: Ctx, params: FlatParameters): Gen<Act> {
    const s = expectKind('TimeDelay', x, 'seq');
    if (s.F !== this.inFeatures)
      throw new RangeError(`TimeDelay: expected ${this.inFeatures} input features, received ${s.F}`);
    const { T, B } = s,
      F = this.inFeatures,
      K = this.K,
      O = this.config.units,
      N = T * B;
    const dev = ctx.device;
    const history = this.history(ctx, B);
    const lengths = s.lengths?.dev ?? null;
    const u = this.buffer(ctx, 'unfold', ctx.dtype, N * K * F);
    dev.timeDelayForward({ T, B, F, K, taps: this.tapsTensor(ctx), x: s.data, lengths, history, y: u });
    const w = this.buffer(ctx, 'wGemm', ctx.dtype, O * K * F);
    dev.gatherRows({
      R: O * F * K,
      N: O * K * F,
      F: 1,
      src: params.param(this.p('weight')),
      idx: this.permutation(ctx),
      dst: w,
    });
    const z = this.buffer(ctx, 'z', ctx.dtype, N * O);
    dev.linearForward({
      N,
      I: K * F,
      O,
      x: u,
      weight: w,
      bias: this.config.bias ? params.param(this.p('bias')) : null,
      y: z,
    });
    let a = z;
    if (this.config.activation !== 'linear') {
      a = this.buffer(ctx, 'a', ctx.dtype, N * O);
      dev.activationForward({ kind: this.config.activation, n: N * O, x: z, y: a });
    }
    let y = a;
    if (lengths) {
      // padding steps: the bias (and act(b)) would leak there; the tap-0 unfold writes them 0
      y = this.buffer(ctx, 'y', ctx.dtype, N * O);
      dev.timeDelayForward({ T, B, F: O, K: 1, taps: this.zeroTap(ctx), x: a, lengths, history: null, y });
    }
    if (ctx.training) ctx.tape.record(this, { s, u, w, a, history });
    return { kind: 'seq', data: y, T, B, F: O, lengths: s.lengths };
  }

  *backward(dy: Act, ctx: Ctx, params: FlatParameters): Gen<Act | null> {
    const { s, u, w, a, history } = ctx.tape.take<{
      s: SeqAct;
      u: Tensor;
      w: Tensor;
      a: Tensor;
      history: Tensor | null;
    }>(this, 'TimeDelay');
    if (dy.kind !== 'seq') throw new Error('TimeDelay.backward: expected a seq gradient');
    const { T, B } = s,
      F = this.inFeatures,
      K = this.K,
      O = this.config.units,
      N = T * B;
    const dev = ctx.device;
    const lengths = s.lengths?.dev ?? null;
    let dA = dy.data;
    if (lengths) {
      dA = this.buffer(ctx, 'dA', ctx.dtype, N * O, true);
      dev.timeDelayBackward({ T, B, F: O, K: 1, taps: this.zeroTap(ctx), lengths, dy: dy.data, dx: dA });
    }
    let dZ = dA;
    if (this.config.activation !== 'linear') {
      dZ = this.buffer(ctx, 'dZ', ctx.dtype, N * O, true);
      dev.activationBackward({ kind: this.config.activation, n: N * O, y: a, dy: dA, dx: dZ });
    }
    const wantHistory = history !== null && ctx.historyGrads !== undefined;
    const needU = this.needsInputGrad || wantHistory;
    const dU = needU ? this.buffer(ctx, 'dU', ctx.dtype, N * K * F, true) : null;
    const dW = this.buffer(ctx, 'dWGemm', ctx.dtype, O * K * F, true);
    dev.linearBackward({
      N,
      I: K * F,
      O,
      x: u,
      weight: w,
      dy: dZ,
      dx: dU,
      dWeight: dW,
      dBias: this.config.bias ? params.gradient(this.p('bias')) : null,
    });
    dev.scatterAddRows({
      R: O * F * K,
      N: O * K * F,
      F: 1,
      src: dW,
      idx: this.permutation(ctx),
      dst: params.gradient(this.p('weight')),
    });
    if (!dU) return null;
    const dx = this.needsInputGrad ? this.buffer(ctx, 'dx', ctx.dtype, N * F, true) : null;
    const dHistory = wantHistory ? this.buffer(ctx, 'dHistory', ctx.dtype, history!.size, true) : null;
    dev.timeDelayBackward({ T, B, F, K, taps: this.tapsTensor(ctx), lengths, dy: dU, dx, dHistory });
    if (dHistory) ctx.historyGrads!.set(this, dHistory);
    return dx ? { ...s, data: dx } : null;
  }
}
