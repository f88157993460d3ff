// Layers are written once as generator functions that yield whenever a native call may run off
// the main thread. The drivers below run the same code synchronously (predict for small inputs,
// gradient checks) or asynchronously (fit, predictAsync: the event loop keeps running while
// native work runs on a libuv worker).
import type { Backend } from './backend';
import type {
  HostArray, OptimStepArgs, RnnBackwardArgs, RnnForwardArgs,
} from './native';

/** What a layer generator yields: nothing (work done) or a promise the driver awaits. */
export type Step = Promise<void> | undefined;
export type Gen<T> = Generator<Step, T, void>;

export function runSync<T>(g: Gen<T>): T {
  let r = g.next();
  while (!r.done) {
    if (r.value) throw new Error('rnnkit internal error: an async step was yielded to the sync driver');
    r = g.next();
  }
  return r.value;
}

export async function runAsync<T>(g: Gen<T>): Promise<T> {
  let r = g.next();
  while (!r.done) {
    if (r.value) await r.value;
    r = g.next();
  }
  return r.value;
}

/** The heavy native calls, run synchronously or on a worker thread depending on the mode. */
export class Exec {
  constructor(readonly be: Backend<HostArray>, readonly async: boolean) {}
  rnnForward(a: RnnForwardArgs): Step {
    if (this.async) return this.be.rnnForwardAsync(a);
    this.be.rnnForward(a);
    return undefined;
  }
  rnnBackward(a: RnnBackwardArgs): Step {
    if (this.async) return this.be.rnnBackwardAsync(a);
    this.be.rnnBackward(a);
    return undefined;
  }
  optimStep(a: OptimStepArgs): Step {
    if (this.async) return this.be.optimStepAsync(a);
    this.be.optimStep(a);
    return undefined;
  }
}
