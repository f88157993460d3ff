// What every ready model shares: a Sequential network plus a loss, and fit / evaluate / predict /
// save / load around them. Training runs its native work off the main thread (async drivers),
// so the event loop stays free while a model trains.
import { loadCheckpoint, loadCheckpointSync, saveCheckpoint, saveCheckpointSync } from '../checkpoint';
import type { Checkpoint, CheckpointTensor } from '../checkpoint';
import { cpu } from '../cpu-backend';
import { Exec, Gen, runAsync, runSync } from '../exec';
import { Scratch, ScratchPool, Tape } from '../graph/tape';
import { WeightsLock } from '../graph/weights-lock';
import type { HostArray } from '../native';
import { resolveOptions } from '../options';
import { Rng } from '../rng';
import { Sequential } from '../sequential';
import type { Act, Ctx, Layer, RecurrentState, SeqAct, VecAct } from '../layers/layer';
import { allocLike } from '../layers/layer';
import { ExactRtrl } from '../online/exact-rtrl';
import type { OnlineAlgorithm } from '../online/exact-rtrl';
import { copyStates } from '../layers/layer';
import { parameterTensors, stateDictFromTensors } from '../params';
import { Batch, DataSpec, Samples, SequenceInput, TargetInput, batchOrder, makeBatch, toSamples } from '../train/data';
import { EpochInfo, FIT_OBJECT_FIELDS, FIT_OPTIONS, FitOptions, History, Metrics } from '../train/fit-options';
import { computeLoss, countCorrect, Targets } from '../train/losses';
import { Optimizer, OptimizerOptions } from '../train/optimizer';
import { Schedule, ScheduleOptions, ScheduleState } from '../train/schedules';

type Resolved = Required<Omit<FitOptions, 'validationData' | 'optimizer' | 'schedule' | 'earlyStopping' | 'onBatchEnd' | 'onEpochEnd' | 'signal' | 'classWeights'>>;

interface TrainState {
  optimizer: Optimizer | null;
  optimizerOptions: OptimizerOptions | undefined;
  schedule: Schedule | null;
  scheduleOptions: ScheduleOptions | undefined;
  epoch: number; // completed epochs
  early: { best: number | null; wait: number };
}

export const MODEL_FORMAT = 'rnnkit-model';

/** Registry of model classes for load(). */
const registry = new Map<string, (options: unknown) => SequenceModel>();
export function registerModel(type: string, make: (options: unknown) => SequenceModel): void { registry.set(type, make); }

export abstract class SequenceModel {
  abstract readonly type: string;
  /** Resolved constructor options (stored in model files). */
  abstract readonly config: Record<string, unknown> & { seed: number; dtype: 'float32' | 'float64' };
  protected abstract readonly net: Sequential;
  protected abstract readonly spec: DataSpec;
  /** Recurrent layers whose state truncated BPTT carries between windows. */
  protected abstract readonly recurrent: Layer[];

  protected rng!: Rng;
  private disposed = false;
  private busy = false;
  /** Scratch buffers of calls: each call takes its own, so concurrent calls never share one. */
  private readonly scratch = new ScratchPool();
  /** Predictions read, fit's updates write: a prediction never sees half an update. */
  private readonly weights = new WeightsLock();
  private train: TrainState = { optimizer: null, optimizerOptions: undefined, schedule: null, scheduleOptions: undefined, epoch: 0, early: { best: null, wait: 0 } };

  /** Called by subclasses once the network is built. */
  protected ready(): void {
    this.rng = new Rng(this.config.seed);
    this.net.initialize(this.rng);
  }

  protected live(what: string): void {
    if (this.disposed) throw new Error(`${this.type}.${what}: the model was disposed`);
  }

  /** Frees the model's buffers; every later call throws. */
  dispose(): void { this.disposed = true; this.train.optimizer = null; }

  /** @internal The network and what it expects (online learners drive it directly). */
  internals(): { net: Sequential; spec: DataSpec; recurrent: Layer[] } { this.live('internals'); return { net: this.net, spec: this.spec, recurrent: this.recurrent }; }

  /** Completed training epochs (restored by load). */
  get epoch(): number { return this.train.epoch; }

