// The one training loop of every model. A model describes one fit call as a FitJob (its
// batches, how one batch's gradients are computed, its metrics and validation); the trainer
// owns everything else: epochs, the optimizer, the learning-rate schedule, the gradient pipeline,
// callbacks, early stopping, the abort signal, the time limit, and the training state a model
// file saves so that a loaded model resumes exactly.
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import { Exec } from '../exec';
import type { Scratch, ScratchPool } from '../graph/tape';
import type { WeightsLock } from '../graph/weights-lock';
import type { HostArray } from '../native';
import type { FlatParameters } from '../params';
import type { ModelFile } from '../models/file-checks';
import type { BatchInfo, EpochInfo, FitOptions, History, Metrics } from './fit-options';
import { Optimizer, OptimizerOptions } from './optimizer';
import { NonFiniteError, UpdateOptions, UpdateOutcome, UpdatePipeline } from './pipeline';
import { Schedule, ScheduleOptions, ScheduleState } from './schedules';
import { bytesPerElement } from '../memory';
import { MetricsLog, ProgressReporter } from './fit-log';
import type { LogStream } from './fit-log';

/** Sums over the windows of one batch. */
export interface BatchStats {
  /** Sum of loss × counted rows. */
  lossSum: number;
  count: number;
  correct: number;
  total: number;
  updates: number;
  normSum: number;
  /** Every window of the batch was skipped (non-finite, onNonFinite 'skip'). */
  skipped: boolean;
}

export function emptyStats(): BatchStats {
  return { lossSum: 0, count: 0, correct: 0, total: 0, updates: 0, normSum: 0, skipped: false };
}

/** The sums of a batch trained as one window with one update. */
export function oneUpdate(
  loss: number,
  count: number,
  c: { correct: number; total: number },
  u: UpdateOutcome,
): BatchStats {
  if (u.skipped) return { ...emptyStats(), skipped: true };
  return {
    lossSum: loss * count,
    count,
    correct: c.correct,
    total: c.total,
    updates: 1,
    normSum: u.gradNorm,
    skipped: false,
  };
}

/** What a batch's code gets from the trainer. */
export interface StepRunner {
  readonly scratch: Scratch;
  readonly epoch: number;
  readonly batch: number;
  /** The gradients of a window are in params.grads: run the pipeline and the optimizer step. */
  update(): Promise<UpdateOutcome>;
  /** A non-finite loss or activation: throws (onNonFinite 'error') or returns true ('skip'). */
  nonFinite(what: string): true;
  /** The window is done: honours the abort signal between windows of a long batch. */
  checkAbort(): void;
}

/** Which optimizer state buffers hold squared gradients (native/kernels/optim.cpp's layout). */
const SQUARED_STATES: Partial<Record<string, number[]>> = { adam: [1], adamw: [1], rmsprop: [0], adagrad: [0] };

export interface FitJob<B> {
  /** 'SequenceClassifier.fit', for messages. */
  readonly what: string;
  /** The batches of one epoch, in training order. */
  batches(epoch: number): Iterable<B>;
  /** Forward, loss and backward of one batch; calls run.update() after each window. */
  train(batch: B, run: StepRunner): Promise<BatchStats>;
  /** Metrics of a training epoch from its sums. */
  metrics(loss: number, correct: number, total: number): Metrics;
  /** Validation metrics after every epoch, when there is validation data. */
  validate: (() => Promise<Metrics>) | null;
  /** Extra fields of an epoch's record (Seq2Seq: its teacher-forcing ratio). */
  epochExtra?(epoch: number): Partial<EpochInfo>;
}

/** The trainer's resolved options (the model resolves them with its own extra fields). */
export interface TrainerOptions extends UpdateOptions {
  epochs: number;
  /** 0, 1 or 2 (absent: 0). */
  verbose?: number;
  resume: boolean;
  timeLimit: number | null;
}

export interface TrainingMeta {
  epoch: number;
  early: { best: number | null; wait: number };
  optimizer: { options: OptimizerOptions | null; step: number } | null;
  schedule: { options: ScheduleOptions | null; state: ScheduleState } | null;
}

export class Trainer {
  optimizer: Optimizer | null = null;
  private optimizerOptions: OptimizerOptions | undefined;
  private schedule: Schedule | null = null;
  private scheduleOptions: ScheduleOptions | undefined;
  /** Completed epochs. */
  epoch = 0;
  private early: { best: number | null; wait: number } = { best: null, wait: 0 };
  private running = false;
  private readonly pipeline: UpdatePipeline;

