// NARX: nonlinear autoregressive model with exogenous inputs (Leontaritis & Billings 1985;
// MATLAB's narxnet):
//   y_t = f(x_{t-d} for d in inputDelays, y_{t-k} for k in feedbackDelays)
// with f a feed-forward network (Linear, activation, …, Linear). Its input row is the
// concatenation, in the order the delays are given, of x_{t-d} (inputSize features each) and then
// y_{t-k} (outputSize features each). inputSize 0 makes it a NAR model.
//
// Open loop (series-parallel): the true past outputs are fed back, every predicted step is an
// independent row, and one batch is many rows. Closed loop (parallel): the model's own
// predictions are fed back, and training backpropagates through the feedback (BPTT over a
// segment: the network is applied once per step on the call's tape, and the gradient of each
// prediction collects what later steps send back through their feedback columns).
import { inspect } from 'util';
import type { DeviceOption } from '../device/default';
import { inspectText, layerRows, summaryTable } from './summary';
import { loadCheckpoint, loadCheckpointSync, saveCheckpoint, saveCheckpointSync } from '../checkpoint';
import type { Checkpoint, CheckpointTensor } from '../checkpoint';
import { loadDevice, resolveDevice } from '../device/default';
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import { Gen, runAsync, runSync } from '../exec';
import { Scratch, ScratchPool } from '../graph/tape';
import { reading, readingSync, WeightsLock } from '../graph/weights-lock';
import type { Ctx, SeqAct, VecAct } from '../layers/layer';
import { callContext } from '../layers/layer';
import { Linear } from '../layers/linear';
import { FieldSpec, optionsObject, resolveOptions } from '../options';
import { parameterTensors } from '../params';
import { Rng } from '../rng';
import { Sequential } from '../sequential';
import { checkTaps } from '../timeseries/windows';
import { MinMaxScaler, scalerFromJSON, StandardScaler } from '../timeseries/scalers';
import type { ScalerJSON } from '../timeseries/scalers';
import { lengthsOn } from '../train/data';
import { FitOptions, History, Metrics, resolveFit } from '../train/fit-options';
import { computeLoss } from '../train/losses';
import { isNonFiniteInput } from '../train/pipeline';
import { BatchStats, emptyStats, FitJob, oneUpdate, StepRunner, Trainer } from '../train/trainer';
import { checkResolved, initializing, ModelFile, readParameters, withoutInit } from './file-checks';
import { modelMemoryInfo, type ModelMemoryInfo } from './memory-info';
import { MODEL_FORMAT, MODEL_META_KEYS, modelMeta } from './persistence';

export interface NARXOptions {
  /** Exogenous input features per step (0 or omitted: a NAR model, no inputs). */
  inputSize?: number;
  /** Output features per step. Required. */
  outputSize: number;
  /** Delays of the input, each >= 0, distinct (default [1, 2] with inputs, [] without; MATLAB's inputDelays). */
  inputDelays?: number[];
  /** Delays of the fed-back output, each >= 1, distinct (default [1, 2]; MATLAB's feedbackDelays). */
  feedbackDelays?: number[];
  /** Hidden layer sizes of f (default [10]). */
  hiddenSizes?: number[];
  /** Activation of the hidden layers (default 'tanh'); the output layer is linear. */
  activation?: 'tanh' | 'sigmoid' | 'relu';
  /** Per-feature scaling of inputs and targets, fitted on the first fit's data (default 'minmax', to [-1, 1]). */
  scaler?: 'standard' | 'minmax' | null;
  /** Default mode of fit ('open' default; closeLoop() returns a model with 'closed'). */
  loop?: 'open' | 'closed';
  seed?: number;
  dtype?: 'float32' | 'float64';
  /** Where tensors live and ops run (default: the default device). Not stored in model files. */
  device?: DeviceOption;
}

/** One series: inputs [T][inputSize] (omitted for NAR) and targets [T][outputSize]. */
export interface NARXSeries {
  inputs?: number[][];
  targets: number[][];
}

export interface NARXFitOptions
  extends Omit<
    FitOptions,
    'validationData' | 'validationSplit' | 'classWeights' | 'learning' | 'tbptt' | 'bucketByLength' | 'stateful'
  > {
  /** 'open' (true past outputs fed back) or 'closed' (own predictions, BPTT); default: the model's loop. */
  mode?: 'open' | 'closed';
  /** Closed loop: predicted steps per training segment (default: each series whole). */
  window?: number | null;
  /** Series evaluated after every epoch, in the fit's mode. */
  validationData?: NARXSeries | NARXSeries[];
}