  /** Parameters with PyTorch's names and shapes (views: writing them changes the model). */
  parameters() { this.live('parameters'); return this.net.parameters(); }
  stateDict() { this.live('stateDict'); return this.net.stateDict(); }
  loadStateDict(sd: Record<string, ArrayLike<number>>, strict = true) { this.live('loadStateDict'); this.net.loadStateDict(sd, strict); }

  /** A call's context; the scratch is reset, so buffers of the previous call it served are reused. */
  private ctx(async: boolean, training: boolean, scratch: Scratch): Ctx {
    scratch.reset();
    return {
      exec: new Exec(cpu(), async), training, rng: this.rng, dtype: this.config.dtype,
      initialStates: new Map(), finalStates: new Map(), tape: new Tape(scratch),
    };
  }

  // ---------------------------------------------------------------- fit

  async fit(inputs: SequenceInput, targets: TargetInput, options: FitOptions = {}): Promise<History> {
    this.live('fit');
    if (this.busy) throw new Error(`${this.type}.fit: the model is already training (another fit is running); one model runs one fit at a time`);
    const o = this.fitOptions(options);
    const all = toSamples(`${this.type}.fit`, this.spec, inputs, targets, this.config.dtype);
    let train = all, val: Samples | null = null;
    if (options.validationData) {
      val = toSamples(`${this.type}.fit (validationData)`, this.spec, options.validationData.inputs, options.validationData.targets, this.config.dtype);
    } else if (o.validationSplit > 0) {
      const nVal = Math.floor(all.size * o.validationSplit);
      if (nVal < 1 || nVal >= all.size) throw new RangeError(`${this.type}.fit: validationSplit ${o.validationSplit} leaves ${all.size - nVal} training and ${nVal} validation sequences; both must be at least 1`);
      train = all.subset([...Array(all.size - nVal).keys()]);
      val = all.subset([...Array(nVal).keys()].map((i) => all.size - nVal + i));
    }
    if (o.tbptt !== null && o.learning !== 'bptt') throw new RangeError(`${this.type}.fit: tbptt applies to learning 'bptt' only, received learning '${o.learning}'`);
    if (o.tbptt !== null && this.spec.level === 'sequence' && this.needsWholeSequence()) {
      throw new RangeError(`${this.type}.fit: tbptt needs pooling 'last' (the loss must depend on the final state only)`);
    }
    const classWeights = this.classWeights(options.classWeights);
    if (o.seed !== null) this.rng = new Rng(o.seed);
    const st = this.train;
    let newOptimizer = false;
    if (!st.optimizer || JSON.stringify(options.optimizer) !== JSON.stringify(st.optimizerOptions)) {
      if (!(o.resume && st.optimizer)) {
        st.optimizer = new Optimizer(options.optimizer, new Exec(cpu(), true), this.net.params.size, this.config.dtype);
        st.optimizerOptions = options.optimizer;
        newOptimizer = true;
      }
    }
    const opt = st.optimizer!;
    // a new optimizer brings its own learning rate: the schedule restarts from it
    if (!st.schedule || newOptimizer || JSON.stringify(options.schedule) !== JSON.stringify(st.scheduleOptions)) {
      if (!(o.resume && st.schedule)) {
        st.schedule = new Schedule(options.schedule, opt.config.lr);
        st.scheduleOptions = options.schedule;
      }
    }
    const sched = st.schedule!;
    const es = options.earlyStopping ? { monitor: options.earlyStopping.monitor ?? (val ? 'valLoss' : 'loss'), patience: options.earlyStopping.patience ?? 5, minDelta: options.earlyStopping.minDelta ?? 0, restoreBest: options.earlyStopping.restoreBest ?? false } : null;
    if (es && es.monitor === 'valLoss' && !val) throw new RangeError(`${this.type}.fit: earlyStopping monitors valLoss but no validation data was given`);
    if (!o.resume) st.early = { best: null, wait: 0 };
    // Epoch numbers continue across fit calls (schedules see them); resume trains up to `epochs`
    // in total, otherwise `epochs` more.
    const start = st.epoch, end = o.resume ? o.epochs : st.epoch + o.epochs;
    const history: History = { epochs: [], stoppedEarly: false };
    let bestParams: HostArray | null = null;

    this.busy = true;
    const scratch = this.scratch.acquire();
    try {
      for (let e = start; e < end; e++) {
        const order = batchOrder(train, o.batchSize, o.shuffle, o.bucketByLength, this.rng);
        let lossSum = 0, lossCount = 0, normSum = 0, updates = 0, correct = 0, total = 0;
        for (let bi = 0; bi < order.length; bi++) {
          if (options.signal?.aborted) throw options.signal.reason ?? new DOMException('fit was aborted', 'AbortError');
          const batch = makeBatch(train, order[bi], this.config.dtype);
          const r = await this.trainBatch(batch, o, opt, sched.lr, classWeights, e, bi, scratch);
          if (!r.skipped) {
            lossSum += r.loss * r.count; lossCount += r.count; normSum += r.gradNorm; updates += r.updates;
            correct += r.correct; total += r.total;
          }
          if (options.onBatchEnd) await options.onBatchEnd({ epoch: e, batch: bi, step: opt.step, loss: r.loss, gradNorm: r.gradNorm, lr: sched.lr, skipped: r.skipped });
        }
        const loss = lossCount ? lossSum / lossCount : NaN;
        const metrics = this.metrics(loss, correct, total);
        const valMetrics = val ? await this.evaluateSamples(val, o.batchSize, classWeights, true) : null;
        const info: EpochInfo = { epoch: e, loss, metrics, valLoss: valMetrics ? valMetrics.loss : null, valMetrics, gradNorm: updates ? normSum / updates : 0, lr: sched.lr };
        sched.epochEnd(e, valMetrics ? valMetrics.loss : loss);
        st.epoch = e + 1;
        history.epochs.push(info);
        if (options.onEpochEnd) await options.onEpochEnd(info);
        if (es) {
          const m = es.monitor === 'valLoss' ? info.valLoss! : info.loss;
          if (st.early.best === null || m < st.early.best - es.minDelta) {
            st.early = { best: m, wait: 0 };
            if (es.restoreBest) bestParams = this.net.params.params.slice();
          } else if (++st.early.wait >= es.patience) {
            history.stoppedEarly = true;
            if (bestParams) { const best = bestParams; await this.weights.write(async () => { this.net.params.params.set(best); }); }
            break;
          }
        }
      }
    } finally {
      this.busy = false;
      this.scratch.release(scratch);
    }
    return history;
  }

