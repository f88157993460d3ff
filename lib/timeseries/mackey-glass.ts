// The Mackey–Glass delay differential equation, the classic benchmark series of time-delay
// networks and NARX models (Mackey & Glass 1977; the set-up of Jang 1993 and Lapedes & Farber):
//   dx/dt = beta * x(t - tau) / (1 + x(t - tau)^exponent) - gamma * x(t)
// integrated by Euler steps of `dt` and sampled every `sampleEvery` time units, from x(0) = x0
// with x(t) = 0 for t < 0 (Jang's convention). Chaotic for tau = 17 (the default).

export interface MackeyGlassOptions {
  /** Samples to return, at t = 0, sampleEvery, 2 sampleEvery, … (required). */
  length: number;
  /** Delay (default 17). */
  tau?: number;
  /** Production rate (default 0.2). */
  beta?: number;
  /** Decay rate (default 0.1). */
  gamma?: number;
  /** Nonlinearity exponent (default 10). */
  exponent?: number;
  /** Euler step (default 0.1); tau and sampleEvery must be whole multiples of it. */
  dt?: number;
  /** Time between samples (default 1). */
  sampleEvery?: number;
  /** x(0) (default 1.2). */
  x0?: number;
}

const KEYS = ['length', 'tau', 'beta', 'gamma', 'exponent', 'dt', 'sampleEvery', 'x0'];

/** The Mackey–Glass series: `length` samples as a Float64Array. */
export function mackeyGlass(options: MackeyGlassOptions): Float64Array {
  const what = 'mackeyGlass';
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${what}: options must be an object such as { length: 1200 }, received ${String(options)}`);
  for (const k of Object.keys(options))
    if (!KEYS.includes(k)) throw new RangeError(`${what}: unknown option '${k}'; known options: ${KEYS.join(', ')}`);
  const { length, tau = 17, beta = 0.2, gamma = 0.1, exponent = 10, dt = 0.1, sampleEvery = 1, x0 = 1.2 } = options;
  if (!Number.isSafeInteger(length) || length < 1 || length > 1e7)
    throw new RangeError(`${what}: length must be an integer in [1, 10000000], received ${String(length)}`);
  for (const [k, v, lo] of [
    ['tau', tau, 0],
    ['beta', beta, -Infinity],
    ['gamma', gamma, -Infinity],
    ['exponent', exponent, -Infinity],
    ['x0', x0, -Infinity],
  ] as const)
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo)
      throw new RangeError(`${what}: ${k} must be a finite number${lo === 0 ? ' >= 0' : ''}, received ${String(v)}`);
  for (const [k, v] of [
    ['dt', dt],
    ['sampleEvery', sampleEvery],
  ] as const)
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
      throw new RangeError(`${what}: ${k} must be a finite number > 0, received ${String(v)}`);
  const whole = (v: number) => Math.round(v / dt);
  const lag = whole(tau),
    every = whole(sampleEvery);
  if (
    Math.abs(lag * dt - tau) > 1e-9 * Math.max(1, tau) ||
    every < 1 ||
    Math.abs(every * dt - sampleEvery) > 1e-9 * sampleEvery
  )
    throw new RangeError(
      `${what}: tau (${tau}) and sampleEvery (${sampleEvery}) must be whole multiples of dt (${dt})`,
    );
  // x at every Euler step, kept for the delay; steps before 0 read as 0
  const steps = (length - 1) * every;
  const x = new Float64Array(steps + 1);
  x[0] = x0;
  for (let i = 0; i < steps; i++) {
    const d = i - lag >= 0 ? x[i - lag] : 0;
    x[i + 1] = x[i] + dt * ((beta * d) / (1 + Math.pow(d, exponent)) - gamma * x[i]);
    if (!Number.isFinite(x[i + 1]))
      throw new RangeError(
        `${what}: the series diverged at t = ${((i + 1) * dt).toFixed(3)} (check beta, gamma, exponent)`,
      );
  }
  const out = new Float64Array(length);
  for (let k = 0; k < length; k++) out[k] = x[k * every];
  return out;
}