const NARX_OPTIONS: Record<string, FieldSpec> = {
  inputSize: { type: 'int', min: 0, default: 0, doc: 'exogenous input features' },
  outputSize: { type: 'int', min: 1, doc: 'output features' },
  activation: { type: 'enum', values: ['tanh', 'sigmoid', 'relu'], default: 'tanh', doc: 'hidden activation' },
  scaler: { type: 'string', default: 'minmax', nullable: true, doc: 'scaling' },
  loop: { type: 'enum', values: ['open', 'closed'], default: 'open', doc: 'default fit mode' },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, default: 0, doc: 'seed' },
  dtype: { type: 'enum', values: ['float32', 'float64'], default: 'float32', doc: 'element type' },
};
const FIT_EXTRA: Record<string, FieldSpec> = {
  mode: { type: 'enum', values: ['open', 'closed'], default: 'open', doc: 'open or closed loop' },
  window: { type: 'int', min: 1, default: null, nullable: true, doc: 'closed-loop segment length' },
};
const FIT_OMIT = ['validationSplit', 'tbptt', 'learning', 'bucketByLength', 'stateful'];

interface Resolved {
  inputSize: number;
  outputSize: number;
  inputDelays: number[];
  feedbackDelays: number[];
  hiddenSizes: number[];
  activation: 'tanh' | 'sigmoid' | 'relu';
  scaler: 'standard' | 'minmax' | null;
  loop: 'open' | 'closed';
  seed: number;
  dtype: 'float32' | 'float64';
}

type AnyScaler = StandardScaler | MinMaxScaler;
type HostF = Float32Array | Float64Array;

/** A series scaled, as flat rows: x [T*I], y [T*O]. */
interface Scaled {
  T: number;
  x: Float64Array;
  y: Float64Array;
}

/** Open-loop rows: lag vectors [N,K] and targets [N,O]. */
interface OpenRows {
  N: number;
  x: Float64Array;
  y: Float64Array;
}
/** A closed-loop segment: steps [a, a+L) of series s, with its D steps of history. */
interface Segment {
  s: number;
  a: number;
  L: number;
}

export class NARX {
  readonly type = 'NARX';
  readonly config: Resolved;
  readonly device: Device;
  /** Largest delay: the start-up history every series needs. */
  readonly maxDelay: number;
  private readonly net: Sequential;
  private readonly linears: Linear[];
  private readonly K: number;
  private rng: Rng;
  private readonly scratch: ScratchPool;
  private readonly weights = new WeightsLock();
  private trainerInstance: Trainer | null = null;
  private disposed = false;
  private inputScaler: AnyScaler | null = null;
  private targetScaler: AnyScaler | null = null;

  constructor(options: NARXOptions) {
    if (options === undefined)
      throw new TypeError('NARX: options must be an object with outputSize, received undefined');
    optionsObject('NARX', options);
    const { device, inputDelays, feedbackDelays, hiddenSizes, ...rest } = options;
    this.device = resolveDevice('NARX', device);
    this.scratch = new ScratchPool(this.device);
    const c = resolveOptions<Omit<Resolved, 'inputDelays' | 'feedbackDelays' | 'hiddenSizes'>>(
      'NARX',
      NARX_OPTIONS,
      rest,
    );
    if (c.scaler !== null && c.scaler !== 'standard' && c.scaler !== 'minmax')
      throw new RangeError(`NARX: scaler must be 'standard', 'minmax' or null, received ${JSON.stringify(c.scaler)}`);
    let inD: number[];
    if (c.inputSize === 0) {
      if (inputDelays !== undefined && !(Array.isArray(inputDelays) && inputDelays.length === 0))
        throw new RangeError('NARX: inputDelays need inputs; a NAR model (inputSize 0) takes no inputDelays (or [])');
      inD = [];
    } else inD = checkTaps('NARX', 'inputDelays', inputDelays ?? [1, 2], 0);
    const fbD = checkTaps('NARX', 'feedbackDelays', feedbackDelays ?? [1, 2], 1, c.inputSize > 0);
    if (inD.length + fbD.length === 0) throw new RangeError('NARX: give at least one input or feedback delay');
    const hs = hiddenSizes ?? [10];
    if (!Array.isArray(hs) || !hs.every((h) => Number.isSafeInteger(h) && h >= 1 && h <= 1e6))
      throw new RangeError(
        `NARX: hiddenSizes must be an array of integers in [1, 1000000] (may be empty), received ${JSON.stringify(hs)}`,
      );
    this.config = { ...c, inputDelays: inD, feedbackDelays: fbD, hiddenSizes: hs.slice() };
    this.maxDelay = Math.max(0, ...inD, ...fbD);
    this.K = inD.length * c.inputSize + fbD.length * c.outputSize;
    // PyTorch's nn.Sequential(Linear, Tanh, Linear, …): the linear layers are modules 0, 2, 4, …
    const sizes = [...hs, c.outputSize];
    this.linears = sizes.map((o) => new Linear({ outFeatures: o }));
    this.net = new Sequential(
      this.linears.map((l, i) => [`net.${2 * i}`, l] as [string, Linear]),
      c.dtype,
      undefined,
      this.device,
    );
    this.net.build({ kind: 'vec', F: this.K }, true);
    this.net.params.describe('NARX', this.config as unknown as Record<string, unknown>);
    this.rng = new Rng(c.seed);
    if (initializing()) this.net.initialize(this.rng);
  }

