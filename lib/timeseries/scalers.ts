// Per-feature scalers of rows [N][F]: fit on training data, transform, inverseTransform, and a
// JSON form that model files store. A constant feature (std 0, or max = min) is not refused: its
// scale is taken as 1 (as scikit-learn does), so it transforms to 0 (standard) or to the low end
// of the range (min-max) and back to its value.

export interface StandardScalerJSON {
  kind: 'standard';
  mean: number[];
  scale: number[];
}
export interface MinMaxScalerJSON {
  kind: 'minmax';
  range: [number, number];
  min: number[];
  scale: number[];
}
export type ScalerJSON = StandardScalerJSON | MinMaxScalerJSON;

function rowsOf(what: string, rows: ArrayLike<ArrayLike<number>>, F: number | null): number {
  if (!Array.isArray(rows) && !(rows && typeof rows === 'object' && typeof rows.length === 'number'))
    throw new TypeError(
      `${what}: rows must be an array of rows [N][F], received ${rows === null ? 'null' : typeof rows}`,
    );
  if (rows.length === 0) throw new RangeError(`${what}: rows must hold at least one row, received none`);
  let f = F;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!r || typeof r !== 'object' || typeof r.length !== 'number')
      throw new TypeError(
        `${what}: rows[${i}] must be an array of numbers, received ${r === null ? 'null' : typeof r}`,
      );
    if (f === null) f = r.length;
    if (r.length !== f)
      throw new RangeError(
        `${what}: rows[${i}] must have ${f} features${F !== null ? ' (as fitted)' : ''}, received ${r.length}`,
      );
    for (let j = 0; j < r.length; j++)
      if (typeof r[j] !== 'number' || !Number.isFinite(r[j]))
        throw new RangeError(`${what}: rows[${i}][${j}] must be a finite number, received ${String(r[j])}`);
  }
  if (f === 0) throw new RangeError(`${what}: rows must have at least one feature`);
  return f!;
}

abstract class Scaler {
  /** Per-feature offset and scale: transform(v) = (v − offset) / scale + base. */
  protected offset: number[] | null = null;
  protected scaleOf: number[] | null = null;
  protected base = 0;
  protected abstract readonly name: string;
  protected abstract compute(rows: ArrayLike<ArrayLike<number>>, F: number): void;

  /** Features the scaler was fitted on (null before fit). */
  get features(): number | null {
    return this.offset ? this.offset.length : null;
  }
  fit(rows: ArrayLike<ArrayLike<number>>): this {
    const F = rowsOf(`${this.name}.fit`, rows, null);
    this.compute(rows, F);
    return this;
  }
  private fitted(what: string): { o: number[]; s: number[] } {
    if (!this.offset || !this.scaleOf) throw new Error(`${this.name}.${what}: call fit first`);
    return { o: this.offset, s: this.scaleOf };
  }
  transform(rows: ArrayLike<ArrayLike<number>>): number[][] {
    const { o, s } = this.fitted('transform');
    rowsOf(`${this.name}.transform`, rows, o.length);
    return Array.from(rows, (r) => Array.from(r, (v, j) => (v - o[j]) / s[j] + this.base));
  }
  inverseTransform(rows: ArrayLike<ArrayLike<number>>): number[][] {
    const { o, s } = this.fitted('inverseTransform');
    rowsOf(`${this.name}.inverseTransform`, rows, o.length);
    return Array.from(rows, (r) => Array.from(r, (v, j) => (v - this.base) * s[j] + o[j]));
  }
  fitTransform(rows: ArrayLike<ArrayLike<number>>): number[][] {
    return this.fit(rows).transform(rows);
  }
  /** @internal One value of feature j, no checks (the model's hot path). */
  forward(v: number, j: number): number {
    return (v - this.offset![j]) / this.scaleOf![j] + this.base;
  }
  /** @internal */
  backward(v: number, j: number): number {
    return (v - this.base) * this.scaleOf![j] + this.offset![j];
  }
  abstract toJSON(): ScalerJSON;
}

/** (v − mean) / std per feature (population std); a constant feature gets std 1. */
export class StandardScaler extends Scaler {
  protected readonly name = 'StandardScaler';
  protected compute(rows: ArrayLike<ArrayLike<number>>, F: number): void {
    const n = rows.length;
    const mean = new Array<number>(F).fill(0),
      sd = new Array<number>(F).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) mean[j] += rows[i][j] / n;
    for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) sd[j] += (rows[i][j] - mean[j]) ** 2 / n;
    this.offset = mean;
    this.scaleOf = sd.map((v) => (Math.sqrt(v) > 0 ? Math.sqrt(v) : 1));
  }
  get mean(): number[] | null {
    return this.offset ? this.offset.slice() : null;
  }
  get std(): number[] | null {
    return this.scaleOf ? this.scaleOf.slice() : null;
  }
  toJSON(): StandardScalerJSON {
    if (!this.offset) throw new Error('StandardScaler.toJSON: call fit first');
    return { kind: 'standard', mean: this.offset.slice(), scale: this.scaleOf!.slice() };
  }
  static fromJSON(json: unknown): StandardScaler {
    const j = checkJSON(json, 'standard', ['kind', 'mean', 'scale']);
    const s = new StandardScaler();
    s.offset = j.mean as number[];
    s.scaleOf = j.scale as number[];
    return s;
  }
}

