// SimpleRNN, LSTM and GRU layers: a stack of numLayers recurrent layers, each optionally
// bidirectional (both directions write into one [T,B,2H] buffer), with dropout between layers.
// Parameter names, shapes and gate order are PyTorch's (docs/conventions.md).
import { FieldSpec, resolveOptions } from '../options';
import type { Gen } from '../exec';
import { glorotUniform, identityBlocks, orthogonalBlocks, uniform } from '../init';
import { cellInfo } from '../cells/table';
import { Tensor } from '../device/tensor';
import type { RnnSpec } from '../native';
import type { FlatParameters } from '../params';
import { recurrentParameterShapes } from '../params';
import type { Rng } from '../rng';
import { Act, ActShape, Ctx, Layer, RecurrentState, SeqAct, expectKind } from './layer';

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
  recurrentInit: {
    type: 'enum',
    values: ['orthogonal', 'identity'],
    default: 'orthogonal',
    doc: 'recurrent initializer',
  },
  forgetBias: { type: 'number', min: -20, max: 20, default: 1, doc: 'LSTM initial forget-gate bias' },
  activation: { type: 'enum', values: ['tanh', 'relu', 'sigmoid'], default: 'tanh', doc: 'SimpleRNN activation' },
  gruVariant: { type: 'enum', values: ['pytorch', 'original'], default: 'pytorch', doc: 'GRU variant' },
};

/** The state of a whole stack between step() calls: per layer [B,H] (c: LSTM only). */
export interface StepState {
  h: Tensor[];
  c: Tensor[] | null;
}
/** What step() returns: the top layer's new h [B,H] (the tensor state.h[numLayers-1]) and the new state. */
export interface StepResult {
  output: Tensor;
  state: StepState;
}