  private get trainer(): Trainer {
    if (!this.trainerInstance)
      this.trainerInstance = new Trainer('NARX', this.device, this.net.params, this.weights, this.scratch);
    return this.trainerInstance;
  }
  private live(what: string): void {
    if (this.disposed) throw new Error(`NARX.${what}: the model was disposed`);
  }
  /** Completed training epochs. */
  get epoch(): number {
    return this.trainerInstance ? this.trainerInstance.epoch : 0;
  }
  /** The fitted scalers as JSON (null before the first fit, or without a scaler). */
  get scalers(): { inputs: ScalerJSON | null; targets: ScalerJSON | null } {
    return { inputs: this.inputScaler?.toJSON() ?? null, targets: this.targetScaler?.toJSON() ?? null };
  }
  /** A table of the layers (name, type, output shape, parameters), the totals, dtype and device. */
  summary(): string {
    this.live('summary');
    return summaryTable(this.type, layerRows(this.net), this.net.params, this.device);
  }
  /** console.log(model) and util.inspect(model): one line per layer. */
  [inspect.custom](): string {
    if (this.disposed) return `${this.type} (disposed)`;
    return inspectText(this.type, layerRows(this.net), this.net.params, this.device);
  }
  memoryInfo(): ModelMemoryInfo {
    this.live('memoryInfo');
    return modelMemoryInfo(this.net.params, this.trainerInstance, this.scratch);
  }
  dispose(): void {
    if (this.disposed) return;
    if (this.trainerInstance?.isRunning)
      throw new Error('NARX.dispose: the model is training; abort or await fit first');
    this.disposed = true;
    this.trainerInstance?.free();
    this.trainerInstance = null;
    this.scratch.clear();
    this.net.params.free();
  }
  parameters() {
    this.live('parameters');
    return this.net.parameters();
  }
  stateDict() {
    this.live('stateDict');
    return this.net.stateDict();
  }
  loadStateDict(sd: Record<string, ArrayLike<number>>, strict = true) {
    this.live('loadStateDict');
    this.net.loadStateDict(sd, strict);
  }
  /** @internal The flat parameters (gradient checks). */
  get params() {
    return this.net.params;
  }

  private ctx(async: boolean, training: boolean, scratch: Scratch): Ctx {
    return callContext(this.device, async, training, this.rng, this.config.dtype, scratch);
  }

  // ------------------------------------------------------------- the network f

  private *ff(x: VecAct, ctx: Ctx): Gen<VecAct> {
    let a = x;
    const last = this.linears.length - 1;
    for (let i = 0; i <= last; i++) {
      a = (yield* this.linears[i].forward(a, ctx, this.net.params)) as VecAct;
      if (i === last) break;
      const n = a.B * a.F;
      const y = ctx.tape.scratch.take(this, 'act', ctx.dtype, n);
      ctx.device.activationForward({ kind: this.config.activation, n, x: a.data, y });
      if (ctx.training) ctx.tape.record(this, y);
      a = { ...a, data: y };
    }
    return a;
  }

  private *ffBackward(dy: VecAct, ctx: Ctx): Gen<VecAct> {
    let g = dy;
    for (let i = this.linears.length - 1; i >= 0; i--) {
      if (i < this.linears.length - 1) {
        const y = ctx.tape.take<Tensor>(this, 'NARX');
        const n = g.B * g.F;
        const dz = ctx.tape.scratch.take(this, 'dact', ctx.dtype, n, true);
        ctx.device.activationBackward({ kind: this.config.activation, n, y, dy: g.data, dx: dz });
        g = { ...g, data: dz };
      }
      g = (yield* this.linears[i].backward(g, ctx, this.net.params)) as VecAct;
    }
    return g;
  }

  // ------------------------------------------------------------- data

  private seriesList(what: string, data: unknown, name = 'series'): Array<{ x: number[][] | null; y: number[][] }> {
    const one = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
    const list = one(data) ? [data] : data;
    if (!Array.isArray(list) || list.length === 0)
      throw new TypeError(`${what}: ${name} must be { inputs?, targets } or a non-empty array of them`);
    const I = this.config.inputSize,
      O = this.config.outputSize;
    return Array.from({ length: list.length }, (_, s) => {
      const e = list[s] as Record<string, unknown>;
      const at = list === data ? `${name}[${s}]` : name;
      if (!one(e))
        throw new TypeError(
          `${what}: ${at} must be an object { inputs?, targets }, received ${e === null ? 'null' : typeof e}`,
        );
      for (const k of Object.keys(e))
        if (k !== 'inputs' && k !== 'targets')
          throw new RangeError(`${what}: ${at} has unknown field '${k}'; known fields: inputs, targets`);
      const y = rows(what, `${at}.targets`, e.targets, O);
      let x: number[][] | null = null;
      if (I > 0) {
        if (e.inputs === undefined)
          throw new TypeError(`${what}: ${at}.inputs are missing; this model has inputSize ${I}`);
        x = rows(what, `${at}.inputs`, e.inputs, I);
        if (x.length !== y.length)
          throw new RangeError(
            `${what}: ${at}.inputs must have one row per target step (${y.length}), received ${x.length}`,
          );
      } else if (e.inputs !== undefined)
        throw new RangeError(`${what}: ${at}.inputs given, but this is a NAR model (inputSize 0)`);
      return { x, y };
    });
  }