/** Maps each feature's [min, max] on the training rows to `range` (default [0, 1]). */
export class MinMaxScaler extends Scaler {
  protected readonly name = 'MinMaxScaler';
  readonly range: [number, number];
  constructor(options: { range?: [number, number] } = {}) {
    super();
    if (options === null || typeof options !== 'object')
      throw new TypeError('MinMaxScaler: options must be an object such as { range: [-1, 1] }');
    for (const k of Object.keys(options))
      if (k !== 'range') throw new RangeError(`MinMaxScaler: unknown option '${k}'; known options: range`);
    const r = options.range ?? [0, 1];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => Number.isFinite(v)) || !(r[1] > r[0]))
      throw new RangeError(
        `MinMaxScaler: range must be two finite numbers [lo, hi] with lo < hi, received ${JSON.stringify(r)}`,
      );
    this.range = [r[0], r[1]];
    this.base = r[0];
  }
  protected compute(rows: ArrayLike<ArrayLike<number>>, F: number): void {
    const lo = new Array<number>(F).fill(Infinity),
      hi = new Array<number>(F).fill(-Infinity);
    for (let i = 0; i < rows.length; i++)
      for (let j = 0; j < F; j++) {
        lo[j] = Math.min(lo[j], rows[i][j]);
        hi[j] = Math.max(hi[j], rows[i][j]);
      }
    const width = this.range[1] - this.range[0];
    this.offset = lo;
    this.scaleOf = lo.map((l, j) => (hi[j] > l ? (hi[j] - l) / width : 1));
  }
  toJSON(): MinMaxScalerJSON {
    if (!this.offset) throw new Error('MinMaxScaler.toJSON: call fit first');
    return { kind: 'minmax', range: [...this.range], min: this.offset.slice(), scale: this.scaleOf!.slice() };
  }
  static fromJSON(json: unknown): MinMaxScaler {
    const j = checkJSON(json, 'minmax', ['kind', 'range', 'min', 'scale']);
    const s = new MinMaxScaler({ range: j.range as [number, number] });
    s.offset = j.min as number[];
    s.scaleOf = j.scale as number[];
    if (s.offset.length !== s.scaleOf.length)
      throw new RangeError('MinMaxScaler.fromJSON: min and scale must have one entry per feature');
    return s;
  }
}

function checkJSON(json: unknown, kind: string, keys: string[]): Record<string, unknown> {
  const what = kind === 'standard' ? 'StandardScaler.fromJSON' : 'MinMaxScaler.fromJSON';
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new TypeError(`${what}: expected an object with fields ${keys.join(', ')}`);
  const j = json as Record<string, unknown>;
  for (const k of Object.keys(j))
    if (!keys.includes(k)) throw new RangeError(`${what}: unexpected field '${k}'; expected ${keys.join(', ')}`);
  if (j.kind !== kind) throw new RangeError(`${what}: kind must be '${kind}', received ${JSON.stringify(j.kind)}`);
  const lists = keys.filter((k) => k !== 'kind' && k !== 'range');
  let F: number | null = null;
  for (const k of lists) {
    const v = j[k];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw new RangeError(`${what}: ${k} must be a non-empty array of finite numbers, received ${JSON.stringify(v)}`);
    if (F !== null && v.length !== F)
      throw new RangeError(`${what}: ${lists.join(' and ')} must have one entry per feature`);
    F = v.length;
  }
  if (!(j.scale as number[]).every((x) => x > 0))
    throw new RangeError(`${what}: scale must be positive, received ${JSON.stringify(j.scale)}`);
  return {
    ...j,
    mean: (j.mean as number[] | undefined)?.slice(),
    min: (j.min as number[] | undefined)?.slice(),
    scale: (j.scale as number[]).slice(),
  };
}

/** A scaler from its JSON form (the kind field picks the class). */
export function scalerFromJSON(json: unknown): StandardScaler | MinMaxScaler {
  const kind = json !== null && typeof json === 'object' ? (json as { kind?: unknown }).kind : undefined;
  if (kind === 'standard') return StandardScaler.fromJSON(json);
  if (kind === 'minmax') return MinMaxScaler.fromJSON(json);
  throw new RangeError(`scalerFromJSON: kind must be 'standard' or 'minmax', received ${JSON.stringify(kind)}`);
}
export type { Scaler };
