// What every ready model shares: a Sequential network plus a loss, and fit / evaluate / predict /
// save / load around them. fit hands a FitJob to the one trainer (lib/train/trainer.ts); how a
// batch is trained lives in sequence-training.ts. Training runs its native work off the main
// thread (async drivers), so the event loop stays free while a model trains.
import { loadCheckpoint, loadCheckpointSync, saveCheckpoint, saveCheckpointSync } from '../checkpoint';
import type { DeviceOption } from '../device/default';
import type { Checkpoint, CheckpointTensor } from '../checkpoint';
import { loadDevice, resolveDevice } from '../device/default';
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import { Gen, runAsync, runSync } from '../exec';
import { Scratch, ScratchPool } from '../graph/tape';
import { reading, readingSync, WeightsLock } from '../graph/weights-lock';
import type { HostArray } from '../native';
import { resolveOptions } from '../options';
import { Rng } from '../rng';
import { Sequential } from '../sequential';
import type { Act, Ctx, Layer, RecurrentState } from '../layers/layer';
import { callContext } from '../layers/layer';
import type { OnlineAlgorithm } from '../online/exact-rtrl';
import { parameterTensors } from '../params';
import {
  Batch,
  DataSpec,
  HostBatch,
  Samples,
  SequenceInput,
  TargetInput,
  batchOrder,
  makeBatch,
  toDevice,
  toSamples,
  toSamplesAsync,
} from '../train/data';
import { FIT_OPTIONS, FitOptions, History, Metrics, ResolvedFit, resolveFit } from '../train/fit-options';
import { computeLoss, countCorrect } from '../train/losses';
import { FitJob, Trainer } from '../train/trainer';
import { MODEL_FORMAT, restore } from './persistence';
import { modelMemoryInfo, type ModelMemoryInfo } from './memory-info';
import { initializing, ModelFile, readParameters } from './file-checks';
import type { Recurrent } from '../layers/recurrent';
import { TimeDelay } from '../layers/time-delay';
import { inspect } from 'util';
import { inspectText, layerRows, summaryTable } from './summary';
import { argmax, labelIds } from './labels';
import type { LabeledTargets } from './labels';
import { SequenceNet, splitWindows, trainOnline, trainWindows } from './sequence-training';

export abstract class SequenceModel {
  abstract readonly type: string;
  /** Resolved constructor options (stored in model files). */
  abstract readonly config: Record<string, unknown> & { seed: number; dtype: 'float32' | 'float64' };
  protected abstract readonly net: Sequential;
  protected abstract readonly spec: DataSpec;
  /** Recurrent layers whose state truncated BPTT carries between windows. */
  protected abstract readonly recurrent: Layer[];

  protected rng!: Rng;
  /** Where this model's tensors live (not stored in model files). */
  readonly device: Device;
  constructor(device: DeviceOption | undefined, what: string) {
    this.device = resolveDevice(what, device);
    this.scratch = new ScratchPool(this.device);
  }
  private disposed = false;
  /** Scratch buffers of calls: each call takes its own, so concurrent calls never share one. */
  private readonly scratch: ScratchPool;
  /** Predictions read, fit's updates write: a prediction never sees half an update. */
  private readonly weights = new WeightsLock();
  private trainerInstance: Trainer | null = null;
  /** The model's trainer: optimizer, schedule, epochs and early-stopping state. */
  protected get trainer(): Trainer {
    if (!this.trainerInstance)
      this.trainerInstance = new Trainer(this.type, this.device, this.net.params, this.weights, this.scratch);
    return this.trainerInstance;
  }

  /** Called by subclasses once the network is built. */
  protected ready(): void {
    this.net.params.describe(this.type, this.config as unknown as Record<string, unknown>);
    this.rng = new Rng(this.config.seed);
    // A load replaces the weights: initializing them first would only cost time (cubic in H).
    if (initializing()) this.net.initialize(this.rng);
  }