  constructor(
    private readonly owner: string,
    private readonly be: Device,
    private readonly params: FlatParameters,
    private readonly weights: WeightsLock,
    private readonly scratch: ScratchPool,
  ) {
    this.pipeline = new UpdatePipeline(be, params, weights);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Runs one fit call, refusing a second one while it runs. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.enter();
    try {
      return await fn();
    } finally {
      this.leave();
    }
  }

  /** Refuses a second fit while one runs. */
  private enter(): void {
    if (this.running)
      throw new Error(
        `${this.owner}.fit: the model is already training (another fit is running); one model runs one fit at a time`,
      );
    this.running = true;
  }
  private leave(): void {
    this.running = false;
  }

  /** The optimizer and schedule of a fit call: kept when unchanged (or resuming), new otherwise. */
  private prepare(options: FitOptions, resume: boolean): { opt: Optimizer; sched: Schedule } {
    let fresh = false;
    const given = typeof options.optimizer === 'string' ? { type: options.optimizer } : options.optimizer;
    if (!this.optimizer || JSON.stringify(given) !== JSON.stringify(this.optimizerOptions)) {
      if (!(resume && this.optimizer)) {
        this.optimizer = new Optimizer(given, new Exec(this.be, true), this.params.size, this.params.dtype);
        this.optimizerOptions = given;
        fresh = true;
      }
    }
    // a new optimizer brings its own learning rate: the schedule restarts from it
    if (!this.schedule || fresh || JSON.stringify(options.schedule) !== JSON.stringify(this.scheduleOptions)) {
      if (!(resume && this.schedule)) {
        this.schedule = new Schedule(options.schedule, this.optimizer!.config.lr);
        this.scheduleOptions = options.schedule;
      }
    }
    return { opt: this.optimizer!, sched: this.schedule! };
  }

  /** Runs a fit call (between enter() and leave(), which the model calls around it). */
  async fit<B>(job: FitJob<B>, o: TrainerOptions, options: FitOptions): Promise<History> {
    const { opt, sched } = this.prepare(options, o.resume);
    const es = earlyStopping(job.what, options.earlyStopping, job.validate !== null);
    if (!o.resume) this.early = { best: null, wait: 0 };
    // Epoch numbers continue across fit calls (schedules see them); resume trains up to `epochs`
    // in total, otherwise `epochs` more.
    const start = this.epoch,
      end = o.resume ? o.epochs : this.epoch + o.epochs;
    const history: History = { epochs: [], stoppedEarly: false, outOfTime: false };
    const signal = options.signal;
    const abort = () => {
      if (signal?.aborted) throw signal.reason ?? new DOMException('fit was aborted', 'AbortError');
    };
    const t0 = Date.now();
    let best: Tensor | null = null;
    abort();
    const progress = new ProgressReporter((options.log ?? process.stderr) as LogStream, o.verbose ?? 0, end);
    const mlog =
      options.metricsLog instanceof MetricsLog
        ? options.metricsLog
        : typeof options.metricsLog === 'string'
          ? new MetricsLog(options.metricsLog)
          : null;
    mlog?.write({ type: 'fit', model: this.owner, epochs: end, start, resume: o.resume });
    const scratch = this.scratch.acquire();
    let failure: unknown = null;
    try {
      for (let e = start; e < end; e++) {
        const te = Date.now();
        let lossSum = 0,
          count = 0,
          normSum = 0,
          updates = 0,
          correct = 0,
          total = 0,
          bi = 0;
        for (const batch of job.batches(e)) {
          abort();
          const where = `${job.what}: at epoch ${e}, batch ${bi}, step ${opt.step + 1}`;
          const run: StepRunner = {
            scratch,
            epoch: e,
            batch: bi,
            update: () => this.pipeline.run(opt, sched.lr, o, where),
            nonFinite: (what: string) => {
              if (o.onNonFinite === 'skip') return true;
              throw new NonFiniteError(
                `${job.what}: non-finite ${what} at epoch ${e}, batch ${bi}, step ${opt.step + 1}; lower the learning rate or set clipNorm`,
              );
            },
            checkAbort: abort,
          };
          const r = await job.train(batch, run);
          if (!r.skipped) {
            lossSum += r.lossSum;
            count += r.count;
            normSum += r.normSum;
            updates += r.updates;
            correct += r.correct;
            total += r.total;
          }
          const info: BatchInfo = {
            epoch: e,
            batch: bi,
            step: opt.step,
            loss: r.count ? r.lossSum / r.count : NaN,
            gradNorm: r.updates ? r.normSum / r.updates : NaN,
            lr: sched.lr,
            skipped: r.skipped,
          };
          progress.batch(info, bi + 1);
          if (mlog?.batches) mlog.write({ type: 'batch', ...info });
          if (options.onBatchEnd) await options.onBatchEnd(info);
          bi++;
          if (o.timeLimit !== null && (Date.now() - t0) / 1000 >= o.timeLimit) {
            history.outOfTime = true;
            break;
          }
        }
        abort();
        const loss = count ? lossSum / count : NaN;
        const valMetrics = job.validate ? await job.validate() : null;
        const info: EpochInfo = {
          epoch: e,
          loss,
          metrics: job.metrics(loss, correct, total),
          valLoss: valMetrics ? valMetrics.loss : null,
          valMetrics,
          gradNorm: updates ? normSum / updates : 0,
          lr: sched.lr,
          ...(job.epochExtra ? job.epochExtra(e) : {}),
        };
        sched.epochEnd(e, valMetrics ? valMetrics.loss : loss);
        this.epoch = e + 1;
        history.epochs.push(info);
        const seconds = (Date.now() - te) / 1000;
        progress.epoch(info, bi, seconds);
        mlog?.write({ type: 'epoch', ...info, seconds });
        if (options.onEpochEnd) await options.onEpochEnd(info);
        abort();
        if (history.outOfTime) break;
        if (es) {
          const m = es.monitor === 'valLoss' ? info.valLoss! : info.loss;
          if (this.early.best === null || m < this.early.best - es.minDelta) {
            this.early = { best: m, wait: 0 };
            if (es.restoreBest) {
              best ??= this.be.alloc(this.params.dtype, [this.params.size]);
              this.be.copy(this.params.params, best);
            }
          } else if (++this.early.wait >= es.patience) {
            history.stoppedEarly = true;
            if (best) {
              const w = best;
              await this.weights.write(async () => {
                this.be.copy(w, this.params.params);
              });
            }
            break;
          }
        }
      }
    } catch (e) {
      failure = e;
      throw e;
    } finally {
      this.scratch.release(scratch);
      progress.close(failure === null ? history : null);
      if (mlog) {
        const end = {
          type: 'end' as const,
          epochs: history.epochs.length,
          stoppedEarly: history.stoppedEarly,
          outOfTime: history.outOfTime,
          ...(failure !== null ? { error: String((failure as Error)?.message ?? failure) } : {}),
        };
        try {
          mlog.write(end);
        } finally {
          mlog.close();
        }
      }
    }
    return history;
  }

