// Options of fit(), validated in one place, the same for every model.
import { FieldSpec, resolveOptions } from '../options';
import type { OptimizerOptions } from './optimizer';
import type { OptimizerKind } from '../native';
import type { ScheduleOptions } from './schedules';
import type { SequenceInput } from './data';
import type { LabeledTargets } from '../models/labels';
import { MetricsLog } from './fit-log';
import type { LogStream } from './fit-log';

export interface BatchInfo {
  epoch: number;
  batch: number;
  step: number;
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  skipped: boolean;
}
export interface EpochInfo {
  epoch: number;
  loss: number;
  metrics: Metrics;
  valLoss: number | null;
  valMetrics: Metrics | null;
  /** Mean pre-clip gradient norm over the epoch's updates. */
  gradNorm: number;
  lr: number;
  /** Seq2Seq: the teacher-forcing ratio of this epoch. */
  teacherForcing?: number;
}
export interface Metrics {
  loss: number;
  accuracy?: number;
  perTokenAccuracy?: number;
  perplexity?: number;
  mse?: number;
}
export interface History {
  epochs: EpochInfo[];
  /** Early stopping ended the run. */
  stoppedEarly: boolean;
  /** timeLimit ended the run (after the batch that crossed it). */
  outOfTime: boolean;
}

export interface FitOptions {
  /** Epochs to train (default 1); with resume, the epoch count to reach. */
  epochs?: number;
  /** Sequences per batch (default 32). */
  batchSize?: number;
  /** Shuffle every epoch with the model's seeded generator (default true). */
  shuffle?: boolean;
  /** Group sequences of similar length into batches (less padding; default false). */
  bucketByLength?: boolean;
  /** Reseeds the model's generator (shuffling, dropout) before training. */
  seed?: number;
  /** Held-out data evaluated after every epoch. */
  validationData?: { inputs: SequenceInput; targets: LabeledTargets };
  /** Fraction of the data (taken from the end, before shuffling) held out for validation. */
  validationSplit?: number;
  /** Update rule and hyper-parameters, or just the rule's name ('adam', 'sgd', …) with its defaults. */
  optimizer?: OptimizerOptions | OptimizerKind;
  schedule?: ScheduleOptions;
  /** Clip the global gradient norm to this value (torch clip_grad_norm_). */
  clipNorm?: number | null;
  /** Clip every gradient element to [-v, v]. */
  clipValue?: number | null;
  /**
   * Weight decay strength (default 0): 'l2' adds wd·p to the gradient (the L2 loss term
   * wd/2·|p|²); 'decoupled' shrinks p by lr·wd each step (AdamW). adamw is always decoupled.
   */
  weightDecay?: number;
  weightDecayMode?: 'l2' | 'decoupled';
  /** L1 penalty: adds l1·sign(p) to the gradient. */
  l1?: number;
  /** Truncated BPTT: window length in steps; the state is carried between windows (default: whole sequences). */
  tbptt?: number | null;
  /**
   * How gradients are computed: 'bptt' (default; with `tbptt` for windows), or forward in time
   * with 'rtrl' (exact), 'snap1' or 'uoro' (unidirectional models with feature inputs; see
   * docs/online.md); `{ tbptt: k }` is the same as `tbptt: k`. The optimizer, clipping and
   * weight decay are unchanged.
   */
  learning?: 'bptt' | 'rtrl' | 'snap1' | 'uoro' | { tbptt: number };
  /** Stop when the monitored loss has not improved by minDelta for patience epochs. */
  earlyStopping?: { monitor?: 'loss' | 'valLoss'; patience?: number; minDelta?: number; restoreBest?: boolean } | null;
  onBatchEnd?: (info: BatchInfo) => void | Promise<void>;
  onEpochEnd?: (info: EpochInfo) => void | Promise<void>;
  /** Aborting rejects fit with an AbortError after the current batch. */
  signal?: AbortSignal;
  /** A non-finite loss or gradient: 'error' (default) rejects naming the step; 'skip' drops the batch. */
  onNonFinite?: 'error' | 'skip';
  /** Per-class loss weights (classification). */
  classWeights?: number[] | null;
  /** Continue a loaded model's run: train from its completed epoch up to `epochs`. */
  resume?: boolean;
  /** Stop after the batch during which this many seconds have passed (default none). */
  timeLimit?: number | null;
  /**
   * Truncated BPTT over one long stream: the recurrent state is carried from window to window,
   * from batch to batch (row b of a batch continues row b of the previous one) and from one fit
   * call to the next, until resetStates(); onBatchEnd and the abort signal act per window.
   * Needs tbptt, shuffle false and equal batch sizes (default false).
   */
  stateful?: boolean;
  /** 0 (default): silent; 1: a line per epoch; 2: a progress bar on a terminal (lines otherwise). */
  verbose?: 0 | 1 | 2;
  /** Where verbose output goes (default process.stderr): anything with write(text). */
  log?: LogStream;
  /** A JSON-lines file appended with one record per epoch (a MetricsLog also per batch). */
  metricsLog?: string | MetricsLog | null;
}

