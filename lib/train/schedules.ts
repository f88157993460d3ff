// Learning-rate schedules, stepped once per epoch (reduceOnPlateau reads the monitored loss).
import { FieldSpec, resolveOptions } from '../options';

/** A learning-rate schedule. */
export type ScheduleOptions =
  /** lr * gamma^floor(epoch / stepSize) (PyTorch StepLR). */
  | { type: 'step'; stepSize: number; gamma?: number }
  /** lr * gamma^epoch (ExponentialLR). */
  | { type: 'exponential'; gamma: number }
  /** minLr + (lr - minLr) * (1 + cos(pi * epoch / tMax)) / 2 (CosineAnnealingLR, no restarts). */
  | { type: 'cosine'; tMax: number; minLr?: number }
  /** lr *= factor after `patience` epochs without improvement of the monitored loss by more than threshold (relative). */
  | { type: 'reduceOnPlateau'; factor?: number; patience?: number; threshold?: number; minLr?: number };

const SCHEMAS: Record<string, Record<string, FieldSpec>> = {
  step: {
    type: { type: 'enum', values: ['step'], doc: '' },
    stepSize: { type: 'int', min: 1, doc: 'epochs per decay' },
    gamma: { type: 'number', min: 0, max: 1, default: 0.1, doc: 'decay factor' },
  },
  exponential: {
    type: { type: 'enum', values: ['exponential'], doc: '' },
    gamma: { type: 'number', min: 0, max: 1, doc: 'decay factor per epoch' },
  },
  cosine: {
    type: { type: 'enum', values: ['cosine'], doc: '' },
    tMax: { type: 'int', min: 1, doc: 'epochs of one half cosine' },
    minLr: { type: 'number', min: 0, default: 0, doc: 'floor' },
  },
  reduceOnPlateau: {
    type: { type: 'enum', values: ['reduceOnPlateau'], doc: '' },
    factor: { type: 'number', min: 0, max: 0.999999, default: 0.1, doc: 'decay factor' },
    patience: { type: 'int', min: 0, default: 10, doc: 'epochs to wait' },
    threshold: { type: 'number', min: 0, default: 1e-4, doc: 'relative improvement' },
    minLr: { type: 'number', min: 0, default: 0, doc: 'floor' },
  },
};

export interface ScheduleState {
  lr: number;
  best: number | null;
  bad: number;
}

export class Schedule {
  readonly config: Record<string, unknown> & { type: string };
  private baseLr: number;
  state: ScheduleState;

  constructor(options: ScheduleOptions | undefined, baseLr: number) {
    this.baseLr = baseLr;
    this.state = { lr: baseLr, best: null, bad: 0 };
    if (options === undefined) {
      this.config = { type: 'constant' };
      return;
    }
    if (options === null || typeof options !== 'object') {
      const got = options === null ? 'null' : `${typeof options} ${JSON.stringify(options)}`;
      throw new TypeError(`schedule must be an object such as { type: 'cosine', tMax: 10 }, received ${got}`);
    }
    const t = (options as { type?: unknown })?.type;
    if (typeof t !== 'string' || !(t in SCHEMAS)) {
      throw new RangeError(
        `schedule: type must be one of ${Object.keys(SCHEMAS)
          .map((k) => `'${k}'`)
          .join(' ')}, received ${JSON.stringify(t)}`,
      );
    }
    this.config = resolveOptions(`schedule '${t}'`, SCHEMAS[t], options);
  }

  get lr(): number {
    return this.state.lr;
  }

  /** Called after each epoch (0-based index of the finished epoch) with the monitored loss. */
  epochEnd(epoch: number, monitored: number): void {
    const c = this.config as Record<string, number> & { type: string };
    const e = epoch + 1;
    switch (c.type) {
      case 'step':
        this.state.lr = this.baseLr * Math.pow(c.gamma, Math.floor(e / c.stepSize));
        break;
      case 'exponential':
        this.state.lr = this.baseLr * Math.pow(c.gamma, e);
        break;
      case 'cosine':
        this.state.lr =
          c.minLr + ((this.baseLr - c.minLr) * (1 + Math.cos((Math.PI * Math.min(e, c.tMax)) / c.tMax))) / 2;
        break;
      case 'reduceOnPlateau': {
        const s = this.state;
        if (s.best === null || monitored < s.best * (1 - c.threshold)) {
          s.best = monitored;
          s.bad = 0;
        } else if (++s.bad > c.patience) {
          s.lr = Math.max(c.minLr, s.lr * c.factor);
          s.bad = 0;
        }
        break;
      }
      default:
        break;
    }
  }
}