  /** Bytes of the optimizer state. */
  get stateBytes(): number {
    return (this.optimizer?.state ?? []).reduce((n, t) => n + t.size * bytesPerElement(t.dtype), 0);
  }

  /** Frees the optimizer state (the model was disposed). */
  free(): void {
    this.optimizer?.state.forEach((t) => this.be.free(t));
    this.optimizer = null;
  }

  /** What a model file stores to resume training exactly (tensors: the optimizer state). */
  save(): { meta: TrainingMeta; tensors: Record<string, { data: HostArray; shape: number[] }> } {
    const tensors: Record<string, { data: HostArray; shape: number[] }> = {};
    this.optimizer?.state.forEach((s, i) => {
      tensors[`optimizer/state${i}`] = { data: (this.be.toHostSync(s) as HostArray).slice(), shape: [s.size] };
    });
    return {
      meta: {
        epoch: this.epoch,
        early: this.early,
        optimizer: this.optimizer ? { options: this.optimizerOptions ?? null, step: this.optimizer.step } : null,
        schedule: this.schedule ? { options: this.scheduleOptions ?? null, state: this.schedule.state } : null,
      },
      tensors,
    };
  }

  /**
   * Restores what save() wrote (plus the model's generator state, returned), every field
   * checked: counters are non-negative integers, options go through the optimizer's and the
   * schedule's own validation, every optimizer state tensor is there at its full length with
   * finite values. An optimizer exactly when a schedule (prepare() makes both); step 0 only with
   * the state an optimizer starts from (no update has touched it).
   */
  restore(raw: unknown, file: ModelFile, field = 'training'): { rng: number[] } {
    const t = file.object(raw, field, TRAINING_KEYS);
    const epoch = file.count(t.epoch, `${field}.epoch`);
    const e = file.object(t.early, `${field}.early`, ['best', 'wait']);
    const early = {
      best: file.finiteOrNull(e.best, `${field}.early.best`),
      wait: file.count(e.wait, `${field}.early.wait`),
    };
    if ((t.optimizer === null) !== (t.schedule === null))
      file.fail(
        `${field}.optimizer and ${field}.schedule must both be null or both be set (fit makes both), ` +
          `found ${t.optimizer === null ? 'no' : 'an'} optimizer and ${t.schedule === null ? 'no' : 'a'} schedule`,
      );
    let opt: Optimizer | null = null,
      optOptions: OptimizerOptions | undefined;
    if (t.optimizer !== null) {
      const o = file.object(t.optimizer, `${field}.optimizer`, ['options', 'step']);
      optOptions =
        o.options === null ? undefined : (file.record(o.options, `${field}.optimizer.options`) as OptimizerOptions);
      const made = file.validated(
        `${field}.optimizer.options`,
        () => new Optimizer(optOptions, new Exec(this.be, true), this.params.size, this.params.dtype),
      );
      opt = made;
      const step = file.count(o.step, `${field}.optimizer.step`);
      const fresh = made.state.map((s) => (this.be.toHostSync(s) as HostArray).slice());
      made.state.forEach((s, i) => {
        const data = file.tensor(`optimizer/state${i}`, this.params.dtype, [this.params.size]);
        // running averages of squared gradients: a negative one would give NaN under the square root
        if (SQUARED_STATES[made.config.type]?.includes(i)) {
          const k = data.findIndex((v) => v < 0);
          if (k >= 0)
            file.fail(
              `optimizer state ${i} (${made.config.type}'s running squared gradients) must be >= 0, found ${data[k]} at element ${k}`,
            );
        }
        if (step === 0 && data.some((v, k) => v !== fresh[i][k]))
          file.fail(
            `${field}.optimizer.step is 0 (no update done) but optimizer state ${i} is not the state an optimizer starts from`,
          );
        this.be.write(s, data);
      });
      made.step = step;
    }
    let sched: Schedule | null = null,
      schedOptions: ScheduleOptions | undefined;
    if (t.schedule !== null) {
      const o = file.object(t.schedule, `${field}.schedule`, ['options', 'state']);
      schedOptions =
        o.options === null ? undefined : (file.record(o.options, `${field}.schedule.options`) as ScheduleOptions);
      sched = file.validated(`${field}.schedule.options`, () => new Schedule(schedOptions, opt!.config.lr));
      const st = file.object(o.state, `${field}.schedule.state`, ['lr', 'best', 'bad']);
      sched.state = {
        lr: file.finite(st.lr, `${field}.schedule.state.lr`, 0, 1e6),
        best: file.finiteOrNull(st.best, `${field}.schedule.state.best`),
        bad: file.count(st.bad, `${field}.schedule.state.bad`),
      };
    }
    const rng = file.rngState(t.rng, `${field}.rng`);
    // Only now, with every field valid, does the trainer change.
    this.free();
    this.epoch = epoch;
    this.early = early;
    this.optimizer = opt;
    this.optimizerOptions = optOptions;
    this.schedule = sched;
    this.scheduleOptions = schedOptions;
    return { rng };
  }
}

