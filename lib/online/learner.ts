// An online learner: feeds a stream one step at a time to a SequenceTagger (unidirectional,
// feature inputs), predicts, and learns with RTRL, SnAp-1 or UORO — the recurrent stack's
// gradient is carried forward in time, the linear head is trained by ordinary backprop at each
// step, and the weights are updated every `updateEvery` steps. Memory does not grow with the
// stream: the learning state is fixed-size (see ExactRtrl).
import { CpuDevice } from '../device/cpu';
import type { Tensor } from '../device/tensor';
import { Exec } from '../exec';
import type { HostArray, OptimizerKind } from '../native';
import { FieldSpec, optionsObject, resolveOptions } from '../options';
import { SequenceModel } from '../models/base';
import { MODEL_META_KEYS, restore } from '../models/persistence';
import { checkResolved, initializing, ModelFile, withoutInit } from '../models/file-checks';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint';
import type { CheckpointTensor } from '../checkpoint';

/** The fields of an online learner's state in its file. */
const LEARNER_KEYS = [
  'config',
  'optimizer',
  'optimizerStep',
  'steps',
  'pending',
  'pendingLoss',
  'updates',
  'schedule',
  'layers',
  'B',
  'rng',
];
import { Optimizer, OptimizerOptions } from '../train/optimizer';
import { UpdateOptions, UpdatePipeline } from '../train/pipeline';
import { Schedule, ScheduleOptions, ScheduleState } from '../train/schedules';
import { ExactRtrl, OnlineAlgorithm } from './exact-rtrl';

export interface OnlineLearnerOptions {
  /** 'rtrl' (exact, default), 'snap1' or 'uoro'. */
  algorithm?: OnlineAlgorithm;
  optimizer?: OptimizerOptions | OptimizerKind;
  /** Apply the accumulated gradient every this many steps (default 1). */
  updateEvery?: number;
  /** Clip the global gradient norm of each update (default none). */
  clipNorm?: number | null;
  /** Clip every gradient element to [-v, v] (default none). */
  clipValue?: number | null;
  /** Weight decay, L1 penalty and what a non-finite gradient does: as in fit (lib/train/pipeline.ts). */
  weightDecay?: number;
  weightDecayMode?: 'l2' | 'decoupled';
  l1?: number;
  onNonFinite?: 'error' | 'skip';
  /**
   * Learning-rate schedule as in fit, where one epoch of the schedule is one update (so a
   * { type: 'step', stepSize: 1000 } schedule decays every 1000 updates; reduceOnPlateau
   * watches the mean loss of the steps of each update).
   */
  schedule?: ScheduleOptions;
  /** Seed of UORO's random signs (default 0). */
  seed?: number;
}
const OPTIONS: Record<string, FieldSpec> = {
  algorithm: { type: 'enum', values: ['rtrl', 'snap1', 'uoro'], default: 'rtrl', doc: 'learning rule' },
  updateEvery: { type: 'int', min: 1, default: 1, doc: 'steps per update' },
  clipNorm: { type: 'number', min: 0, default: null, nullable: true, doc: 'clip' },
  clipValue: { type: 'number', min: 0, default: null, nullable: true, doc: 'max element' },
  weightDecay: { type: 'number', min: 0, max: 1e6, default: 0, doc: 'weight decay' },
  weightDecayMode: { type: 'enum', values: ['l2', 'decoupled'], default: 'l2', doc: 'how weight decay applies' },
  l1: { type: 'number', min: 0, max: 1e6, default: 0, doc: 'L1 penalty' },
  onNonFinite: { type: 'enum', values: ['error', 'skip'], default: 'error', doc: 'non-finite handling' },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, default: 0, doc: 'seed' },
};
type LearnerConfig = UpdateOptions & { algorithm: OnlineAlgorithm; updateEvery: number; seed: number };

export class OnlineLearner {
  readonly config: LearnerConfig;
  private readonly pipeline: UpdatePipeline;
  private readonly schedule: Schedule;
  private readonly scheduleOptions: ScheduleOptions | undefined;
  /** Updates done; the schedule's epoch counter. */
  updates = 0;
  private pendingLoss = 0;
  private readonly engine: ExactRtrl;
  private readonly device: CpuDevice;
  private readonly optimizer: Optimizer;
  private readonly rnnOffset: number;
  private readonly headW: HostArray;
  private readonly headB: HostArray | null;
  private readonly dHeadW: HostArray;
  private readonly dHeadB: HostArray | null;
  private readonly params: HostArray;
  private readonly grads: HostArray;
  private readonly task: 'classification' | 'regression' | 'multilabel';
  private readonly inputSize: number;
  private readonly outSize: number;
  private pending = 0;
  /** Steps seen since the last reset. */
  steps = 0;
  private readonly model: SequenceModel;
  private readonly optimizerOptions: OptimizerOptions | undefined;