  private fitOptions(options: FitOptions): Resolved {
    if (options === null || typeof options !== 'object') throw new TypeError(`${this.type}.fit: options must be an object, received ${options === null ? 'null' : typeof options}`);
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options)) if (!FIT_OBJECT_FIELDS.includes(k)) plain[k] = v;
    // learning: { tbptt: k } is another way to write truncated BPTT
    const l = plain.learning as unknown;
    if (l !== null && typeof l === 'object') {
      const k = (l as { tbptt?: unknown }).tbptt;
      if (Object.keys(l).length !== 1 || k === undefined) throw new TypeError(`${this.type}.fit: learning must be 'bptt', 'rtrl', 'snap1', 'uoro' or { tbptt: k }, received ${JSON.stringify(l)}`);
      if (plain.tbptt !== undefined && plain.tbptt !== k) throw new RangeError(`${this.type}.fit: give the TBPTT window once (learning.tbptt ${String(k)} and tbptt ${String(plain.tbptt)})`);
      plain.learning = 'bptt';
      plain.tbptt = k;
    }
    const o = resolveOptions<Resolved>(`${this.type}.fit`, FIT_OPTIONS, plain);
    for (const k of ['onBatchEnd', 'onEpochEnd'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'function') throw new TypeError(`${this.type}.fit: ${k} must be a function, received ${typeof options[k]}`);
    }
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError(`${this.type}.fit: signal must be an AbortSignal`);
    if (options.validationData !== undefined && o.validationSplit > 0) throw new RangeError(`${this.type}.fit: give validationData or validationSplit, not both`);
    return o;
  }

  private classWeights(w: number[] | null | undefined): HostArray | null {
    if (w === undefined || w === null) return null;
    if (this.spec.task !== 'classification') throw new RangeError(`${this.type}.fit: classWeights apply to classification only`);
    if (!Array.isArray(w) || w.length !== this.spec.outSize || !w.every((v) => Number.isFinite(v) && v >= 0)) {
      throw new RangeError(`${this.type}.fit: classWeights must be ${this.spec.outSize} non-negative numbers, received ${JSON.stringify(w)}`);
    }
    return this.config.dtype === 'float64' ? Float64Array.from(w) : Float32Array.from(w);
  }

  /** Whether the loss needs every step at once (pooling other than 'last'). */
  protected needsWholeSequence(): boolean { return false; }

  private async trainBatch(batch: Batch, o: Resolved, opt: Optimizer, lr: number, classWeights: HostArray | null, epoch: number, bi: number, scratch: Scratch) {
    if (o.learning !== 'bptt') return this.trainOnline(batch, o, opt, lr, classWeights, epoch, bi, scratch);
    return this.trainWindows(batch, o, opt, lr, classWeights, epoch, bi, scratch);
  }

  /**
   * One batch with gradients carried forward in time (RTRL, SnAp-1, UORO): the recurrent stack
   * steps through the batch, the head's loss is taken at every valid step (taggers) or at each
   * sequence's last step (classifiers), and one update follows, as with BPTT.
   */
  private async trainOnline(batch: Batch, o: Resolved, opt: Optimizer, lr: number, classWeights: HostArray | null, epoch: number, bi: number, scratch: Scratch) {
    const c = this.config as Record<string, unknown>;
    if (c.bidirectional) throw new RangeError(`${this.type}.fit: learning '${o.learning}' runs forward in time and cannot train a bidirectional model`);
    if (this.spec.input.kind !== 'features' || c.initialState === 'learnable' || (c.dropout as number) > 0 || (c.pooling !== undefined && c.pooling !== 'last')) {
      throw new RangeError(`${this.type}.fit: learning '${o.learning}' needs feature inputs, pooling 'last', no dropout and no learnable initial state`);
    }
    const x = batch.x as SeqAct, y = batch.y!;
    const { T, B, F } = x;
    const H = c.hiddenSize as number, O = this.spec.outSize;
    const P = this.net.params, g = P.grads;
    const rnnOffset = P.list().find((e) => e.name === 'rnn.weight_ih_l0')!.offset;
    const engine = new ExactRtrl(cpu(), { algorithm: o.learning as OnlineAlgorithm, seed: this.rng.nextU32(), cell: c.cell === 'rnn' ? 'elman' : (c.cell as 'lstm' | 'gru'), inputSize: F, hiddenSize: H, numLayers: c.numLayers as number, activation: c.activation as 'tanh', gruVariant: c.gruVariant as 'pytorch', dtype: this.config.dtype });
    engine.reset(B);
    P.zeroGrad();
    const rnnParams = P.params.subarray(rnnOffset, rnnOffset + engine.P), rnnGrads = g.subarray(rnnOffset, rnnOffset + engine.P);
    const head = (this.net.layers[this.net.layers.length - 1]);
    const lengths = x.lengths ?? new Int32Array(B).fill(T);
    // BPTT's loss is one mean over every counted row (weighted by class weights): each step's
    // share of it is its rows' total weight over the batch's
    const rowWeight = (t: number, b: number) => (y.kind === 'classes' && classWeights ? classWeights[y.data[this.spec.level === 'sequence' ? b : t * B + b]] : 1);
    let totalWeight = 0;
    for (let b = 0; b < B; b++) {
      if (this.spec.level === 'sequence') totalWeight += rowWeight(lengths[b] - 1, b);
      else for (let t = 0; t < lengths[b]; t++) totalWeight += rowWeight(t, b);
    }
    let loss = 0, count = 0, correct = 0, total = 0;
    for (let t = 0; t < T; t++) {
      const h = engine.step(x.data.subarray(t * B * F, (t + 1) * B * F), rnnParams);
      const stepRows = Array.from({ length: B }, (_, b) => (this.spec.level === 'step' ? t < lengths[b] : t === lengths[b] - 1));
      if (!stepRows.some(Boolean)) continue;
      const ctx = this.ctx(false, true, scratch);
      const out = runSync(head.forward({ kind: 'vec', data: h, B, F: H }, ctx, P)) as VecAct;
      // the loss of this step: its counted rows only, weighted as in the batch-wide mean of BPTT
      const rows = stepRows.flatMap((v, b) => (v ? [b] : []));
      const sub: VecAct = { kind: 'vec', data: out.data.slice(0, 0), B: rows.length, F: O };
      sub.data = this.config.dtype === 'float64' ? new Float64Array(rows.length * O) : new Float32Array(rows.length * O);
      rows.forEach((b, i) => sub.data.set(out.data.subarray(b * O, (b + 1) * O), i * O));
      const tRow = (b: number) => (this.spec.level === 'sequence' ? b : t * B + b);
      const targets: Targets = y.kind === 'classes'
        ? { kind: 'classes', data: Int32Array.from(rows, (b) => y.data[tRow(b)]) }
        : { kind: 'values', data: (() => { const d = sub.data.slice(); rows.forEach((b, i) => d.set(y.data.subarray(tRow(b) * O, (tRow(b) + 1) * O), i * O)); return d; })() };
      const r = computeLoss(cpu(), this.spec.task, sub, targets, classWeights);
      if (!Number.isFinite(r.loss)) {
        if (o.onNonFinite === 'skip') return { loss: NaN, count: 0, gradNorm: 0, updates: 0, correct: 0, total: 0, skipped: true };
        throw new Error(`${this.type}.fit: non-finite loss ${r.loss} at epoch ${epoch}, batch ${bi}, step ${opt.step + 1}`);
      }
      const dOut = allocLike(this.config.dtype, B * O);
      const share = rows.reduce((a, b2) => a + rowWeight(t, b2), 0) / totalWeight;
      rows.forEach((b, i) => { for (let j = 0; j < O; j++) dOut[b * O + j] = r.grad.data[i * O + j] * share; });
      const dh = runSync(head.backward({ kind: 'vec', data: dOut, B, F: O }, ctx, P)) as VecAct;
      engine.accumulate(dh.data, rnnGrads);
      const cc = countCorrect(this.spec.task, sub, targets);
      loss += r.loss * share; count += rows.length; correct += cc.correct; total += cc.total;
    }
    const p = P.params;
    if (o.l1 > 0) for (let i = 0; i < g.length; i++) g[i] += o.l1 * Math.sign(p[i]);
    const norm = cpu().l2Norm(g);
    if (!Number.isFinite(norm)) {
      if (o.onNonFinite === 'skip') return { loss: NaN, count: 0, gradNorm: 0, updates: 0, correct: 0, total: 0, skipped: true };
      throw new Error(`${this.type}.fit: non-finite gradient (norm ${norm}) at epoch ${epoch}, batch ${bi}, step ${opt.step + 1}`);
    }
    if (o.clipNorm !== null && norm > o.clipNorm) { const k = o.clipNorm / (norm + 1e-6); for (let i = 0; i < g.length; i++) g[i] *= k; }
    if (o.clipValue !== null) { const v = o.clipValue; for (let i = 0; i < g.length; i++) g[i] = Math.min(v, Math.max(-v, g[i])); }
    await this.update(opt, p, g, lr, o);
    // loss is already the batch-wide (weighted) mean, as BPTT reports it
    return { loss: count ? loss : NaN, count, gradNorm: norm, updates: 1, correct, total, skipped: false };
  }

  /** Weight decay and the optimizer step: the one place fit writes the weights. */
  private update(opt: Optimizer, p: HostArray, g: HostArray, lr: number, o: Resolved): Promise<void> {
    return this.weights.write(async () => {
      const decoupled = opt.config.type === 'adamw' || o.weightDecayMode === 'decoupled';
      if (decoupled && opt.config.type !== 'adamw' && o.weightDecay > 0) {
        const k = 1 - lr * o.weightDecay;
        for (let i = 0; i < p.length; i++) p[i] *= k;
      }
      await opt.update(p, g, lr, opt.config.type === 'adamw' || !decoupled ? o.weightDecay : 0);
    });
  }

  private async trainWindows(batch: Batch, o: Resolved, opt: Optimizer, lr: number, classWeights: HostArray | null, epoch: number, bi: number, scratch: Scratch) {
    const windows = o.tbptt === null ? [[0, batch.T]] : splitWindows(batch.T, o.tbptt);
    let carried: Map<Layer, RecurrentState> = new Map();
    let loss = 0, count = 0, normSum = 0, updates = 0, correct = 0, total = 0, skipped = false;
    for (const [t0, t1] of windows) {
      const w = windows.length === 1 ? batch : sliceWindow(batch, t0, t1, this.spec.level === 'step');
      const lastWindow = t1 === batch.T;
      const ctx = this.ctx(true, true, scratch);
      ctx.initialStates = carried;
      this.net.params.zeroGrad();
      const nonFinite = (what: string) => {
        if (o.onNonFinite === 'skip') return true;
        throw new Error(`${this.type}.fit: non-finite ${what} at epoch ${epoch}, batch ${bi}, step ${opt.step + 1}; lower the learning rate or set clipNorm`);
      };
      let out: Act, r: ReturnType<typeof computeLoss>;
      try {
        out = await runAsync(this.net.forward(w.x, ctx));
        if (windows.length > 1) carried = copyStates(ctx.finalStates);
        if (this.spec.level === 'sequence' && !lastWindow) continue; // the loss sits on the final state
        r = computeLoss(cpu(), this.spec.task, out, w.y!, classWeights);
        if (!Number.isFinite(r.loss)) { if (nonFinite(`loss ${r.loss}`)) { skipped = true; continue; } }
        await runAsync(this.net.backward(r.grad, ctx));
      } catch (e) {
        // The kernels refuse non-finite activations between layers (diverged weights).
        if (e instanceof RangeError && /must be a finite number/.test(e.message)) {
          if (nonFinite(`activations (${e.message})`)) { skipped = true; continue; }
        }
        throw e;
      }
      const g = this.net.params.grads, p = this.net.params.params;
      if (o.l1 > 0) for (let i = 0; i < g.length; i++) g[i] += o.l1 * Math.sign(p[i]);
      const norm = cpu().l2Norm(g);
      if (!Number.isFinite(norm)) { if (nonFinite(`gradient (norm ${norm})`)) { skipped = true; continue; } }
      if (o.clipNorm !== null && norm > o.clipNorm) { const k = o.clipNorm / (norm + 1e-6); for (let i = 0; i < g.length; i++) g[i] *= k; }
      if (o.clipValue !== null) { const v = o.clipValue; for (let i = 0; i < g.length; i++) g[i] = Math.min(v, Math.max(-v, g[i])); }
      await this.update(opt, p, g, lr, o);
      const c = countCorrect(this.spec.task, out, w.y!);
      loss += r.loss * r.count; count += r.count; normSum += norm; updates++; correct += c.correct; total += c.total;
    }
    return { loss: count ? loss / count : NaN, count, gradNorm: updates ? normSum / updates : 0, updates, correct, total, skipped: skipped && updates === 0 };
  }

  // ---------------------------------------------------------------- evaluate / predict

  private metrics(loss: number, correct: number, total: number): Metrics {
    const m: Metrics = { loss };
    if (this.spec.task === 'classification') {
      if (this.spec.level === 'sequence') m.accuracy = total ? correct / total : 0;
      else { m.perTokenAccuracy = total ? correct / total : 0; m.accuracy = m.perTokenAccuracy; }
      m.perplexity = Math.exp(loss);
    } else if (this.spec.task === 'regression') m.mse = loss;
    else m.accuracy = total ? correct / total : 0;
    return m;
  }

  private async evaluateSamples(s: Samples, batchSize: number, classWeights: HostArray | null, async: boolean): Promise<Metrics> {
    let loss = 0, count = 0, correct = 0, total = 0;
    const add = (out: Act, b: Batch) => {
      const r = computeLoss(cpu(), this.spec.task, out, b.y!, classWeights);
      const c = countCorrect(this.spec.task, out, b.y!);
      loss += r.loss * r.count; count += r.count; correct += c.correct; total += c.total;
    };
    const batches = batchOrder(s, batchSize, false, false, this.rng);
    const done = () => this.metrics(count ? loss / count : NaN, correct, total);
    if (!async) {
      return this.weights.readSync(`${this.type}.evaluate`, () => this.scratch.usingSync((scratch) => {
        for (const idx of batches) {
          const b = makeBatch(s, idx, this.config.dtype);
          add(runSync(this.net.forward(b.x, this.ctx(false, false, scratch))), b);
        }
        return done();
      }));
    }
    return this.weights.read(() => this.scratch.using(async (scratch) => {
      for (const idx of batches) {
        const b = makeBatch(s, idx, this.config.dtype);
        add(await runAsync(this.net.forward(b.x, this.ctx(true, false, scratch))), b);
      }
      return done();
    }));
  }

  /** Loss and metrics (accuracy, per-token accuracy, perplexity or MSE, as the task has them). */
  async evaluate(inputs: SequenceInput, targets: TargetInput, options: { batchSize?: number } = {}): Promise<Metrics> {
    this.live('evaluate');
    const bs = resolveOptions<{ batchSize: number }>(`${this.type}.evaluate`, { batchSize: FIT_OPTIONS.batchSize }, options).batchSize;
    return this.evaluateSamples(toSamples(`${this.type}.evaluate`, this.spec, inputs, targets, this.config.dtype), bs, null, true);
  }

  /** Synchronous prediction, for small inputs (blocks the event loop while it runs). */
  predict(inputs: SequenceInput, options: { batchSize?: number } = {}): number[][] | number[][][] {
    this.live('predict');
    return this.predictWith(inputs, options, false) as number[][] | number[][][];
  }
  /** Prediction with the native work off the main thread. */
  async predictAsync(inputs: SequenceInput, options: { batchSize?: number } = {}): Promise<number[][] | number[][][]> {
    this.live('predictAsync');
    return this.predictWith(inputs, options, true) as Promise<number[][] | number[][][]>;
  }

  private predictWith(inputs: SequenceInput, options: { batchSize?: number }, async: boolean) {
    const bs = resolveOptions<{ batchSize: number }>(`${this.type}.predict`, { batchSize: FIT_OPTIONS.batchSize }, options).batchSize;
    const s = toSamples(`${this.type}.predict`, this.spec, inputs, null, this.config.dtype);
    const batches = batchOrder(s, bs, false, false, this.rng);
    const results: Array<number[] | number[][]> = [];
    const collect = (out: Act, b: Batch, idx: number[]) => this.collect(out, b, idx, results);
    if (!async) {
      return this.weights.readSync(`${this.type}.predict`, () => this.scratch.usingSync((scratch) => {
        for (const idx of batches) {
          const b = makeBatch(s, idx, this.config.dtype);
          collect(runSync(this.net.forward(b.x, this.ctx(false, false, scratch))), b, idx);
        }
        return results;
      }));
    }
    return this.weights.read(() => this.scratch.using(async (scratch) => {
      for (const idx of batches) {
        const b = makeBatch(s, idx, this.config.dtype);
        collect(await runAsync(this.net.forward(b.x, this.ctx(true, false, scratch))), b, idx);
      }
      return results;
    }));
  }

  /** Output rows as probabilities (classification: softmax; multilabel: sigmoid) or values. */
  private collect(out: Act, b: Batch, idx: number[], results: Array<number[] | number[][]>) {
    if (out.kind === 'ids') return;
    const F = out.F;
    const row = (off: number): number[] => {
      const v = Array.from(out.data.subarray(off, off + F));
      if (this.spec.task === 'classification') { const m = Math.max(...v); const e = v.map((z) => Math.exp(z - m)); const s = e.reduce((a, c) => a + c, 0); return e.map((z) => z / s); }
      if (this.spec.task === 'multilabel') return v.map((z) => 1 / (1 + Math.exp(-z)));
      return v;
    };
    idx.forEach((sampleIndex, bb) => {
      if (out.kind === 'vec') results[sampleIndex] = row(bb * F);
      else {
        const len = out.lengths ? out.lengths[bb] : out.T;
        results[sampleIndex] = Array.from({ length: len }, (_, t) => row((t * b.B + bb) * F));
      }
    });
  }

  // ---------------------------------------------------------------- save / load

  /** @internal Everything save() writes. */
  checkpoint(): Checkpoint {
    const tensors: Record<string, CheckpointTensor> = parameterTensors(this.net.params);
    const st = this.train;
    st.optimizer?.state.forEach((s, i) => { tensors[`optimizer/state${i}`] = { data: s.slice(), shape: [s.length] }; });
    const meta = {
      format: MODEL_FORMAT, version: 1, type: this.type, options: this.config,
      training: {
        epoch: st.epoch, rng: this.rng.getState(), early: st.early,
        optimizer: st.optimizer ? { options: st.optimizerOptions ?? null, step: st.optimizer.step } : null,
        schedule: st.schedule ? { options: st.scheduleOptions ?? null, state: st.schedule.state } : null,
      },
    };
    return { meta, tensors };
  }

  /** Saves architecture, weights, optimizer state, RNG state and progress (atomic write). */
  async save(path: string): Promise<void> { this.live('save'); await saveCheckpoint(path, this.checkpoint()); }
  saveSync(path: string): void { this.live('saveSync'); saveCheckpointSync(path, this.checkpoint()); }

  static async load(path: string): Promise<SequenceModel> { return restore(await loadCheckpoint(path), path); }
  static loadSync(path: string): SequenceModel { return restore(loadCheckpointSync(path), path); }

  /** @internal */
  restoreTraining(cp: Checkpoint, path: string): void {
    const meta = cp.meta as { training: { epoch: number; rng: number[]; early: TrainState['early']; optimizer: { options: OptimizerOptions | null; step: number } | null; schedule: { options: ScheduleOptions | null; state: ScheduleState } | null } };
    const t = meta.training;
    const bad = (what: string) => new Error(`rnnkit model ${path}: ${what}`);
    if (!t || typeof t !== 'object') throw bad('missing training state');
    this.net.loadStateDict(stateDictFromTensors(this.net.params, cp.tensors as Record<string, { data: ArrayLike<number> }>, path));
    this.rng.setState(t.rng);
    this.train.epoch = t.epoch;
    this.train.early = t.early ?? { best: null, wait: 0 };
    if (t.optimizer) {
      const opt = new Optimizer(t.optimizer.options ?? undefined, new Exec(cpu(), true), this.net.params.size, this.config.dtype);
      opt.step = t.optimizer.step;
      opt.state.forEach((s, i) => {
        const tt = cp.tensors[`optimizer/state${i}`];
        if (!tt || tt.data.length !== s.length) throw bad(`optimizer state ${i} must have ${s.length} elements`);
        s.set(tt.data as ArrayLike<number>);
      });
      this.train.optimizer = opt;
      this.train.optimizerOptions = t.optimizer.options ?? undefined;
    }
    if (t.schedule) {
      const sc = new Schedule(t.schedule.options ?? undefined, this.train.optimizer ? this.train.optimizer.config.lr : 1e-3);
      sc.state = { ...t.schedule.state };
      this.train.schedule = sc;
      this.train.scheduleOptions = t.schedule.options ?? undefined;
    }
  }
}

