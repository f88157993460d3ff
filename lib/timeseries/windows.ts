// Lagged input/target pairs from series, and a chronological split that never shuffles.

/** One series: [T] (one feature) or [T][F]. Several series: an array of [T][F] series. */
export type SeriesData = ArrayLike<number> | ArrayLike<ArrayLike<number>> | ArrayLike<ArrayLike<ArrayLike<number>>>;

export interface WindowOptions {
  /** Taps into the past of the input row, each >= 0 (0: the current step t). Required. */
  lags: number[];
  /** Steps ahead of t the target lies (default 1; 0 allowed: a target at t itself). */
  horizon?: number;
  /** Features that form the target (default: every feature). */
  targetFeatures?: number[] | null;
}
export interface Windows {
  /** One row per pair: x[t - lags[0]], x[t - lags[1]], … (each with every feature), concatenated. */
  inputs: number[][];
  /** x[t + horizon] (the target features). */
  targets: number[][];
  /** The series and the step t of each pair. */
  series: number[];
  steps: number[];
}

/** The series of `data` as [T][F] arrays (depth decides: [T], [T][F], or an array of [T][F]). */
function seriesList(what: string, data: SeriesData): number[][][] {
  if (!data || typeof data !== 'object' || typeof data.length !== 'number')
    throw new TypeError(
      `${what}: series must be an array ([T], [T][F] or several [T][F]), received ${data === null ? 'null' : typeof data}`,
    );
  if (data.length === 0) throw new RangeError(`${what}: series must hold at least one step, received none`);
  const first = data[0];
  const isRow = (v: unknown) =>
    v !== null && typeof v === 'object' && typeof (v as ArrayLike<unknown>).length === 'number';
  let list: ArrayLike<ArrayLike<ArrayLike<number>>>;
  if (typeof first === 'number') list = [Array.from(data as ArrayLike<number>, (v) => [v])];
  else if (isRow(first) && typeof (first as ArrayLike<unknown>)[0] === 'number')
    list = [data as ArrayLike<ArrayLike<number>>];
  else list = data as ArrayLike<ArrayLike<ArrayLike<number>>>;
  let F: number | null = null;
  return Array.from({ length: list.length }, (_, s) => {
    const ser = list[s];
    if (!isRow(ser))
      throw new TypeError(
        `${what}: series ${s} must be an array of rows [T][F], received ${ser === null ? 'null' : typeof ser}`,
      );
    return Array.from({ length: ser.length }, (_, t) => {
      const r = ser[t];
      if (!isRow(r))
        throw new TypeError(
          `${what}: series ${s} step ${t} must be a row of numbers, received ${r === null ? 'null' : typeof r}`,
        );
      F ??= r.length;
      if (r.length !== F || F === 0)
        throw new RangeError(
          `${what}: series ${s} step ${t} must have ${F || 'at least 1'} features, received ${r.length}`,
        );
      const row = Array.from(r);
      row.forEach((v, f) => {
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new RangeError(
            `${what}: series ${s} step ${t} feature ${f} must be a finite number, received ${String(v)}`,
          );
      });
      return row;
    });
  });
}

/** Taps: a non-empty list of distinct integers >= min. */
export function checkTaps(what: string, name: string, taps: unknown, min: number, allowEmpty = false): number[] {
  if (!Array.isArray(taps))
    throw new TypeError(
      `${what}: ${name} must be an array of integers >= ${min}, received ${taps === null ? 'null' : typeof taps}`,
    );
  if (!allowEmpty && taps.length === 0)
    throw new RangeError(`${what}: ${name} must hold at least one delay, received []`);
  const seen = new Set<number>();
  for (let i = 0; i < taps.length; i++) {
    const d = taps[i];
    if (!Number.isSafeInteger(d) || d < min || d > 1e6)
      throw new RangeError(`${what}: ${name}[${i}] must be an integer in [${min}, 1000000], received ${String(d)}`);
    if (seen.has(d)) throw new RangeError(`${what}: ${name} must be distinct, received ${d} twice`);
    seen.add(d);
  }
  return taps.slice();
}

/**
 * Pairs (x[t − lags], x[t + horizon]) for every t where both exist, series by series (a window
 * never spans two series), in time order.
 */
