// Options of fit(), validated in one place.
import type { FieldSpec } from '../options';
import type { OptimizerOptions } from './optimizer';
import type { ScheduleOptions } from './schedules';
import type { SequenceInput, TargetInput } from './data';

export interface BatchInfo {
  epoch: number; batch: number; step: number; loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number; lr: number; skipped: boolean;
}
export interface EpochInfo {
  epoch: number; loss: number; metrics: Metrics;
  valLoss: number | null; valMetrics: Metrics | null;
  /** Mean pre-clip gradient norm over the epoch's updates. */
  gradNorm: number; lr: number;
}
export interface Metrics { loss: number; accuracy?: number; perTokenAccuracy?: number; perplexity?: number; mse?: number }
export interface History { epochs: EpochInfo[]; stoppedEarly: boolean }

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
  validationData?: { inputs: SequenceInput; targets: TargetInput };
  /** Fraction of the data (taken from the end, before shuffling) held out for validation. */
  validationSplit?: number;
  optimizer?: OptimizerOptions;
  schedule?: ScheduleOptions;
  /** Clip the global gradient norm to this value (torch clip_grad_norm_). */
  clipNorm?: number | null;
  /** Clip every gradient element to [-v, v]. */
  clipValue?: number | null;
  /** Weight decay strength (default 0): 'l2' adds wd·p to the gradient (the L2 loss term wd/2·|p|²); 'decoupled' shrinks p by lr·wd each step (AdamW). adamw is always decoupled. */
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
};
/** Fields checked by hand (objects and functions). */
export const FIT_OBJECT_FIELDS = ['validationData', 'optimizer', 'schedule', 'earlyStopping', 'onBatchEnd', 'onEpochEnd', 'signal', 'classWeights'];