  private scale(list: Array<{ x: number[][] | null; y: number[][] }>): Scaled[] {
    const I = this.config.inputSize,
      O = this.config.outputSize;
    return list.map(({ x, y }) => {
      const T = y.length;
      const sx = new Float64Array(T * I),
        sy = new Float64Array(T * O);
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < I; j++) sx[t * I + j] = this.inputScaler ? this.inputScaler.forward(x![t][j], j) : x![t][j];
        for (let j = 0; j < O; j++) sy[t * O + j] = this.targetScaler ? this.targetScaler.forward(y[t][j], j) : y[t][j];
      }
      return { T, x: sx, y: sy };
    });
  }

  private unscale(v: number, j: number): number {
    return this.targetScaler ? this.targetScaler.backward(v, j) : v;
  }

  private needSteps(what: string, list: Array<{ y: number[][] }>, name: string): void {
    list.forEach((s, i) => {
      if (s.y.length <= this.maxDelay)
        throw new RangeError(
          `${what}: ${name}${list.length > 1 ? `[${i}]` : ''} has ${s.y.length} steps; the delays need ` +
            `${this.maxDelay} steps of history and at least one step to predict (${this.maxDelay + 1})`,
        );
    });
  }

  /** The lag row of step t of series s into out at offset o (open loop: true past outputs). */
  private lagRow(s: Scaled, t: number, out: Float64Array, o: number): void {
    const I = this.config.inputSize,
      O = this.config.outputSize;
    let k = o;
    for (const d of this.config.inputDelays) for (let j = 0; j < I; j++) out[k++] = s.x[(t - d) * I + j];
    for (const d of this.config.feedbackDelays) for (let j = 0; j < O; j++) out[k++] = s.y[(t - d) * O + j];
  }

  private openRows(list: Scaled[]): OpenRows {
    const D = this.maxDelay,
      O = this.config.outputSize,
      K = this.K;
    const N = list.reduce((n, s) => n + s.T - D, 0);
    const x = new Float64Array(N * K),
      y = new Float64Array(N * O);
    let r = 0;
    for (const s of list)
      for (let t = D; t < s.T; t++, r++) {
        this.lagRow(s, t, x, r * K);
        y.set(s.y.subarray(t * O, (t + 1) * O), r * O);
      }
    return { N, x, y };
  }

  private segments(list: Scaled[], window: number | null): Segment[] {
    const D = this.maxDelay,
      out: Segment[] = [];
    list.forEach((s, i) => {
      const w = window ?? s.T - D;
      for (let a = D; a < s.T; a += w) out.push({ s: i, a, L: Math.min(w, s.T - a) });
    });
    return out;
  }

  private host(n: number): HostF {
    return this.config.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  }

  /** Host arrays of a closed-loop batch: exogenous lag columns [L,B,nI·I], history [D,B,O], targets [L,B,O]. */
  private closedBatch(list: Scaled[], segs: Segment[]) {
    const I = this.config.inputSize,
      O = this.config.outputSize,
      D = this.maxDelay,
      B = segs.length,
      E = this.config.inputDelays.length * I;
    const L = Math.max(...segs.map((g) => g.L));
    const exo = this.host(Math.max(1, L * B * E)),
      hist = this.host(Math.max(1, D * B * O)),
      tgt = this.host(L * B * O);
    segs.forEach((g, b) => {
      const s = list[g.s];
      for (let j = 0; j < D; j++) for (let f = 0; f < O; f++) hist[(j * B + b) * O + f] = s.y[(g.a - D + j) * O + f];
      for (let t = 0; t < g.L; t++) {
        let k = (t * B + b) * E;
        for (const d of this.config.inputDelays) for (let f = 0; f < I; f++) exo[k++] = s.x[(g.a + t - d) * I + f];
        for (let f = 0; f < O; f++) tgt[(t * B + b) * O + f] = s.y[(g.a + t) * O + f];
      }
    });
    return { L, B, exo, hist, tgt, lengths: Int32Array.from(segs.map((g) => g.L)) };
  }

  // ------------------------------------------------------------- the loops

  /**
   * Closed loop over L steps of B segments: exo [L,B,E], hist [D,B,O] on the device; returns the
   * predictions P [L,B,O] (scratch of this call).
   */
  private *closedForward(ctx: Ctx, L: number, B: number, exo: Tensor, hist: Tensor): Gen<Tensor> {
    const dev = ctx.device,
      O = this.config.outputSize,
      K = this.K,
      D = this.maxDelay,
      E = this.config.inputDelays.length * this.config.inputSize;
    const P = ctx.tape.scratch.take(this, 'P', ctx.dtype, L * B * O);
    for (let t = 0; t < L; t++) {
      const xin = ctx.tape.scratch.take(this, 'xin', ctx.dtype, B * K);
      if (E > 0)
        dev.copyCols({
          N: B,
          srcF: E,
          srcOffset: 0,
          width: E,
          src: dev.view(exo, t * B * E, [B * E]),
          dstF: K,
          dstOffset: 0,
          dst: xin,
        });
      this.config.feedbackDelays.forEach((k, j) => {
        const s = t - k;
        const src = s >= 0 ? dev.view(P, s * B * O, [B * O]) : dev.view(hist, (D + s) * B * O, [B * O]);
        dev.copyCols({ N: B, srcF: O, srcOffset: 0, width: O, src, dstF: K, dstOffset: E + j * O, dst: xin });
      });
      const out = yield* this.ff({ kind: 'vec', data: xin, B, F: K }, ctx);
      dev.copy(out.data, dev.view(P, t * B * O, [B * O]));
    }
    return P;
  }

  /** Backward of closedForward from dP [L,B,O] (modified: it collects the feedback gradients). */
  private *closedBackward(ctx: Ctx, L: number, B: number, dP: Tensor): Gen<void> {
    const dev = ctx.device,
      O = this.config.outputSize,
      K = this.K,
      E = this.config.inputDelays.length * this.config.inputSize;
    for (let t = L - 1; t >= 0; t--) {
      const dx = yield* this.ffBackward({ kind: 'vec', data: dev.view(dP, t * B * O, [B * O]), B, F: O }, ctx);
      this.config.feedbackDelays.forEach((k, j) => {
        const s = t - k;
        if (s < 0) return;
        dev.copyCols({
          N: B,
          srcF: K,
          srcOffset: E + j * O,
          width: O,
          src: dx.data,
          dstF: O,
          dstOffset: 0,
          dst: dev.view(dP, s * B * O, [B * O]),
          accumulate: true,
        });
      });
    }
  }

  /** Loss (and gradients when `backward`) of one batch in either mode. */
  private *batchStep(ctx: Ctx, b: HostBatch, backward: boolean): Gen<{ loss: number; count: number }> {
    const dev = ctx.device,
      O = this.config.outputSize;
    if (b.mode === 'open') {
      const x: VecAct = { kind: 'vec', data: dev.fromHost(b.x, [b.N, this.K]), B: b.N, F: this.K };
      const out = yield* this.ff(x, ctx);
      const r = computeLoss(dev, 'regression', out, { kind: 'values', data: dev.fromHost(b.y, [b.N, O]) }, null);
      if (backward && Number.isFinite(r.loss)) yield* this.ffBackward(r.grad as VecAct, ctx);
      return { loss: r.loss, count: r.count };
    }
    const c = b.closed;
    const P = yield* this.closedForward(ctx, c.L, c.B, dev.fromHost(c.exo), dev.fromHost(c.hist));
    const out: SeqAct = { kind: 'seq', data: P, T: c.L, B: c.B, F: O, lengths: lengthsOn(dev, c.lengths) };
    const grad = ctx.tape.scratch.take(this, 'dP', ctx.dtype, c.L * c.B * O);
    const r = computeLoss(dev, 'regression', out, { kind: 'values', data: dev.fromHost(c.tgt) }, null, grad);
    if (backward && Number.isFinite(r.loss)) yield* this.closedBackward(ctx, c.L, c.B, grad);
    return { loss: r.loss, count: r.count };
  }

  private batchesOf(
    mode: 'open' | 'closed',
    list: Scaled[],
    window: number | null,
    batchSize: number,
    shuffle: boolean,
  ): () => HostBatch[] {
    if (mode === 'open') {
      const rowsAll = this.openRows(list),
        K = this.K,
        O = this.config.outputSize;
      return () => {
        const idx = [...Array(rowsAll.N).keys()];
        if (shuffle) this.rng.shuffle(idx);
        const out: HostBatch[] = [];
        for (let i = 0; i < idx.length; i += batchSize) {
          const part = idx.slice(i, i + batchSize),
            N = part.length;
          const x = this.host(N * K),
            y = this.host(N * O);
          part.forEach((r, n) => {
            x.set(rowsAll.x.subarray(r * K, (r + 1) * K), n * K);
            y.set(rowsAll.y.subarray(r * O, (r + 1) * O), n * O);
          });
          out.push({ mode: 'open', N, x, y, closed: null! });
        }
        return out;
      };
    }
    const segs = this.segments(list, window);
    return () => {
      const order = [...segs.keys()];
      if (shuffle) this.rng.shuffle(order);
      const out: HostBatch[] = [];
      for (let i = 0; i < order.length; i += batchSize)
        out.push({
          mode: 'closed',
          N: 0,
          x: null!,
          y: null!,
          closed: this.closedBatch(
            list,
            order.slice(i, i + batchSize).map((k) => segs[k]),
          ),
        });
      return out;
    };
  }

  // ------------------------------------------------------------- fit

  /** Trains on one series or several independent ones; returns the History every model's fit returns. */
  async fit(series: NARXSeries | NARXSeries[], options: NARXFitOptions = {}): Promise<History> {
    this.live('fit');
    return this.trainer.exclusive(() => this.fitWith(series, options));
  }

  private async fitWith(series: NARXSeries | NARXSeries[], options: NARXFitOptions): Promise<History> {
    const what = 'NARX.fit';
    if (options === null || typeof options !== 'object')
      throw new TypeError(`${what}: options must be an object, received ${options === null ? 'null' : typeof options}`);
    const { validationData, classWeights, ...plain } = options as NARXFitOptions & { classWeights?: unknown };
    if (classWeights !== undefined) throw new RangeError(`${what}: option classWeights does not apply here`);
    const o = resolveFit<{ mode: 'open' | 'closed'; window: number | null }>(
      what,
      { mode: this.config.loop, ...plain } as FitOptions & Record<string, unknown>,
      FIT_EXTRA,
      FIT_OMIT,
    );
    if (o.window !== null && o.mode === 'open') throw new RangeError(`${what}: window applies to mode 'closed' only`);
    const raw = this.seriesList(what, series);
    this.needSteps(what, raw, 'series');
    const rawVal =
      validationData === undefined
        ? null
        : this.seriesList(`${what} (validationData)`, validationData, 'validationData');
    if (rawVal) this.needSteps(what, rawVal, 'validationData');
    if (this.config.scaler !== null && !this.targetScaler) this.fitScalers(raw);
    const train = this.scale(raw),
      val = rawVal ? this.scale(rawVal) : null;
    if (o.seed !== null) this.rng = new Rng(o.seed);
    this.linears[0].needsInputGrad = o.mode === 'closed';
    const batches = this.batchesOf(o.mode, train, o.window, o.batchSize, o.shuffle);
    const valBatches = val ? this.batchesOf(o.mode, val, o.window, o.batchSize, false)() : null;
    const job: FitJob<HostBatch> = {
      what,
      batches: () => batches(),
      train: (b, run) => this.trainBatch(b, run),
      metrics: (loss) => ({ loss, mse: loss }),
      validate: valBatches ? () => this.lossOf(valBatches) : null,
    };
    try {
      return await this.trainer.fit(job, o, options as FitOptions);
    } finally {
      this.linears[0].needsInputGrad = true;
    }
  }

  private fitScalers(raw: Array<{ x: number[][] | null; y: number[][] }>): void {
    const make = (): AnyScaler =>
      this.config.scaler === 'standard' ? new StandardScaler() : new MinMaxScaler({ range: [-1, 1] });
    this.targetScaler = make().fit(raw.flatMap((s) => s.y));
    if (this.config.inputSize > 0) this.inputScaler = make().fit(raw.flatMap((s) => s.x!));
  }

  private async trainBatch(b: HostBatch, run: StepRunner): Promise<BatchStats> {
    let r: { loss: number; count: number };
    try {
      this.net.params.zeroGrad();
      r = await runAsync(this.batchStep(this.ctx(true, true, run.scratch), b, true));
      if (!Number.isFinite(r.loss) && run.nonFinite(`loss ${r.loss}`)) return { ...emptyStats(), skipped: true };
    } catch (e) {
      if (isNonFiniteInput(e) && run.nonFinite(`activations (${e.message})`)) return { ...emptyStats(), skipped: true };
      throw e;
    }
    return oneUpdate(r.loss, r.count, { correct: 0, total: 0 }, await run.update());
  }

  private lossOf(batches: HostBatch[]): Promise<Metrics> {
    return reading(this.weights, this.scratch, async (scratch) => {
      let sum = 0,
        n = 0;
      for (const b of batches) {
        const r = await runAsync(this.batchStep(this.ctx(true, false, scratch), b, false));
        sum += r.loss * r.count;
        n += r.count;
      }
      return { loss: sum / n, mse: sum / n };
    });
  }

  /** Mean squared error (in the scaled units training reports) of series, open or closed loop. */
  async evaluate(
    series: NARXSeries | NARXSeries[],
    options: { mode?: 'open' | 'closed'; window?: number | null } = {},
  ): Promise<Metrics> {
    this.live('evaluate');
    const o = resolveOptions<{ mode: 'open' | 'closed'; window: number | null }>('NARX.evaluate', FIT_EXTRA, {
      mode: this.config.loop,
      ...options,
    });
    const raw = this.seriesList('NARX.evaluate', series);
    this.needSteps('NARX.evaluate', raw, 'series');
    return this.lossOf(this.batchesOf(o.mode, this.scale(raw), o.window, 1024, false)());
  }

  /**
   * @internal Loss and gradients (accumulated in params.grads) of series in a mode, whole
   * series as one batch (gradient checks).
   */
  lossAndGradient(series: NARXSeries | NARXSeries[], mode: 'open' | 'closed'): number {
    this.live('lossAndGradient');
    const list = this.scale(this.seriesList('NARX.lossAndGradient', series));
    const b = this.batchesOf(mode, list, null, 1 << 30, false)()[0];
    return readingSync(
      'NARX.lossAndGradient',
      this.weights,
      this.scratch,
      (scratch) => runSync(this.batchStep(this.ctx(false, true, scratch), b, true)).loss,
    );
  }

  // ------------------------------------------------------------- predict / forecast

  /**
   * One step ahead in open loop (the true past outputs fed back): the predictions of steps
   * maxDelay … T−1 of each series, [T − maxDelay][outputSize] (an array of them for an array).
   */
  predict(series: NARXSeries | NARXSeries[]): number[][] | number[][][] {
    this.live('predict');
    const raw = this.seriesList('NARX.predict', series);
    this.needSteps('NARX.predict', raw, 'series');
    const list = this.scale(raw),
      O = this.config.outputSize;
    const res = readingSync('NARX.predict', this.weights, this.scratch, (scratch) =>
      list.map((s) => {
        const rowsS = this.openRows([s]);
        const ctx = this.ctx(false, false, scratch);
        const x = this.host(rowsS.N * this.K);
        x.set(rowsS.x);
        const out = runSync(
          this.ff({ kind: 'vec', data: this.device.fromHost(x, [rowsS.N, this.K]), B: rowsS.N, F: this.K }, ctx),
        );
        const h = this.device.toHostSync(out.data);
        return Array.from({ length: rowsS.N }, (_, r) =>
          Array.from({ length: O }, (_, j) => this.unscale(h[r * O + j], j)),
        );
      }),
    );
    return Array.isArray(series) ? res : res[0];
  }

  /**
   * Closed-loop forecast of `steps` steps after `history` (its last maxDelay steps are used):
   * the model's own predictions are fed back. A model with inputs needs the future inputs
   * x_T … x_{T+steps−1−m}, m the smallest input delay (so none for one step when m >= 1).
   */
  forecast(history: NARXSeries, steps: number, futureInputs?: number[][]): number[][] {
    this.live('forecast');
    const what = 'NARX.forecast';
    if (!Number.isSafeInteger(steps) || steps < 1 || steps > 1e7)
      throw new RangeError(`${what}: steps must be an integer in [1, 10000000], received ${String(steps)}`);
    if (history === null || typeof history !== 'object' || Array.isArray(history))
      throw new TypeError(`${what}: history must be one series { inputs?, targets }`);
    const [h] = this.seriesList(what, history, 'history');
    const D = this.maxDelay,
      I = this.config.inputSize,
      O = this.config.outputSize;
    if (h.y.length < D) throw new RangeError(`${what}: history has ${h.y.length} steps; the delays need the last ${D}`);
    let fut: number[][] = [];
    if (I > 0) {
      const m = Math.min(...this.config.inputDelays);
      const need = Math.max(0, steps - m);
      if (futureInputs === undefined) {
        if (need > 0)
          throw new TypeError(
            `${what}: futureInputs are missing; forecasting ${steps} steps needs ${need} future input rows (smallest input delay ${m})`,
          );
      } else fut = rows(what, 'futureInputs', futureInputs, I);
      if (fut.length < need)
        throw new RangeError(
          `${what}: futureInputs has ${fut.length} rows; forecasting ${steps} steps needs ${need} (steps − smallest input delay ${m})`,
        );
    } else if (futureInputs !== undefined)
      throw new RangeError(`${what}: futureInputs given, but this is a NAR model (inputSize 0)`);
    // the history's last D steps, then the future steps (targets unknown: zeros, never read)
    const Th = h.y.length;
    const start = Th - D;
    const xs = h.x ? [...h.x.slice(start), ...fut] : null;
    const ys = h.y.slice(start);
    const T = D + steps;
    const pad = (r: number[][] | null, F: number) =>
      r === null
        ? null
        : [...r, ...Array.from({ length: Math.max(0, T - r.length) }, () => new Array<number>(F).fill(0))].slice(0, T);
    const [s] = this.scale([{ x: pad(xs, I), y: pad(ys, O)! }]);
    const c = this.closedBatch([s], [{ s: 0, a: D, L: steps }]);
    return readingSync(what, this.weights, this.scratch, (scratch) => {
      const ctx = this.ctx(false, false, scratch);
      const P = runSync(this.closedForward(ctx, steps, 1, this.device.fromHost(c.exo), this.device.fromHost(c.hist)));
      const out = this.device.toHostSync(P);
      return Array.from({ length: steps }, (_, t) =>
        Array.from({ length: O }, (_, j) => this.unscale(out[t * O + j], j)),
      );
    });
  }

  // ------------------------------------------------------------- conversions

  /** A copy of this model (weights, scalers, training state) whose fit defaults to closed loop. */
  closeLoop(): NARX {
    return this.withLoop('closed');
  }
  /** A copy of this model whose fit defaults to open loop. */
  openLoop(): NARX {
    return this.withLoop('open');
  }
  private withLoop(loop: 'open' | 'closed'): NARX {
    this.live(loop === 'closed' ? 'closeLoop' : 'openLoop');
    const cp = this.checkpoint();
    (cp.meta as { options: Resolved }).options = { ...this.config, loop };
    return restoreNARX(new ModelFile(`<NARX.${loop === 'closed' ? 'closeLoop' : 'openLoop'}>`, cp), this.device);
  }

  // ------------------------------------------------------------- save / load

  /** @internal Everything save() writes. */
  checkpoint(): Checkpoint {
    const tr = this.trainer.save();
    const tensors: Record<string, CheckpointTensor> = { ...parameterTensors(this.net.params), ...tr.tensors };
    return {
      meta: {
        format: MODEL_FORMAT,
        version: 1,
        type: 'NARX',
        options: this.config,
        scalers: this.scalers,
        training: { ...tr.meta, rng: this.rng.getState() },
      },
      tensors,
    };
  }
  async save(path: string): Promise<void> {
    this.live('save');
    await saveCheckpoint(path, this.checkpoint());
  }
  saveSync(path: string): void {
    this.live('saveSync');
    saveCheckpointSync(path, this.checkpoint());
  }
  static async load(path: string, options: { device?: DeviceOption } = {}): Promise<NARX> {
    const device = loadDevice('NARX.load', options);
    return restoreNARX(new ModelFile(path, await loadCheckpoint(path)), device);
  }
  static loadSync(path: string, options: { device?: DeviceOption } = {}): NARX {
    const device = loadDevice('NARX.loadSync', options);
    return restoreNARX(new ModelFile(path, loadCheckpointSync(path)), device);
  }

  /** @internal Weights, scalers and training state of a model file (options already checked). */
  restoreFrom(file: ModelFile, scalers: unknown, training: unknown): void {
    const sc = file.object(scalers, 'scalers', ['inputs', 'targets']);
    const read = (field: 'inputs' | 'targets', F: number): AnyScaler | null => {
      const v = sc[field];
      if (v === null) return null;
      const s = file.validated(`scalers.${field}`, () => scalerFromJSON(v));
      if (s.features !== F) file.fail(`scalers.${field} must scale ${F} features, found ${s.features}`);
      if (s.toJSON().kind !== this.config.scaler)
        file.fail(`scalers.${field} must be a ${this.config.scaler} scaler (options.scaler), found ${s.toJSON().kind}`);
      return s;
    };
    const targets = this.config.scaler === null ? null : read('targets', this.config.outputSize);
    const inputs =
      this.config.scaler === null || this.config.inputSize === 0 ? null : read('inputs', this.config.inputSize);
    if (this.config.scaler === null && (sc.inputs !== null || sc.targets !== null))
      file.fail('scalers must be null (options.scaler is null)');
    if (this.config.inputSize === 0 && sc.inputs !== null)
      file.fail('scalers.inputs must be null (a NAR model has no inputs)');
    if ((targets === null) !== (inputs === null) && this.config.inputSize > 0)
      file.fail('scalers.inputs and scalers.targets must both be set (after a fit) or both be null');
    this.net.loadStateDict(readParameters(this.net.params, file, this.config));
    this.rng.setState(this.trainer.restore(training, file).rng);
    this.inputScaler = inputs;
    this.targetScaler = targets;
  }
}