export const FIT_OPTIONS: Record<string, FieldSpec> = {
  epochs: { type: 'int', min: 0, max: 1e9, default: 1, doc: 'epochs' },
  batchSize: { type: 'int', min: 1, max: 1e7, default: 32, doc: 'sequences per batch' },
  shuffle: { type: 'bool', default: true, doc: 'shuffle' },
  bucketByLength: { type: 'bool', default: false, doc: 'bucket by length' },
  seed: { type: 'int', min: 0, max: 2 ** 53, default: null, nullable: true, doc: 'seed' },
  validationSplit: { type: 'number', min: 0, max: 0.999, default: 0, doc: 'held-out fraction' },
  clipNorm: { type: 'number', min: 0, default: null, nullable: true, doc: 'max global norm' },
  clipValue: { type: 'number', min: 0, default: null, nullable: true, doc: 'max element' },
  weightDecay: { type: 'number', min: 0, max: 1e6, default: 0, doc: 'weight decay' },
  weightDecayMode: { type: 'enum', values: ['l2', 'decoupled'], default: 'l2', doc: 'how weight decay applies' },
  l1: { type: 'number', min: 0, max: 1e6, default: 0, doc: 'L1 penalty' },
  tbptt: { type: 'int', min: 1, default: null, nullable: true, doc: 'TBPTT window' },
  learning: { type: 'enum', values: ['bptt', 'rtrl', 'snap1', 'uoro'], default: 'bptt', doc: 'gradient algorithm' },
  onNonFinite: { type: 'enum', values: ['error', 'skip'], default: 'error', doc: 'non-finite handling' },
  resume: { type: 'bool', default: false, doc: 'continue a loaded run' },
  timeLimit: { type: 'number', min: 0, default: null, nullable: true, doc: 'seconds of training' },
  stateful: { type: 'bool', default: false, doc: 'carry the state across batches and fit calls' },
  verbose: { type: 'int', min: 0, max: 2, default: 0, doc: 'progress output' },
};
/** Fields checked by hand (objects and functions). */
export const FIT_OBJECT_FIELDS = [
  'validationData',
  'optimizer',
  'schedule',
  'earlyStopping',
  'onBatchEnd',
  'onEpochEnd',
  'signal',
  'classWeights',
  'log',
  'metricsLog',
];

/** FitOptions with every plain field resolved to its default. */
export type ResolvedFit = Required<
  Omit<
    FitOptions,
    | 'validationData'
    | 'optimizer'
    | 'schedule'
    | 'earlyStopping'
    | 'onBatchEnd'
    | 'onEpochEnd'
    | 'signal'
    | 'classWeights'
    | 'learning'
    | 'log'
    | 'metricsLog'
    | 'verbose'
  >
> & {
  learning: 'bptt' | 'rtrl' | 'snap1' | 'uoro';
  verbose: 0 | 1 | 2;
};

/**
 * Validates fit options: the plain fields by FIT_OPTIONS (and a model's own extra fields), the
 * callbacks and the signal by hand. `omit` names shared fields a model does not take.
 */