  constructor(model: SequenceModel, options: OnlineLearnerOptions = {}) {
    optionsObject('OnlineLearner', options);
    this.model = model;
    this.optimizerOptions = typeof options.optimizer === 'string' ? { type: options.optimizer } : options.optimizer;
    if (!(model instanceof SequenceModel) || model.type !== 'SequenceTagger')
      throw new TypeError('OnlineLearner: model must be a SequenceTagger (one output per step)');
    const { optimizer, schedule, ...rest } = options;
    this.config = resolveOptions('OnlineLearner', OPTIONS, rest);
    const { net, spec, weights } = model.internals();
    const c = model.config as Record<string, unknown>;
    if (c.bidirectional)
      throw new RangeError(
        'OnlineLearner: a bidirectional model needs the whole sequence; online learning (RTRL, SnAp-1, UORO) runs forward in time only',
      );
    if (spec.input.kind !== 'features')
      throw new RangeError('OnlineLearner: the model must take feature inputs (inputSize), not token ids');
    if (c.initialState === 'learnable' || c.dropout !== 0)
      throw new RangeError('OnlineLearner: learnable initial states and dropout are not supported online');
    if (c.dtype !== 'float32' && c.dtype !== 'float64') throw new TypeError('OnlineLearner: unsupported dtype');
    const entries = net.params.list();
    const first = entries.find((e) => e.name === 'rnn.weight_ih_l0');
    if (!first) throw new Error('OnlineLearner: the model has no recurrent layer named rnn');
    this.rnnOffset = first.offset;
    const cell = c.cell === 'rnn' ? 'elman' : (c.cell as 'lstm' | 'gru');
    // online learning runs on host memory: the CPU device's tensors are the arrays themselves
    const dev = model.device;
    if (!(dev instanceof CpuDevice) || !dev.capabilities.online) {
      throw new RangeError(
        `OnlineLearner: needs a device with the 'online' capability (CPU); the model's device '${dev.name}' has none`,
      );
    }
    this.device = dev;
    this.engine = new ExactRtrl(dev.kernels, {
      algorithm: this.config.algorithm,
      seed: this.config.seed,
      cell,
      inputSize: spec.input.F,
      hiddenSize: c.hiddenSize as number,
      numLayers: c.numLayers as number,
      activation: c.activation as 'tanh',
      gruVariant: c.gruVariant as 'pytorch',
      dtype: c.dtype as 'float32',
    });
    const host = (t: Tensor) => dev.hostMemory(t) as HostArray;
    this.params = host(net.params.params);
    this.grads = host(net.params.grads);
    this.headW = host(net.params.param('head.weight'));
    this.dHeadW = host(net.params.gradient('head.weight'));
    this.headB = net.params.has('head.bias') ? host(net.params.param('head.bias')) : null;
    this.dHeadB = net.params.has('head.bias') ? host(net.params.gradient('head.bias')) : null;
    this.task = spec.task;
    this.inputSize = spec.input.F;
    this.outSize = spec.outSize;
    this.optimizer = new Optimizer(optimizer, new Exec(dev, false), this.params.length, c.dtype as 'float32');
    this.pipeline = new UpdatePipeline(dev, net.params, weights);
    this.schedule = new Schedule(schedule, this.optimizer.config.lr);
    this.scheduleOptions = schedule;
    // A load sets the state from the file (after checking its size): nothing to allocate here.
    if (initializing()) this.reset();
  }

  /** Forgets the state (and the carried sensitivities); keeps the weights. */
  reset(): void {
    this.engine.reset(1);
    this.grads.fill(0);
    this.pending = 0;
    this.pendingLoss = 0;
    this.steps = 0;
  }

  /** The learning rate of the next update (the schedule's). */
  get lr(): number {
    return this.schedule.lr;
  }