export function slidingWindows(data: SeriesData, options: WindowOptions): Windows {
  const what = 'slidingWindows';
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${what}: options must be an object such as { lags: [2, 1, 0], horizon: 1 }`);
  for (const k of Object.keys(options))
    if (!['lags', 'horizon', 'targetFeatures'].includes(k))
      throw new RangeError(`${what}: unknown option '${k}'; known options: lags, horizon, targetFeatures`);
  const lags = checkTaps(what, 'lags', options.lags, 0);
  const horizon = options.horizon ?? 1;
  if (!Number.isSafeInteger(horizon) || horizon < 0)
    throw new RangeError(`${what}: horizon must be an integer >= 0, received ${String(horizon)}`);
  const list = seriesList(what, data);
  const F = list[0][0]?.length ?? 1;
  const tf = options.targetFeatures ?? null;
  const targetFeatures = tf === null ? [...Array(F).keys()] : checkTaps(what, 'targetFeatures', tf, 0);
  for (const f of targetFeatures)
    if (f >= F) throw new RangeError(`${what}: targetFeatures holds ${f}, but the series have ${F} features`);
  const L = Math.max(...lags);
  const out: Windows = { inputs: [], targets: [], series: [], steps: [] };
  list.forEach((x, s) => {
    for (let t = L; t + horizon < x.length; t++) {
      out.inputs.push(lags.flatMap((d) => x[t - d]));
      out.targets.push(targetFeatures.map((f) => x[t + horizon][f]));
      out.series.push(s);
      out.steps.push(t);
    }
  });
  if (out.inputs.length === 0)
    throw new RangeError(
      `${what}: no series is long enough: a pair needs ${L + horizon + 1} steps (largest lag ${L} + horizon ${horizon} + 1)`,
    );
  return out;
}

export interface SplitOptions {
  /** Size of the training part (first). Required. */
  train: number;
  /** Size of the validation part (next; default 0). */
  validation?: number;
  /** Size of the test part (last; default: what remains). */
  test?: number;
  /** 'fraction' (sizes in [0, 1] of the length, rounded down; default) or 'count' (rows). */
  unit?: 'fraction' | 'count';
}
export interface Split<T> {
  train: T;
  validation: T;
  test: T;
}

/**
 * Consecutive train / validation / test parts, in time order (never shuffled). `data` is one
 * array, or an object of equally long arrays (e.g. slidingWindows' result) split alike.
 */
export function chronologicalSplit<T extends ArrayLike<unknown> | Record<string, ArrayLike<unknown>>>(
  data: T,
  options: SplitOptions,
): Split<T> {
  const what = 'chronologicalSplit';
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${what}: options must be an object such as { train: 0.7, validation: 0.15 }`);
  for (const k of Object.keys(options))
    if (!['train', 'validation', 'test', 'unit'].includes(k))
      throw new RangeError(`${what}: unknown option '${k}'; known options: train, validation, test, unit`);
  const unit = options.unit ?? 'fraction';
  if (unit !== 'fraction' && unit !== 'count')
    throw new RangeError(`${what}: unit must be 'fraction' or 'count', received ${JSON.stringify(unit)}`);
  if (data === null || typeof data !== 'object')
    throw new TypeError(`${what}: data must be an array or an object of arrays`);
  const isArr = typeof (data as ArrayLike<unknown>).length === 'number';
  const arrays: Record<string, ArrayLike<unknown>> = isArr
    ? { data: data as ArrayLike<unknown> }
    : (data as Record<string, ArrayLike<unknown>>);
  const lens = Object.entries(arrays).map(([k, a]) => {
    if (!a || typeof a.length !== 'number') throw new TypeError(`${what}: data.${k} must be an array`);
    return a.length;
  });
  if (lens.length === 0) throw new RangeError(`${what}: data holds no arrays`);
  const n = lens[0];
  if (lens.some((l) => l !== n))
    throw new RangeError(`${what}: every array of data must have the same length, received ${lens.join(', ')}`);
  const size = (name: string, v: number | undefined, dflt: number | null): number | null => {
    if (v === undefined) return dflt;
    if (unit === 'fraction') {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1))
        throw new RangeError(`${what}: ${name} must be a fraction in [0, 1], received ${String(v)}`);
      return Math.floor(v * n + 1e-9);
    }
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`${what}: ${name} must be a count (an integer >= 0), received ${String(v)}`);
    return v;
  };
  if (options.train === undefined) throw new TypeError(`${what}: train is required`);
  const nTrain = size('train', options.train, null)!,
    nVal = size('validation', options.validation, 0)!;
  const nTest = size('test', options.test, null) ?? n - nTrain - nVal;
  if (nTest < 0 || nTrain + nVal + nTest > n)
    throw new RangeError(
      `${what}: train ${nTrain} + validation ${nVal} + test ${Math.max(nTest, 0)} rows exceed the ${n} rows of data`,
    );
  const cut = (a: ArrayLike<unknown>, from: number, to: number) =>
    Array.isArray(a) ? a.slice(from, to) : (a as unknown as { slice(a: number, b: number): unknown }).slice(from, to);
  const part = (from: number, to: number): T =>
    (isArr
      ? cut(data as ArrayLike<unknown>, from, to)
      : Object.fromEntries(Object.entries(arrays).map(([k, a]) => [k, cut(a, from, to)]))) as T;
  return {
    train: part(0, nTrain),
    validation: part(nTrain, nTrain + nVal),
    test: part(nTrain + nVal, nTrain + nVal + nTest),
  };
}