/** @internal Rebuilds a model from a decoded model file. */
export function restore(cp: Checkpoint, path: string): SequenceModel {
  const meta = cp.meta as { format?: string; type?: string; options?: unknown };
  if (!meta || meta.format !== MODEL_FORMAT) throw new Error(`rnnkit model ${path}: not an rnnkit model file (format ${JSON.stringify(meta?.format)})`);
  const make = registry.get(String(meta.type));
  if (!make) throw new Error(`rnnkit model ${path}: unknown model type ${JSON.stringify(meta.type)}; known: ${[...registry.keys()].join(', ')}`);
  const m = make(meta.options);
  m.restoreTraining(cp, path);
  return m;
}

function splitWindows(T: number, k: number): number[][] {
  const w: number[][] = [];
  for (let t = 0; t < T; t += k) w.push([t, Math.min(T, t + k)]);
  return w;
}

/** Steps [t0, t1) of a batch, lengths clipped to the window (padding carries the state). */
function sliceWindow(b: Batch, t0: number, t1: number, perStep: boolean): Batch {
  const W = t1 - t0, B = b.B;
  const x = b.x;
  const lens = x.kind !== 'vec' && x.lengths ? Int32Array.from(x.lengths, (l) => Math.max(0, Math.min(W, l - t0))) : null;
  let xs: Act;
  if (x.kind === 'ids') xs = { kind: 'ids', data: x.data.slice(t0 * B, t1 * B), T: W, B, lengths: lens };
  else if (x.kind === 'seq') xs = { kind: 'seq', data: x.data.slice(t0 * B * x.F, t1 * B * x.F), T: W, B, F: x.F, lengths: lens };
  else xs = x;
  let y: Targets | null = b.y;
  if (y && perStep) {  // per-step targets are time-major [T*B] or [T*B,O]; sequence targets stay whole
    const per = y.data.length / (b.T * B);
    y = y.kind === 'classes' ? { kind: 'classes', data: y.data.slice(t0 * B, t1 * B) } : { kind: 'values', data: y.data.slice(t0 * B * per, t1 * B * per) };
  }
  return { x: xs, y, B, T: W };
}


export type { Gen };