interface HostBatch {
  mode: 'open' | 'closed';
  N: number;
  x: HostF;
  y: HostF;
  closed: { L: number; B: number; exo: HostF; hist: HostF; tgt: HostF; lengths: Int32Array };
}

/** Rows [T][F] of finite numbers, copied. */
function rows(what: string, name: string, v: unknown, F: number): number[][] {
  if (!Array.isArray(v))
    throw new TypeError(
      `${what}: ${name} must be an array of rows [T][${F}], received ${v === null ? 'null' : typeof v}`,
    );
  return Array.from({ length: v.length }, (_, t) => {
    const r = v[t] as unknown;
    if (!Array.isArray(r))
      throw new TypeError(
        `${what}: ${name}[${t}] must be a row of ${F} numbers, received ${r === null ? 'null' : typeof r}`,
      );
    if (r.length !== F) throw new RangeError(`${what}: ${name}[${t}] must have ${F} features, received ${r.length}`);
    for (let j = 0; j < F; j++)
      if (typeof r[j] !== 'number' || !Number.isFinite(r[j]))
        throw new RangeError(`${what}: ${name}[${t}][${j}] must be a finite number, received ${String(r[j])}`);
    return r.slice() as number[];
  });
}

function restoreNARX(file: ModelFile, device?: Device): NARX {
  const meta = modelMeta(file, [...MODEL_META_KEYS, 'scalers'], 'NARX');
  const options = file.record(meta.options, 'options');
  if (Object.hasOwn(options, 'device')) file.fail("options has unexpected field 'device' (not stored in model files)");
  const m = file.validated('options', () =>
    withoutInit(() => new NARX({ ...(options as unknown as NARXOptions), device })),
  );
  try {
    checkResolved(file, options, m.config);
    m.restoreFrom(file, meta.scalers, meta.training);
    file.done();
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}