  /** Saves the model and the learner's whole state: states, sensitivities, optimizer, pending gradient. */
  async save(path: string): Promise<void> {
    const cp = this.model.checkpoint();
    const st = this.engine.getState();
    const t = cp.tensors as Record<string, CheckpointTensor>;
    const put = (name: string, a: HostArray | Float64Array) => {
      t[name] = { data: a.slice(), shape: [a.length] };
    };
    st.h.forEach((hs, b) => hs.forEach((a, l) => put(`learner/h/${b}/${l}`, a)));
    st.c.forEach((cs, b) => cs.forEach((a, l) => put(`learner/c/${b}/${l}`, a)));
    st.sens.forEach((a, b) => put(`learner/sens/${b}`, a));
    st.sTilde.forEach((a, b) => put(`learner/stilde/${b}`, a));
    st.thTilde.forEach((a, b) => put(`learner/thtilde/${b}`, a));
    put('learner/grads', this.grads);
    this.optimizer.state.forEach((a, i) => put(`learner/optimizer/${i}`, this.device.hostMemory(a) as HostArray));
    (cp.meta as Record<string, unknown>).learner = {
      config: this.config,
      optimizer: this.optimizerOptions ?? null,
      optimizerStep: this.optimizer.step,
      steps: this.steps,
      pending: this.pending,
      pendingLoss: this.pendingLoss,
      updates: this.updates,
      schedule: { options: this.scheduleOptions ?? null, state: this.schedule.state },
      layers: st.h[0]?.length ?? 0,
      B: st.B,
      rng: st.rng,
    };
    await saveCheckpoint(path, cp);
  }