interface LayerCache {
  input: Tensor; // [T,B,in]
  inF: number;
  out: Tensor; // [T,B,D*H]
  mask: Tensor | null; // dropout mask applied to this layer's input
  reserves: Tensor[];
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
    if (cell !== 'elman' && options.activation !== undefined)
      throw new RangeError(`${type}: activation applies to SimpleRNN only`);
    if (cell !== 'gru' && options.gruVariant !== undefined)
      throw new RangeError(`${type}: gruVariant applies to GRU only`);
    if (cell !== 'lstm' && options.forgetBias !== undefined)
      throw new RangeError(`${type}: forgetBias applies to LSTM only`);
  }

  get directions(): number {
    return this.config.bidirectional ? 2 : 1;
  }
  /** Feature size of the output. */
  get outputSize(): number {
    return this.config.bidirectional && this.config.merge === 'concat'
      ? 2 * this.config.hiddenSize
      : this.config.hiddenSize;
  }

  build(input: ActShape, params: FlatParameters): ActShape {
    if (input.kind !== 'seq')
      throw new TypeError(
        `${this.type}: expected a seq input, received a ${input.kind} input${input.kind === 'ids' ? ' (add an Embedding first)' : ''}`,
      );
    this.inputSize = input.F;
    const c = this.config;
    for (const [n, shape] of recurrentParameterShapes({
      cell: this.cell,
      inputSize: input.F,
      hiddenSize: c.hiddenSize,
      numLayers: c.numLayers,
      bidirectional: c.bidirectional,
      bias: c.bias,
    })) {
      params.add(this.p(n), shape);
    }
    if (c.initialState === 'learnable') {
      params.add(this.p('h0'), [c.numLayers * this.directions, c.hiddenSize]);
      if (this.cell === 'lstm') params.add(this.p('c0'), [c.numLayers * this.directions, c.hiddenSize]);
    }
    return { kind: c.returnSequences ? 'seq' : 'vec', F: this.outputSize };
  }

  initialize(params: FlatParameters, rng: Rng): void {
    const c = this.config,
      H = c.hiddenSize,
      G = cellInfo(this.cell).gates;
    for (let l = 0; l < c.numLayers; l++) {
      const inF = l === 0 ? this.inputSize : H * this.directions;
      for (let d = 0; d < this.directions; d++) {
        const s = this.suffix(l, d);
        const wih = this.p(`weight_ih${s}`),
          whh = this.p(`weight_hh${s}`);
        const bih = this.p(`bias_ih${s}`),
          bhh = this.p(`bias_hh${s}`);
        if (c.init === 'pytorch') {
          const k = 1 / Math.sqrt(H);
          params.init(wih, (w) => uniform(w, k, rng));
          params.init(whh, (w) => uniform(w, k, rng));
          if (c.bias) {
            params.init(bih, (w) => uniform(w, k, rng));
            params.init(bhh, (w) => uniform(w, k, rng));
          }
        } else {
          params.init(wih, (w) => glorotUniform(w, G * H, inF, rng));
          params.init(whh, (w) => {
            if (c.recurrentInit === 'identity') identityBlocks(w, G, H);
            else orthogonalBlocks(w, G, H, rng);
          });
          if (c.bias) {
            params.init(bih, (w) => {
              if (this.cell === 'lstm') w.fill(c.forgetBias, H, 2 * H);
            });
            params.init(bhh, () => {});
          }
        }
      }
    }
    if (c.initialState === 'learnable') {
      params.init(this.p('h0'), () => {});
      if (this.cell === 'lstm') params.init(this.p('c0'), () => {});
    }
  }

  private suffix(l: number, d: number): string {
    return `_l${l}${d ? '_reverse' : ''}`;
  }
  private spec(T: number, B: number, I: number, d: number): RnnSpec {
    const c = this.config;
    return {
      cell: this.cell,
      T,
      B,
      I,
      H: c.hiddenSize,
      reverse: d === 1,
      ...(this.directions === 2 ? { yStride: 2 * c.hiddenSize } : {}),
      ...(this.cell === 'elman' ? { activation: c.activation } : {}),
      ...(this.cell === 'gru' ? { gruVariant: c.gruVariant } : {}),
    };
  }

  /** [B] copies of one row index (broadcasting a learnable state, summing its gradient). */
  private rowIndex(ctx: Ctx, k: number, B: number): Tensor {
    return ctx.tape.scratch.constant(this, `row${k}x${B}`, () => new Int32Array(B).fill(k));
  }

  /** Initial state of (layer, direction) as [B,H], or null for zeros. */
  private initial(ctx: Ctx, params: FlatParameters, which: 'h' | 'c', k: number, B: number): Tensor | null {
    const H = this.config.hiddenSize,
      L = this.config.numLayers * this.directions;
    const given = ctx.initialStates.get(this);
    if (given) {
      const arr = which === 'h' ? given.h : given.c;
      if (arr && arr[k]) {
        if (arr[k].size !== B * H)
          throw new RangeError(
            `${this.type}: initial ${which} state ${k} must have ${B * H} elements ([B,H]), received ${arr[k].size}`,
          );
        return arr[k];
      }
    }
    if (this.config.initialState !== 'learnable') return null;
    const out = this.buffer(ctx, `init${which}${k}`, ctx.dtype, B * H);
    ctx.device.gatherRows({
      R: L,
      N: B,
      F: H,
      src: params.param(this.p(which === 'h' ? 'h0' : 'c0')),
      idx: this.rowIndex(ctx, k, B),
      dst: out,
    });
    return out;
  }

  *forward(x: Act, ctx: Ctx, params: FlatParameters): Gen<Act> {
    const s = expectKind(this.type, x, 'seq');
    if (s.F !== this.inputSize)
      throw new RangeError(`${this.type}: expected ${this.inputSize} input features, received ${s.F}`);
    const c = this.config,
      H = c.hiddenSize,
      D = this.directions,
      { T, B } = s;
    const dev = ctx.device;
    const lstm = this.cell === 'lstm';
    const layers: LayerCache[] = [];
    const final: RecurrentState = { h: [], c: lstm ? [] : null };
    let inp = s.data,
      inF = s.F;
    for (let l = 0; l < c.numLayers; l++) {
      let mask: Tensor | null = null;
      if (l > 0 && c.dropout > 0 && ctx.training) {
        const n = inp.size;
        mask = this.buffer(ctx, `mask${l}`, ctx.dtype, n);
        dev.dropoutMask({ p: c.dropout, seed: ctx.rng.seed(), mask });
        const dropped = this.buffer(ctx, `dropped${l}`, ctx.dtype, n);
        dev.mul({ n, x: inp, y: mask, out: dropped });
        inp = dropped;
      }
      const out = this.buffer(ctx, `out${l}`, ctx.dtype, T * B * D * H);
      const reserves: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const sp = this.spec(T, B, inF, d),
          sfx = this.suffix(l, d),
          k = l * D + d;
        // Final states are handed out through ctx.finalStates: valid until the call ends
        // (truncated BPTT copies them before the next window).
        const hN = this.buffer(ctx, `hN${k}`, ctx.dtype, B * H),
          cN = lstm ? this.buffer(ctx, `cN${k}`, ctx.dtype, B * H) : null;
        const reserve = ctx.training ? this.buffer(ctx, `reserve${k}`, ctx.dtype, dev.rnnReserveSize(sp)) : null;
        yield ctx.exec.rnnForward({
          ...sp,
          x: inp,
          lengths: s.lengths?.dev ?? null,
          h0: this.initial(ctx, params, 'h', k, B),
          c0: lstm ? this.initial(ctx, params, 'c', k, B) : null,
          wIh: params.param(this.p(`weight_ih${sfx}`)),
          wHh: params.param(this.p(`weight_hh${sfx}`)),
          bIh: c.bias ? params.param(this.p(`bias_ih${sfx}`)) : null,
          bHh: c.bias ? params.param(this.p(`bias_hh${sfx}`)) : null,
          y: d ? dev.view(out, H, [out.size - H]) : out,
          hN,
          cN,
          reserve,
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
    const merged = (a: Tensor, rows: number) => {
      if (merge === 'concat') return a;
      const y = this.buffer(ctx, 'merged', ctx.dtype, rows * H);
      dev.mergeHalves({ N: rows, H, mode: merge, x: a, y });
      return y;
    };
    if (c.returnSequences)
      return { kind: 'seq', data: merged(top, T * B), T, B, F: this.outputSize, lengths: s.lengths };
    const L = c.numLayers;
    const hTop = D === 1 ? final.h[L - 1] : this.buffer(ctx, 'hTop', ctx.dtype, B * D * H);
    if (D === 2) {
      for (let d = 0; d < D; d++) {
        dev.copyCols({
          N: B,
          srcF: H,
          srcOffset: 0,
          width: H,
          src: final.h[(L - 1) * D + d],
          dstF: D * H,
          dstOffset: d * H,
          dst: hTop,
        });
      }
    }
    return { kind: 'vec', data: merged(hTop, B), B, F: this.outputSize };
  }

  /**
   * One time step of the whole stack, for inference (no dropout): x [B,I] and the state after
   * the previous step (default: the layer's initial state) give the new state, in new tensors.
   * Stepping T times equals forward over the T steps; nothing is re-run over the prefix.
   */
  step(params: FlatParameters, x: Tensor, state?: StepState | null): StepResult {
    const where = `${this.type}.step`;
    const c = this.config,
      H = c.hiddenSize,
      L = c.numLayers,
      lstm = this.cell === 'lstm';
    if (c.bidirectional)
      throw new Error(
        `${where}: a bidirectional layer cannot step (its reverse direction reads the sequence from the end); run forward over the whole sequence`,
      );
    if (!(x instanceof Tensor))
      throw new TypeError(
        `${where}: x must be a Tensor of shape [B, ${this.inputSize}], received ${x === null ? 'null' : typeof x}`,
      );
    if (x.shape.length !== 2 || x.shape[1] !== this.inputSize || x.shape[0] < 1)
      throw new RangeError(`${where}: x must have shape [B, ${this.inputSize}], received [${x.shape.join(', ')}]`);
    if (x.dtype !== params.dtype)
      throw new TypeError(`${where}: x must be ${params.dtype} (the parameters' dtype), received ${x.dtype}`);
    const B = x.shape[0];
    if (state != null) {
      const check = (arr: unknown, which: 'h' | 'c') => {
        if (!Array.isArray(arr) || arr.length !== L)
          throw new TypeError(
            `${where}: state.${which} must be an array of ${L} tensors (one per layer), received ` +
              (Array.isArray(arr) ? `an array of ${arr.length}` : arr === null ? 'null' : typeof arr),
          );
        arr.forEach((t: unknown, l) => {
          if (!(t instanceof Tensor))
            throw new TypeError(
              `${where}: state.${which}[${l}] must be a Tensor, received ${t === null ? 'null' : typeof t}`,
            );
          if (t.size !== B * H)
            throw new RangeError(
              `${where}: state.${which}[${l}] must have ${B * H} elements ([B,H] with the batch B=${B} of x), ` +
                `received ${t.size} (shape [${t.shape.join(', ')}])`,
            );
          if (t.dtype !== params.dtype)
            throw new TypeError(`${where}: state.${which}[${l}] must be ${params.dtype}, received ${t.dtype}`);
        });
      };
      check(state.h, 'h');
      if (lstm) check(state.c, 'c');
      else if (state.c != null)
        throw new TypeError(`${where}: state.c must be null for ${this.type} (only LSTM has a cell state)`);
    }
    const dev = params.device;
    const alloc = () => Array.from({ length: L }, () => dev.alloc(params.dtype, [B, H]));
    const to: StepState = { h: alloc(), c: lstm ? alloc() : null };
    try {
      this.stepInto(params, x, B, state ?? null, to);
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code !== 'ERR_RNNKIT_NON_FINITE') throw e;
      const r = new RangeError(`${where}: x and the state must be finite (${err.message})`);
      (r as RangeError & { code?: string }).code = err.code;
      throw r;
    }
    return { output: to.h[L - 1], state: to };
  }

  /**
   * @internal step() into buffers the caller owns (decoders reuse them across steps): `from`
   * (null: the initial state) is read, `to` written; they must not share memory. Unchecked
   * beyond what the kernels check.
   */
  /** @internal the forward direction's weights, one entry per layer (the fused decoder step). */
  stepWeights(params: FlatParameters): {
    I: number;
    wIh: Tensor[];
    wHh: Tensor[];
    bIh: Tensor[] | null;
    bHh: Tensor[] | null;
  } {
    const L = this.config.numLayers,
      bias = this.config.bias;
    const each = (name: string) =>
      Array.from({ length: L }, (_, l) => params.param(this.p(`${name}${this.suffix(l, 0)}`)));
    return {
      I: this.inputSize,
      wIh: each('weight_ih'),
      wHh: each('weight_hh'),
      bIh: bias ? each('bias_ih') : null,
      bHh: bias ? each('bias_hh') : null,
    };
  }

  stepInto(params: FlatParameters, x: Tensor, B: number, from: StepState | null, to: StepState): void {
    const c = this.config,
      H = c.hiddenSize,
      dev = params.device,
      lstm = this.cell === 'lstm';
    let h0: Tensor[] | null = from ? from.h : null,
      c0: Tensor[] | null = from ? from.c : null;
    if (!from && c.initialState === 'learnable') {
      const L = c.numLayers;
      const rows = (name: string) =>
        Array.from({ length: L }, (_, l) => {
          const t = dev.alloc(params.dtype, [B * H]);
          const idx = dev.fromHost(new Int32Array(B).fill(l));
          dev.gatherRows({ R: L, N: B, F: H, src: params.param(this.p(name)), idx, dst: t });
          return t;
        });
      h0 = rows('h0');
      if (lstm) c0 = rows('c0');
    }
    let inp = x,
      inF = this.inputSize;
    for (let l = 0; l < c.numLayers; l++) {
      const sfx = this.suffix(l, 0);
      dev.rnnForward({
        cell: this.cell,
        T: 1,
        B,
        I: inF,
        H,
        ...(this.cell === 'elman' ? { activation: c.activation } : {}),
        ...(this.cell === 'gru' ? { gruVariant: c.gruVariant } : {}),
        x: inp,
        h0: h0 ? h0[l] : null,
        c0: lstm && c0 ? c0[l] : null,
        wIh: params.param(this.p(`weight_ih${sfx}`)),
        wHh: params.param(this.p(`weight_hh${sfx}`)),
        bIh: c.bias ? params.param(this.p(`bias_ih${sfx}`)) : null,
        bHh: c.bias ? params.param(this.p(`bias_hh${sfx}`)) : null,
        // at T = 1 the output is the new h
        y: to.h[l],
        cN: lstm ? to.c![l] : null,
      });
      inp = to.h[l];
      inF = H;
    }
  }

  *backward(dy: Act, ctx: Ctx, params: FlatParameters): Gen<Act | null> {
    const cache = ctx.tape.take<{ x: SeqAct; layers: LayerCache[] }>(this, this.type);
    if (dy.kind === 'ids') throw new Error(`${this.type}.backward: unexpected ids`);
    const c = this.config,
      H = c.hiddenSize,
      D = this.directions,
      { T, B, lengths } = cache.x;
    const dev = ctx.device;
    const lstm = this.cell === 'lstm';
    const merge = D === 2 ? c.merge : 'concat';
    const split = (g: Tensor, rows: number) => {
      if (merge === 'concat') return g;
      const full = this.buffer(ctx, 'dsplit', ctx.dtype, rows * 2 * H, true);
      dev.splitHalvesBackward({ N: rows, H, mode: merge, dy: g, dx: full });
      return full;
    };
    // Gradient w.r.t. the top layer's [T,B,D*H] output, or w.r.t. its final states.
    let dOut: Tensor | null = null;
    let dTopStates: Tensor[] | null = null;
    if (c.returnSequences) {
      dOut = split(dy.data, T * B);
    } else {
      const full = split(dy.data, B);
      if (D === 1) dTopStates = [full];
      else {
        dTopStates = [];
        for (let d = 0; d < D; d++) {
          const g = this.buffer(ctx, `dtop${d}`, ctx.dtype, B * H);
          dev.copyCols({ N: B, srcF: D * H, srcOffset: d * H, width: H, src: full, dstF: H, dstOffset: 0, dst: g });
          dTopStates.push(g);
        }
      }
    }
    const outside = ctx.finalStateGrads?.get(this);
    const given = ctx.initialStates.get(this);
    const initGrads: RecurrentState | null = given && ctx.initialStateGrads ? { h: [], c: lstm ? [] : null } : null;
    const L = c.numLayers * D;
    for (let l = c.numLayers - 1; l >= 0; l--) {
      const lc = cache.layers[l];
      const dx = l > 0 || this.needsInputGrad ? this.buffer(ctx, `dx${l}`, ctx.dtype, T * B * lc.inF, true) : null;
      for (let d = 0; d < D; d++) {
        const sp = this.spec(T, B, lc.inF, d),
          sfx = this.suffix(l, d),
          k = l * D + d;
        const learn = c.initialState === 'learnable' && !given;
        const want = learn || initGrads !== null;
        const dh0 = want ? this.buffer(ctx, `dh0${k}`, ctx.dtype, B * H) : null;
        const dc0 = want && lstm ? this.buffer(ctx, `dc0${k}`, ctx.dtype, B * H) : null;
        let dhN: Tensor | null = dTopStates && l === c.numLayers - 1 ? dTopStates[d] : null;
        if (outside?.h[k]) {
          if (dhN) {
            const sum = this.buffer(ctx, `dhN${k}`, ctx.dtype, B * H);
            dev.copy(dhN, sum);
            dev.axpby({ n: B * H, a: 1, x: outside.h[k], b: 1, y: sum });
            dhN = sum;
          } else dhN = outside.h[k];
        }
        yield ctx.exec.rnnBackward({
          ...sp,
          x: lc.input,
          lengths: lengths?.dev ?? null,
          wIh: params.param(this.p(`weight_ih${sfx}`)),
          wHh: params.param(this.p(`weight_hh${sfx}`)),
          reserve: lc.reserves[d],
          dy: dOut ? (d ? dev.view(dOut, H, [dOut.size - H]) : dOut) : null,
          dhN,
          dcN: lstm && outside?.c?.[k] ? outside.c[k] : null,
          dx,
          dh0,
          dc0,
          dwIh: params.gradient(this.p(`weight_ih${sfx}`)),
          dwHh: params.gradient(this.p(`weight_hh${sfx}`)),
          dbIh: c.bias ? params.gradient(this.p(`bias_ih${sfx}`)) : null,
          dbHh: c.bias ? params.gradient(this.p(`bias_hh${sfx}`)) : null,
        });
        if (initGrads) {
          initGrads.h[k] = dh0!;
          if (initGrads.c) initGrads.c[k] = dc0!;
        } else {
          // the learnable state was broadcast to every row: its gradient is the sum over rows
          if (dh0)
            dev.scatterAddRows({
              R: L,
              N: B,
              F: H,
              src: dh0,
              idx: this.rowIndex(ctx, k, B),
              dst: params.gradient(this.p('h0')),
            });
          if (dc0)
            dev.scatterAddRows({
              R: L,
              N: B,
              F: H,
              src: dc0,
              idx: this.rowIndex(ctx, k, B),
              dst: params.gradient(this.p('c0')),
            });
        }
      }
      if (lc.mask && dx) {
        const masked = this.buffer(ctx, `dxm${l}`, ctx.dtype, dx.size);
        dev.mul({ n: dx.size, x: dx, y: lc.mask, out: masked });
        dOut = masked;
      } else dOut = dx;
    }
    if (initGrads) ctx.initialStateGrads!.set(this, initGrads);
    return dOut ? { kind: 'seq', data: dOut, T, B, F: this.inputSize, lengths } : null;
  }
}

/** Elman network h' = f(W_ih x + b_ih + W_hh h + b_hh) (PyTorch nn.RNN). */
export class SimpleRNN extends Recurrent {
  constructor(options: RecurrentOptions) {
    super('SimpleRNN', 'elman', options);
  }
}
/** Long short-term memory (PyTorch nn.LSTM, gates i, f, g, o). */
export class LSTM extends Recurrent {
  constructor(options: RecurrentOptions) {
    super('LSTM', 'lstm', options);
  }
}
/** Gated recurrent unit (PyTorch nn.GRU, gates r, z, n). */
export class GRU extends Recurrent {
  constructor(options: RecurrentOptions) {
    super('GRU', 'gru', options);
  }
}
export { Recurrent };
