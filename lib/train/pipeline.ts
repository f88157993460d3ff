// The one gradient pipeline every trainer uses, between backward and the next step:
//   L1 → gradient norm and finiteness → clip by norm → clip by value → decoupled decay →
//   optimizer step (L2 decay inside it) → finiteness of the updated weights.
// Non-finite gradients skip the update or throw (onNonFinite); an update that leaves non-finite
// weights is undone in 'skip' mode (the weights and optimizer state are restored from a copy
// taken before it) and reported in 'error' mode.
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import type { WeightsLock } from '../graph/weights-lock';
import type { FlatParameters } from '../params';
import type { Optimizer } from './optimizer';

export interface UpdateOptions {
  clipNorm: number | null;
  clipValue: number | null;
  weightDecay: number;
  weightDecayMode: 'l2' | 'decoupled';
  l1: number;
  onNonFinite: 'error' | 'skip';
}

export const NO_PENALTIES: UpdateOptions = {
  clipNorm: null,
  clipValue: null,
  weightDecay: 0,
  weightDecayMode: 'l2',
  l1: 0,
  onNonFinite: 'error',
};

/** What one update did: the pre-clip gradient norm, or why it was skipped. */
export interface UpdateOutcome {
  gradNorm: number;
  skipped: boolean;
  reason: string | null;
}

/** Thrown (onNonFinite 'error') when a loss, gradient, activation or update is not finite. */
export class NonFiniteError extends Error {
  readonly code = 'ERR_RNNKIT_NON_FINITE';
}

/** Whether an error thrown by a kernel is its refusal of a non-finite input (a flag, not text). */
export function isNonFiniteInput(e: unknown): e is Error {
  return e instanceof Error && (e as { code?: unknown }).code === 'ERR_RNNKIT_NON_FINITE';
}

export class UpdatePipeline {
  constructor(
    private readonly dev: Device,
    private readonly params: FlatParameters,
    private readonly weights: WeightsLock,
  ) {}

  /** Penalties, norm, finiteness and clipping of params.grads; null when the gradient is not finite. */
  private prepare(o: UpdateOptions): number | null {
    const g = this.params.grads,
      p = this.params.params,
      n = g.size,
      dev = this.dev;
    if (o.l1 > 0) dev.addSign({ n, alpha: o.l1, p, g });
    // the norm before clipping; a finite sum of squares (in double) means every element is finite
    const norm = o.clipNorm !== null ? dev.clipByNorm({ n, x: g, maxNorm: o.clipNorm }) : dev.l2Norm({ x: g });
    if (!Number.isFinite(norm)) return null;
    if (o.clipValue !== null) dev.clipByValue({ n, x: g, value: o.clipValue });
    return norm;
  }

  private decay(opt: Optimizer, lr: number, o: UpdateOptions): number {
    const decoupled = opt.config.type === 'adamw' || o.weightDecayMode === 'decoupled';
    if (decoupled && opt.config.type !== 'adamw' && o.weightDecay > 0) {
      this.dev.scale({ n: this.params.size, alpha: 1 - lr * o.weightDecay, x: this.params.params });
    }
    return opt.config.type === 'adamw' || !decoupled ? o.weightDecay : 0;
  }

  private backup(opt: Optimizer, o: UpdateOptions): { p: Tensor; s: Tensor[]; step: number } | null {
    if (o.onNonFinite !== 'skip') return null;
    return { p: this.dev.clone(this.params.params), s: opt.state.map((t) => this.dev.clone(t)), step: opt.step };
  }

  private settle(
    opt: Optimizer,
    norm: number,
    saved: ReturnType<UpdatePipeline['backup']>,
    where: string,
  ): UpdateOutcome {
    if (this.dev.allFinite({ x: this.params.params })) return { gradNorm: norm, skipped: false, reason: null };
    if (saved) {
      this.dev.copy(saved.p, this.params.params);
      saved.s.forEach((a, i) => this.dev.copy(a, opt.state[i]));
      opt.step = saved.step;
      return { gradNorm: norm, skipped: true, reason: 'the update left non-finite weights' };
    }
    throw new NonFiniteError(
      `${where}: the update left non-finite weights (gradient norm ${norm}); lower the learning rate or set ` +
        `clipNorm, and reload a saved model: these weights are lost`,
    );
  }

  private refuse(o: UpdateOptions, where: string): UpdateOutcome {
    if (o.onNonFinite === 'skip') return { gradNorm: NaN, skipped: true, reason: 'non-finite gradient' };
    throw new NonFiniteError(
      `${where}: non-finite gradient (norm ${this.dev.l2Norm({ x: this.params.grads })}); lower the learning rate or set clipNorm`,
    );
  }
  /** One update from params.grads at learning rate lr, holding the weights lock while it writes. */
  async run(opt: Optimizer, lr: number, o: UpdateOptions, where: string): Promise<UpdateOutcome> {
    const norm = this.prepare(o);
    if (norm === null) return this.refuse(o, where);
    return this.weights.write(async () => {
      const saved = this.backup(opt, o);
      const wd = this.decay(opt, lr, o);
      await opt.update(this.params.params, this.params.grads, lr, wd);
      return this.settle(opt, norm, saved, where);
    });
  }

  /** The same, synchronously (online learning updates inside a step call). */
  runSync(opt: Optimizer, lr: number, o: UpdateOptions, where: string): UpdateOutcome {
    const norm = this.prepare(o);
    if (norm === null) return this.refuse(o, where);
    return this.weights.writeSync(where, () => {
      const saved = this.backup(opt, o);
      const wd = this.decay(opt, lr, o);
      const step = opt.update(this.params.params, this.params.grads, lr, wd);
      if (step) throw new Error(`${where}: rnnkit internal error: a synchronous update went asynchronous`);
      return this.settle(opt, norm, saved, where);
    });
  }
}