  /**
   * Restores a learner (and its model) saved by save(); the stream continues where it stopped.
   * Every field is checked, and every state tensor against the size the learner needs before
   * any of that state is allocated.
   */
  static async load(path: string): Promise<OnlineLearner> {
    const file = new ModelFile(path, await loadCheckpoint(path));
    const model = restore(file, undefined, [...MODEL_META_KEYS, 'learner']);
    try {
      return OnlineLearner.fromFile(file, model);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  private static fromFile(file: ModelFile, model: SequenceModel): OnlineLearner {
    const meta = file.cp.meta as Record<string, unknown>;
    const m = file.object(meta.learner, 'learner', LEARNER_KEYS);
    const config = file.record(m.config, 'learner.config');
    const optimizer = m.optimizer === null ? undefined : file.record(m.optimizer, 'learner.optimizer');
    const sc = file.object(m.schedule, 'learner.schedule', ['options', 'state']);
    const schedule = sc.options === null ? undefined : file.record(sc.options, 'learner.schedule.options');
    for (const k of ['optimizer', 'schedule'])
      if (Object.hasOwn(config, k)) file.fail(`learner.config has unexpected field '${k}' (stored beside it)`);
    const l = file.validated('learner.config', () =>
      withoutInit(
        () =>
          new OnlineLearner(model, {
            ...config,
            optimizer: optimizer as OptimizerOptions | undefined,
            schedule: schedule as ScheduleOptions | undefined,
          } as OnlineLearnerOptions),
      ),
    );
    checkResolved(file, config, l.config);
    const st = file.object(sc.state, 'learner.schedule.state', ['lr', 'best', 'bad']);
    const state: ScheduleState = {
      lr: file.finite(st.lr, 'learner.schedule.state.lr', 0, 1e6),
      best: file.finiteOrNull(st.best, 'learner.schedule.state.best'),
      bad: file.count(st.bad, 'learner.schedule.state.bad'),
    };
    const layers = (model.config as Record<string, unknown>).numLayers as number;
    if (m.layers !== layers) throw file.error('learner.layers', `${layers} (the model's numLayers)`, m.layers);
    // One stream: reset() is the only way a learner sets its batch.
    if (m.B !== 1) throw file.error('learner.B', '1 (an online learner runs one stream)', m.B);
    const pending = file.count(m.pending, 'learner.pending');
    if (pending >= l.config.updateEvery)
      throw file.error('learner.pending', `an integer below updateEvery (${l.config.updateEvery})`, m.pending);
    const pendingLoss = file.finite(m.pendingLoss, 'learner.pendingLoss', 0);
    if (pending === 0 && pendingLoss !== 0)
      throw file.error('learner.pendingLoss', '0 when nothing is pending', pendingLoss);
    const counters = {
      optimizerStep: file.count(m.optimizerStep, 'learner.optimizerStep'),
      steps: file.count(m.steps, 'learner.steps'),
      updates: file.count(m.updates, 'learner.updates'),
    };
    const rng = file.rngState(m.rng, 'learner.rng');
    const e = l.engine,
      dt = l.params instanceof Float64Array ? 'float64' : 'float32',
      uoro = l.config.algorithm === 'uoro';
    const per = l.config.algorithm === 'snap1' ? e.keptEntries : e.S * e.P;
    const h = [Array.from({ length: layers }, (_, i) => file.tensor(`learner/h/0/${i}`, dt, [e.H]) as HostArray)];
    const c = [Array.from({ length: layers }, (_, i) => file.tensor(`learner/c/0/${i}`, dt, [e.H]) as HostArray)];
    const sens = uoro ? [] : [file.tensor('learner/sens/0', dt, [per]) as HostArray];
    const sT = uoro ? [file.tensor('learner/stilde/0', 'float64', [e.S]) as Float64Array] : [];
    const thT = uoro ? [file.tensor('learner/thtilde/0', 'float64', [e.P]) as Float64Array] : [];
    const grads = file.tensor('learner/grads', dt, [l.params.length]);
    const opt = l.optimizer.state.map((_, i) => file.tensor(`learner/optimizer/${i}`, dt, [l.params.length]));
    file.done();
    l.schedule.state = state;
    l.engine.setState({ B: 1, h, c, sens, sTilde: sT, thTilde: thT, rng });
    l.grads.set(grads);
    l.optimizer.state.forEach((a, i) => l.device.write(a, opt[i]));
    l.optimizer.step = counters.optimizerStep;
    l.steps = counters.steps;
    l.pending = pending;
    l.pendingLoss = pendingLoss;
    l.updates = counters.updates;
    return l;
  }

  /** Bytes of the learning state (constant over the stream). */
  get stateBytes(): number {
    return this.engine.sensitivityBytes;
  }

  /**
   * One step of the stream: x (input features) → the prediction for this step (class
   * probabilities, sigmoid outputs or values). With a target, the gradient accumulates and the
   * weights update every `updateEvery` steps.
   */
  step(x: ArrayLike<number>, target?: number | ArrayLike<number>): number[] {
    if (!x || x.length !== this.inputSize)
      throw new RangeError(
        `OnlineLearner.step: x must have ${this.inputSize} features, received ${x ? x.length : typeof x}`,
      );
    const xs = this.params instanceof Float64Array ? Float64Array.from(x) : Float32Array.from(x);
    for (let i = 0; i < xs.length; i++)
      if (!Number.isFinite(xs[i]))
        throw new RangeError(`OnlineLearner.step: x[${i}] must be a finite number, received ${xs[i]}`);
    const rnnParams = this.params.subarray(this.rnnOffset, this.rnnOffset + this.engine.P);
    const h = this.engine.step(xs, rnnParams);
    const H = h.length,
      O = this.outSize;
    const z = new Float64Array(O);
    for (let o = 0; o < O; o++) {
      let v = this.headB ? this.headB[o] : 0;
      for (let j = 0; j < H; j++) v += this.headW[o * H + j] * h[j];
      z[o] = v;
    }
    const pred =
      this.task === 'classification'
        ? softmax(z)
        : this.task === 'multilabel'
          ? Array.from(z, (v) => 1 / (1 + Math.exp(-v)))
          : Array.from(z);
    this.steps++;
    if (target === undefined) return pred;
    // dL/dz and the loss of this step (cross-entropy, binary cross-entropy or squared error)
    const dz = new Float64Array(O);
    let loss = 0;
    if (this.task === 'classification') {
      if (typeof target !== 'number' || !Number.isInteger(target) || target < 0 || target >= O)
        throw new RangeError(
          `OnlineLearner.step: target must be a class id in [0, ${O - 1}], received ${String(target)}`,
        );
      for (let o = 0; o < O; o++) dz[o] = pred[o] - (o === target ? 1 : 0);
      loss = -Math.log(pred[target]);
    } else {
      const t = typeof target === 'number' ? [target] : Array.from(target);
      if (t.length !== O || !t.every(Number.isFinite))
        throw new RangeError(`OnlineLearner.step: target must be ${O} finite numbers`);
      for (let o = 0; o < O; o++) {
        dz[o] = this.task === 'multilabel' ? pred[o] - t[o] : (2 * (pred[o] - t[o])) / O;
        loss +=
          this.task === 'multilabel'
            ? (Math.max(z[o], 0) - z[o] * t[o] + Math.log1p(Math.exp(-Math.abs(z[o])))) / O
            : (pred[o] - t[o]) ** 2 / O;
      }
    }
    const dh = this.params instanceof Float64Array ? new Float64Array(H) : new Float32Array(H);
    for (let o = 0; o < O; o++) {
      if (this.dHeadB) this.dHeadB[o] += dz[o];
      for (let j = 0; j < H; j++) {
        this.dHeadW[o * H + j] += dz[o] * h[j];
        dh[j] += this.headW[o * H + j] * dz[o];
      }
    }
    this.engine.accumulate(dh, this.grads.subarray(this.rnnOffset, this.rnnOffset + this.engine.P));
    this.pendingLoss += loss;
    if (++this.pending >= this.config.updateEvery) {
      this.pipeline.runSync(this.optimizer, this.schedule.lr, this.config, 'OnlineLearner.step');
      this.schedule.epochEnd(this.updates, this.pendingLoss / this.pending);
      this.updates++;
      this.grads.fill(0);
      this.pending = 0;
      this.pendingLoss = 0;
    }
    return pred;
  }
}

function softmax(z: Float64Array): number[] {
  const m = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
