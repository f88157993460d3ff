import type { Scratch, ScratchPool } from './tape';
// Readers (predictions, evaluations) and the one writer (an optimizer update of fit) of a
// model's weights. A reader sees one consistent set of weights: an update waits until running
// readers finish, and a reader that starts during an update waits for it (async) or is refused
// (sync, since it cannot wait). Forward and backward passes of fit only read the weights.
export class WeightsLock {
  private readers = 0;
  private writing: Promise<void> | null = null;
  private drained: Array<() => void> = [];

  async read<T>(fn: () => Promise<T>): Promise<T> {
    while (this.writing) await this.writing;
    this.readers++;
    try {
      return await fn();
    } finally {
      if (--this.readers === 0) for (const r of this.drained.splice(0)) r();
    }
  }

  /** A synchronous reader: runs at once, or throws while an update is in flight. */
  readSync<T>(what: string, fn: () => T): T {
    if (this.writing) {
      throw new Error(
        `${what}: the weights are being updated by fit right now; use the async variant, or call it from onBatchEnd/onEpochEnd`,
      );
    }
    return fn();
  }

  /** A synchronous writer: runs at once, or throws while a read or an update is in flight. */
  writeSync<T>(what: string, fn: () => T): T {
    if (this.writing || this.readers > 0) {
      throw new Error(
        `${what}: the weights are in use by ${this.writing ? 'an update' : 'a running prediction'}; await it first`,
      );
    }
    return fn();
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    while (this.writing) await this.writing;
    while (this.readers > 0) await new Promise<void>((r) => this.drained.push(r));
    let done!: () => void;
    this.writing = new Promise<void>((r) => {
      done = r;
    });
    try {
      return await fn();
    } finally {
      this.writing = null;
      done();
    }
  }
}

/**
 * A call that reads a model's weights: it waits out (async) or refuses (sync) an update in
 * flight, and works in a scratch of its own, given back when it settles.
 */
export function reading<T>(weights: WeightsLock, pool: ScratchPool, fn: (s: Scratch) => Promise<T>): Promise<T> {
  return weights.read(() => pool.using(fn));
}
export function readingSync<T>(what: string, weights: WeightsLock, pool: ScratchPool, fn: (s: Scratch) => T): T {
  return weights.readSync(what, () => pool.usingSync(fn));
}