/** The fields of a model file's training state (TrainingMeta and the model's generator state). */
const TRAINING_KEYS = ['epoch', 'early', 'optimizer', 'schedule', 'rng'];

const EARLY_KEYS = ['monitor', 'patience', 'minDelta', 'restoreBest'];

function earlyStopping(what: string, e: FitOptions['earlyStopping'], hasValidation: boolean) {
  if (e === undefined || e === null) return null;
  if (typeof e !== 'object') throw new TypeError(`${what}: earlyStopping must be an object, received ${typeof e}`);
  const unknown = Object.keys(e).filter((k) => !EARLY_KEYS.includes(k));
  if (unknown.length)
    throw new RangeError(
      `${what}: earlyStopping has unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; known: ${EARLY_KEYS.join(', ')}`,
    );
  const monitor = e.monitor ?? (hasValidation ? 'valLoss' : 'loss');
  if (monitor !== 'loss' && monitor !== 'valLoss')
    throw new RangeError(
      `${what}: earlyStopping.monitor must be 'loss' or 'valLoss', received ${JSON.stringify(monitor)}`,
    );
  const patience = e.patience ?? 5,
    minDelta = e.minDelta ?? 0,
    restoreBest = e.restoreBest ?? false;
  if (!Number.isInteger(patience) || patience < 1)
    throw new RangeError(`${what}: earlyStopping.patience must be an integer >= 1, received ${String(patience)}`);
  if (typeof minDelta !== 'number' || !Number.isFinite(minDelta) || minDelta < 0)
    throw new RangeError(`${what}: earlyStopping.minDelta must be a finite number >= 0, received ${String(minDelta)}`);
  if (typeof restoreBest !== 'boolean')
    throw new TypeError(`${what}: earlyStopping.restoreBest must be a boolean, received ${typeof restoreBest}`);
  if (monitor === 'valLoss' && !hasValidation)
    throw new RangeError(`${what}: earlyStopping monitors valLoss but no validation data was given`);
  return { monitor, patience, minDelta, restoreBest };
}