  protected live(what: string): void {
    if (this.disposed) throw new Error(`${this.type}.${what}: the model was disposed`);
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

  /** Bytes this model holds: parameters, gradients, optimizer state, idle call scratch. */
  memoryInfo(): ModelMemoryInfo {
    this.live('memoryInfo');
    return modelMemoryInfo(this.net.params, this.trainerInstance, this.scratch);
  }

  /** Frees the model's buffers; every later call throws. */
  dispose(): void {
    if (this.disposed) return;
    if (this.trainerInstance?.isRunning)
      throw new Error(`${this.type}.dispose: the model is training; abort or await fit first`);
    this.disposed = true;
    if (this.trainerInstance) this.trainerInstance.free();
    this.trainerInstance = null;
    this.scratch.clear();
    this.net.params.free();
  }

  /** @internal The network and what it expects (online learners drive it directly). */
  internals(): { net: Sequential; spec: DataSpec; recurrent: Layer[]; weights: WeightsLock } {
    this.live('internals');
    return { net: this.net, spec: this.spec, recurrent: this.recurrent, weights: this.weights };
  }

  /** Completed training epochs (restored by load). */
  get epoch(): number {
    return this.trainerInstance ? this.trainerInstance.epoch : 0;
  }

  /** Parameters with PyTorch's names and shapes (views: writing them changes the model). */
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

  private ctx(async: boolean, training: boolean, scratch: Scratch): Ctx {
    return callContext(this.device, async, training, this.rng, this.config.dtype, scratch);
  }

  // ---------------------------------------------------------------- fit

  async fit(inputs: SequenceInput, targets: LabeledTargets, options: FitOptions = {}): Promise<History> {
    this.live('fit');
    return this.trainer.exclusive(() => this.fitWith(inputs, targets, options));
  }

  /** The `classes` option (label names), when the model has one. */
  get classes(): readonly string[] | null {
    const c = (this.config as { classes?: string[] }).classes;
    return c ? c.slice() : null;
  }

  /** Targets with label strings as class ids. */
  protected labelTargets(what: string, targets: LabeledTargets): TargetInput {
    return labelIds(what, targets, this.classes, this.spec.level);
  }

  private async fitWith(inputs: SequenceInput, labeled: LabeledTargets, options: FitOptions): Promise<History> {
    const what = `${this.type}.fit`;
    const o = resolveFit(what, options as FitOptions & Record<string, unknown>);
    requireTargets(what, labeled);
    const targets = this.labelTargets(what, labeled);
    const taps = this.net.layers.find((l) => l instanceof TimeDelay);
    if (taps && (o.tbptt !== null || o.stateful))
      throw new RangeError(
        `${what}: tbptt and stateful training cut sequences into windows, and the TimeDelay layer '${taps.name}' ` +
          'would see zeros instead of the steps before each window; train on whole sequences',
      );
    requireTargets(what, targets);
    // large datasets are read in slices with event-loop turns between them (data.ts)
    const all = await toSamplesAsync(what, this.spec, inputs, targets, this.config.dtype);
    let train = all,
      val: Samples | null = null;
    if (options.validationData) {
      val = await toSamplesAsync(
        `${what} (validationData)`,
        this.spec,
        options.validationData.inputs,
        this.labelTargets(`${what} (validationData)`, options.validationData.targets),
        this.config.dtype,
      );
    } else if (o.validationSplit > 0) {
      const nVal = Math.floor(all.size * o.validationSplit);
      if (nVal < 1 || nVal >= all.size)
        throw new RangeError(
          `${what}: validationSplit ${o.validationSplit} leaves ${all.size - nVal} training and ${nVal} validation sequences; both must be at least 1`,
        );
      train = all.subset([...Array(all.size - nVal).keys()]);
      val = all.subset([...Array(nVal).keys()].map((i) => all.size - nVal + i));
    }
    if (o.tbptt !== null && this.spec.level === 'sequence' && this.needsWholeSequence()) {
      throw new RangeError(`${what}: tbptt needs pooling 'last' (the loss must depend on the final state only)`);
    }
    if (o.learning !== 'bptt') this.checkOnline(what, o.learning);
    const classWeightsHost = this.classWeights(options.classWeights);
    const classWeights = classWeightsHost ? this.device.fromHost(classWeightsHost) : null;
    if (o.seed !== null) this.rng = new Rng(o.seed);
    const m = this.training();
    const windowed = o.stateful;
    if (!o.stateful) this.stream = new Map();
    const job: FitJob<{ batch: HostBatch; windows: Array<[number, number]> }> = {
      what,
      batches: (epoch) => this.epochBatches(train, o, epoch, windowed),
      train: async ({ batch, windows }, run) => {
        if (o.learning !== 'bptt') return trainOnline(m, batch, o.learning as OnlineAlgorithm, classWeightsHost, run);
        if (o.stateful) this.checkStreamRows(what, batch.B);
        const r = await trainWindows(m, batch, windows, o.stateful ? this.stream : new Map(), classWeights, run);
        if (o.stateful) this.stream = r.carried;
        return r.stats;
      },
      metrics: (loss, correct, total) => this.metrics(loss, correct, total),
      validate: val ? () => this.evaluateSamples(val!, o.batchSize, classWeights, true) : null,
    };
    return this.trainer.fit(job, o, options);
  }

  /** One epoch's batches; in stateful mode each window of a batch is its own unit. */
  private *epochBatches(
    train: Samples,
    o: ResolvedFit,
    _epoch: number,
    windowed: boolean,
  ): Generator<{ batch: HostBatch; windows: Array<[number, number]> }> {
    for (const idx of batchOrder(train, o.batchSize, o.shuffle, o.bucketByLength, this.rng)) {
      const batch = makeBatch(train, idx, this.config.dtype);
      const windows = splitWindows(batch.T, o.tbptt);
      if (!windowed) {
        yield { batch, windows };
        continue;
      }
      for (const w of windows) yield { batch, windows: [w] };
    }
  }

  /** Carried recurrent states of stateful training (rows of the previous batch). */
  private stream: Map<Layer, RecurrentState> = new Map();
  /** Forgets the recurrent states carried by stateful training. */
  resetStates(): void {
    this.stream = new Map();
  }

  private checkStreamRows(what: string, B: number): void {
    for (const st of this.stream.values()) {
      const H = (this.config as Record<string, unknown>).hiddenSize as number;
      if (st.h[0] && st.h[0].size !== B * H) {
        throw new RangeError(
          `${what}: stateful training carries ${st.h[0].size / H} rows of state but this batch has ${B} ` +
            `sequences; give batches of one size or call resetStates()`,
        );
      }
    }
  }

  protected checkOnline(what: string, learning: string): void {
    const c = this.config as Record<string, unknown>;
    if (c.bidirectional)
      throw new RangeError(
        `${what}: learning '${learning}' runs forward in time and cannot train a bidirectional model`,
      );
    if (
      this.spec.input.kind !== 'features' ||
      c.initialState === 'learnable' ||
      (c.dropout as number) > 0 ||
      (c.pooling !== undefined && c.pooling !== 'last')
    ) {
      throw new RangeError(
        `${what}: learning '${learning}' needs feature inputs, pooling 'last', no dropout and no learnable initial state`,
      );
    }
  }

  /** What the batch code (sequence-training.ts) needs of this model. */
  private training(): SequenceNet {
    return {
      what: `${this.type}.fit`,
      net: this.net,
      spec: this.spec,
      dtype: this.config.dtype,
      device: this.device,
      config: this.config,
      rng: () => this.rng,
      ctx: (async, training, scratch) => this.ctx(async, training, scratch),
    };
  }

  private classWeights(w: number[] | null | undefined): HostArray | null {
    if (w === undefined || w === null) return null;
    if (this.spec.task !== 'classification')
      throw new RangeError(`${this.type}.fit: classWeights apply to classification only`);
    if (!Array.isArray(w) || w.length !== this.spec.outSize || !w.every((v) => Number.isFinite(v) && v >= 0)) {
      throw new RangeError(
        `${this.type}.fit: classWeights must be ${this.spec.outSize} non-negative numbers, received ${JSON.stringify(w)}`,
      );
    }
    return this.config.dtype === 'float64' ? Float64Array.from(w) : Float32Array.from(w);
  }

  /** Whether the loss needs every step at once (pooling other than 'last'). */
  protected needsWholeSequence(): boolean {
    return false;
  }

  // ---------------------------------------------------------------- evaluate / predict

  private metrics(loss: number, correct: number, total: number): Metrics {
    const m: Metrics = { loss };
    if (this.spec.task === 'classification') {
      if (this.spec.level === 'sequence') m.accuracy = total ? correct / total : 0;
      else {
        m.perTokenAccuracy = total ? correct / total : 0;
        m.accuracy = m.perTokenAccuracy;
      }
      m.perplexity = Math.exp(loss);
    } else if (this.spec.task === 'regression') m.mse = loss;
    else m.accuracy = total ? correct / total : 0;
    return m;
  }

  private async evaluateSamples(
    s: Samples,
    batchSize: number,
    classWeights: Tensor | null,
    async: boolean,
  ): Promise<Metrics> {
    let loss = 0,
      count = 0,
      correct = 0,
      total = 0;
    const add = (out: Act, b: Batch) => {
      const r = computeLoss(this.device, this.spec.task, out, b.y!, classWeights);
      const c = countCorrect(this.device, this.spec.task, out, b.y!);
      loss += r.loss * r.count;
      count += r.count;
      correct += c.correct;
      total += c.total;
    };
    const batches = batchOrder(s, batchSize, false, false, this.rng);
    const done = () => this.metrics(count ? loss / count : NaN, correct, total);
    if (!async) {
      return readingSync(`${this.type}.evaluate`, this.weights, this.scratch, (scratch) => {
        for (const idx of batches) {
          const b = toDevice(this.device, makeBatch(s, idx, this.config.dtype));
          add(runSync(this.net.forward(b.x, this.ctx(false, false, scratch))), b);
        }
        return done();
      });
    }
    return reading(this.weights, this.scratch, async (scratch) => {
      for (const idx of batches) {
        const b = toDevice(this.device, makeBatch(s, idx, this.config.dtype));
        add(await runAsync(this.net.forward(b.x, this.ctx(true, false, scratch))), b);
      }
      return done();
    });
  }

  /** Loss and metrics (accuracy, per-token accuracy, perplexity or MSE, as the task has them). */
  async evaluate(
    inputs: SequenceInput,
    targets: LabeledTargets,
    options: { batchSize?: number } = {},
  ): Promise<Metrics> {
    this.live('evaluate');
    const bs = resolveOptions<{ batchSize: number }>(
      `${this.type}.evaluate`,
      { batchSize: FIT_OPTIONS.batchSize },
      options,
    ).batchSize;
    requireTargets(`${this.type}.evaluate`, targets);
    const ids = this.labelTargets(`${this.type}.evaluate`, targets);
    return this.evaluateSamples(
      toSamples(`${this.type}.evaluate`, this.spec, inputs, ids, this.config.dtype),
      bs,
      null,
      true,
    );
  }

  /** Synchronous prediction, for small inputs (blocks the event loop while it runs). */
  predict(inputs: SequenceInput, options: { batchSize?: number } = {}): number[][] | number[][][] {
    this.live('predict');
    return this.predictWith(inputs, options, false) as number[][] | number[][][];
  }
  /**
   * The most probable class of every sequence (one per step for per-step models): the label
   * strings when the model has `classes`, class ids otherwise. Classification only.
   */
  predictClasses(
    inputs: SequenceInput,
    options: { batchSize?: number } = {},
  ): Array<string | number> | Array<Array<string | number>> {
    this.live('predictClasses');
    if (this.spec.task !== 'classification')
      throw new RangeError(
        `${this.type}.predictClasses: classes apply to task 'classification', this model's task is '${this.spec.task}'; use predict`,
      );
    const classes = this.classes;
    const label = (row: number[]) => (classes ? classes[argmax(row)] : argmax(row));
    const out = this.predictWith(inputs, options, false) as Array<number[] | number[][]>;
    return this.spec.level === 'sequence'
      ? (out as number[][]).map(label)
      : (out as number[][][]).map((s) => s.map(label));
  }

  /** Prediction with the native work off the main thread. */
  async predictAsync(inputs: SequenceInput, options: { batchSize?: number } = {}): Promise<number[][] | number[][][]> {
    this.live('predictAsync');
    return this.predictWith(inputs, options, true) as Promise<number[][] | number[][][]>;
  }

  private predictWith(inputs: SequenceInput, options: { batchSize?: number }, async: boolean) {
    const bs = resolveOptions<{ batchSize: number }>(
      `${this.type}.predict`,
      { batchSize: FIT_OPTIONS.batchSize },
      options,
    ).batchSize;
    const s = toSamples(`${this.type}.predict`, this.spec, inputs, null, this.config.dtype);
    const batches = batchOrder(s, bs, false, false, this.rng);
    const results: Array<number[] | number[][]> = [];
    const collect = (out: Act, b: Batch, idx: number[]) => this.collect(out, b, idx, results);
    if (!async) {
      return readingSync(`${this.type}.predict`, this.weights, this.scratch, (scratch) => {
        for (const idx of batches) {
          const b = toDevice(this.device, makeBatch(s, idx, this.config.dtype));
          collect(runSync(this.net.forward(b.x, this.ctx(false, false, scratch))), b, idx);
        }
        return results;
      });
    }
    return reading(this.weights, this.scratch, async (scratch) => {
      for (const idx of batches) {
        const b = toDevice(this.device, makeBatch(s, idx, this.config.dtype));
        collect(await runAsync(this.net.forward(b.x, this.ctx(true, false, scratch))), b, idx);
      }
      return results;
    });
  }

  /**
   * Output rows as probabilities (classification: softmax; multilabel: sigmoid) or values,
   * computed on the device; the API edge then copies them out once per batch.
   */
  private collect(out: Act, b: Batch, idx: number[], results: Array<number[] | number[][]>) {
    if (out.kind === 'ids') return;
    const F = out.F,
      rows = out.kind === 'seq' ? out.T * out.B : out.B,
      dev = this.device;
    let probs = out.data;
    if (this.spec.task !== 'regression') {
      probs = dev.alloc(out.data.dtype, [rows * F]);
      if (this.spec.task === 'classification') dev.softmaxRows({ N: rows, C: F, x: out.data, y: probs });
      else dev.activationForward({ kind: 'sigmoid', n: rows * F, x: out.data, y: probs });
    }
    const host = dev.toHostSync(probs);
    const row = (off: number): number[] => Array.from(host.subarray(off, off + F));
    idx.forEach((sampleIndex, bb) => {
      if (out.kind === 'vec') results[sampleIndex] = row(bb * F);
      else {
        const len = out.lengths ? out.lengths.host[bb] : out.T;
        results[sampleIndex] = Array.from({ length: len }, (_, t) => row((t * b.B + bb) * F));
      }
    });
  }

  // ---------------------------------------------------------------- save / load

  /** @internal Everything save() writes. */
  checkpoint(): Checkpoint {
    const tr = this.trainer.save();
    const tensors: Record<string, CheckpointTensor> = {
      ...parameterTensors(this.net.params),
      ...tr.tensors,
      ...this.streamTensors(),
    };
    const meta = {
      format: MODEL_FORMAT,
      version: 1,
      type: this.type,
      options: this.config,
      training: { ...tr.meta, rng: this.rng.getState() },
    };
    return { meta, tensors };
  }

  /**
   * This model on another device ('cpu', 'cuda' or a Device): weights, optimizer state and
   * training progress are copied there. The same device returns this model; another returns a
   * new model and leaves this one as it is (dispose it when it is no longer needed).
   */
  to(device: DeviceOption): SequenceModel {
    this.live('to');
    const target = resolveDevice(`${this.type}.to`, device);
    if (target === this.device) return this;
    return loadModel(new ModelFile(`(${this.type} on ${this.device.name})`, this.checkpoint()), target);
  }

  /** Saves architecture, weights, optimizer state, RNG state and progress (atomic write). */
  async save(path: string): Promise<void> {
    this.live('save');
    await saveCheckpoint(path, this.checkpoint());
  }
  saveSync(path: string): void {
    this.live('saveSync');
    saveCheckpointSync(path, this.checkpoint());
  }

  /** Loads a model file; `device` places it (default: the CPU device). */
  static async load(path: string, options: { device?: DeviceOption } = {}): Promise<SequenceModel> {
    const device = loadDevice('SequenceModel.load', options);
    return loadModel(new ModelFile(path, await loadCheckpoint(path)), device);
  }
  static loadSync(path: string, options: { device?: DeviceOption } = {}): SequenceModel {
    const device = loadDevice('SequenceModel.loadSync', options);
    return loadModel(new ModelFile(path, loadCheckpointSync(path)), device);
  }

  /** @internal Weights, training state and carried states of a model file (options already checked). */
  restoreTraining(file: ModelFile, training: unknown): void {
    this.net.loadStateDict(readParameters(this.net.params, file, this.config));
    this.rng.setState(this.trainer.restore(training, file).rng);
    this.stream = this.streamFromFile(file);
  }

  /**
   * The states stateful training carries between fit calls, as `state/<i>/h|c/<k>` tensors
   * ([rows, H]; i: the recurrent layer, k: layer and direction): a saved model continues the
   * stream exactly where the model in memory would.
   */
  private streamTensors(): Record<string, CheckpointTensor> {
    const out: Record<string, CheckpointTensor> = {};
    for (const [layer, st] of this.stream) {
      const i = this.recurrent.indexOf(layer),
        H = (layer as Recurrent).config.hiddenSize;
      const put = (name: string, t: Tensor) => {
        out[name] = { data: (this.device.toHostSync(t) as HostArray).slice(), shape: [t.size / H, H] };
      };
      st.h.forEach((t, k) => put(`state/${i}/h/${k}`, t));
      st.c?.forEach((t, k) => put(`state/${i}/c/${k}`, t));
    }
    return out;
  }
  private streamFromFile(file: ModelFile): Map<Layer, RecurrentState> {
    const stream = new Map<Layer, RecurrentState>();
    this.recurrent.forEach((layer, i) => {
      if (!file.has(`state/${i}/h/0`)) return;
      const r = layer as Recurrent,
        H = r.config.hiddenSize,
        K = r.config.numLayers * r.directions;
      const rows = file.cp.tensors[`state/${i}/h/0`].shape[0];
      if (!Number.isSafeInteger(rows) || rows < 1)
        throw file.error(
          `tensor 'state/${i}/h/0'`,
          'of shape [rows >= 1, hiddenSize]',
          file.cp.tensors[`state/${i}/h/0`].shape,
        );
      const read = (which: 'h' | 'c') =>
        Array.from({ length: K }, (_, k) =>
          this.device.fromHost(file.tensor(`state/${i}/${which}/${k}`, this.config.dtype, [rows, H]) as HostArray, [
            rows * H,
          ]),
        );
      stream.set(layer, { h: read('h'), c: r.cell === 'lstm' ? read('c') : null });
    });
    return stream;
  }
}

/**
 * A model file of one class (`SequenceClassifier.load`): a file of another type is refused
 * naming its type and its loader, before anything is built.
 */
export async function loadModelOf(
  type: string,
  path: string,
  options: { device?: DeviceOption } = {},
): Promise<SequenceModel> {
  const device = loadDevice(`${type}.load`, options);
  return loadModel(new ModelFile(path, await loadCheckpoint(path)), device, type);
}
export function loadModelOfSync(type: string, path: string, options: { device?: DeviceOption } = {}): SequenceModel {
  const device = loadDevice(`${type}.loadSync`, options);
  return loadModel(new ModelFile(path, loadCheckpointSync(path)), device, type);
}

/** A sequence model from a model file, every tensor of which it uses. */
function loadModel(file: ModelFile, device?: Device, type: string | null = null): SequenceModel {
  const m = restore(file, device, undefined, type);
  try {
    file.done();
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}

/** fit and evaluate need targets: a clear error instead of a failure deep inside. */
function requireTargets(what: string, targets: unknown): void {
  if (targets === undefined || targets === null) {
    throw new TypeError(
      `${what}: targets must be given (a class id or vector per sequence, or one per step), received ${targets === null ? 'null' : 'undefined'}`,
    );
  }
}

export type { Gen };