export function resolveFit<X extends object = object>(
  what: string,
  options: FitOptions & Record<string, unknown>,
  extra: Record<string, FieldSpec> = {},
  omit: string[] = [],
): ResolvedFit & X {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${what}: options must be an object, received ${options === null ? 'null' : typeof options}`);
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (!FIT_OBJECT_FIELDS.includes(k)) plain[k] = v;
  // learning: { tbptt: k } is another way to write truncated BPTT
  const l = plain.learning as unknown;
  if (l !== null && typeof l === 'object') {
    const k = (l as { tbptt?: unknown }).tbptt;
    if (Object.keys(l).length !== 1 || k === undefined)
      throw new TypeError(
        `${what}: learning must be 'bptt', 'rtrl', 'snap1', 'uoro' or { tbptt: k }, received ${JSON.stringify(l)}`,
      );
    if (plain.tbptt !== undefined && plain.tbptt !== k)
      throw new RangeError(
        `${what}: give the TBPTT window once (learning.tbptt ${String(k)} and tbptt ${String(plain.tbptt)})`,
      );
    plain.learning = 'bptt';
    plain.tbptt = k;
  }
  const schema: Record<string, FieldSpec> = { ...FIT_OPTIONS, ...extra };
  for (const k of omit) {
    if (plain[k] !== undefined) throw new RangeError(`${what}: option ${k} does not apply here`);
    delete schema[k];
  }
  const o = resolveOptions<ResolvedFit & X>(what, schema, plain);
  for (const k of omit) (o as Record<string, unknown>)[k] = FIT_OPTIONS[k]?.default ?? null;
  for (const k of ['onBatchEnd', 'onEpochEnd'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function')
      throw new TypeError(`${what}: ${k} must be a function, received ${typeof options[k]}`);
  }
  const log = options.log as unknown;
  if (log !== undefined && (log === null || typeof (log as { write?: unknown }).write !== 'function'))
    throw new TypeError(`${what}: log must be a writable stream (an object with write(text)), such as process.stderr`);
  const ml = options.metricsLog as unknown;
  if (ml !== undefined && ml !== null && !(ml instanceof MetricsLog) && !(typeof ml === 'string' && ml.length > 0))
    throw new TypeError(
      `${what}: metricsLog must be a file path or a MetricsLog, received ${ml === '' ? 'an empty string' : typeof ml}`,
    );
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw new TypeError(`${what}: signal must be an AbortSignal`);
  const vd = options.validationData as unknown;
  if (vd !== undefined) {
    if (vd === null || typeof vd !== 'object' || Array.isArray(vd))
      throw new TypeError(
        `${what}: validationData must be { inputs, targets }, received ${vd === null ? 'null' : typeof vd}`,
      );
    for (const k of ['inputs', 'targets'])
      if ((vd as Record<string, unknown>)[k] === undefined || (vd as Record<string, unknown>)[k] === null)
        throw new TypeError(`${what}: validationData must be { inputs, targets }; its ${k} are missing`);
    for (const k of Object.keys(vd))
      if (k !== 'inputs' && k !== 'targets')
        throw new RangeError(`${what}: validationData has unknown field '${k}'; known fields: inputs, targets`);
  }
  if (options.validationData !== undefined && (o as ResolvedFit).validationSplit > 0)
    throw new RangeError(`${what}: give validationData or validationSplit, not both`);
  if (o.tbptt !== null && o.learning !== 'bptt')
    throw new RangeError(`${what}: tbptt applies to learning 'bptt' only, received learning '${o.learning}'`);
  if (o.stateful) {
    // a language model cuts its text into windows itself (seqLen): there tbptt does not apply
    if (o.tbptt === null && !omit.includes('tbptt'))
      throw new RangeError(`${what}: stateful training needs tbptt (the window length)`);
    if (plain.shuffle === true)
      throw new RangeError(`${what}: stateful training keeps the order of the data; shuffle must be false`);
    o.shuffle = false;
    o.bucketByLength = false;
  }
  return o;
}
