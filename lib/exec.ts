// Layers are written once as generator functions that yield whenever a native call may run off
// the main thread. The drivers below run the same code synchronously (predict for small inputs,
// gradient checks) or asynchronously (fit, predictAsync: the event loop keeps running while
// native work runs on a libuv worker).
import type { Device, OnTensors } from './device/device';
import type { OptimStepArgs, RnnBackwardArgs, RnnForwardArgs } from './native';

/** What a layer generator yields: nothing (work done) or a promise the driver awaits. */
export type Step = Promise<void> | undefined;
export type Gen<T> = Generator<Step, T, void>;

function checkGen(what: string, g: unknown): void {
  if (g === null || typeof g !== 'object' || typeof (g as { next?: unknown }).next !== 'function')
    throw new TypeError(
      `${what}: expected a layer generator (layer.forward(x, ctx)), received ${g === null ? 'null' : typeof g}`,
    );
}

export function runSync<T>(g: Gen<T>): T {
  checkGen('runSync', g);
  let r = g.next();
  while (!r.done) {
    if (r.value)
      throw new Error('runSync: the generator yielded an async step (run it with runAsync, or on a sync context)');
    r = g.next();
  }
  return r.value;
}

export async function runAsync<T>(g: Gen<T>): Promise<T> {
  checkGen('runAsync', g);
  let r = g.next();
  while (!r.done) {
    if (r.value) await r.value;
    r = g.next();
  }
  return r.value;
}

/** The heavy native calls, run synchronously or on a worker thread depending on the mode. */
export class Exec {
  constructor(
    readonly device: Device,
    readonly async: boolean,
  ) {}
  rnnForward(a: OnTensors<RnnForwardArgs>): Step {
    if (this.async) return this.device.rnnForwardAsync(a);
    this.device.rnnForward(a);
    return undefined;
  }
  rnnBackward(a: OnTensors<RnnBackwardArgs>): Step {
    if (this.async) return this.device.rnnBackwardAsync(a);
    this.device.rnnBackward(a);
    return undefined;
  }
  optimStep(a: OnTensors<OptimStepArgs>): Step {
    if (this.async) return this.device.optimStepAsync(a);
    this.device.optimStep(a);
    return undefined;
  }
}
