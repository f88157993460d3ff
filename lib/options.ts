// One options table per layer or model: each field's type, range, default and documentation in
// one place. resolveOptions() validates user options against it and fills defaults; the resolved
// object is what a model file stores, so loading rebuilds exactly the same architecture.
export type FieldSpec =
  | { type: 'int'; doc: string; min?: number; max?: number; default?: number | null; nullable?: boolean }
  | { type: 'number'; doc: string; min?: number; max?: number; default?: number | null; nullable?: boolean }
  | { type: 'bool'; doc: string; default?: boolean }
  | { type: 'enum'; doc: string; values: readonly string[]; default?: string }
  | { type: 'string'; doc: string; default?: string | null; nullable?: boolean }
  | {
      type: 'ints';
      doc: string;
      min?: number;
      max?: number;
      maxLength?: number;
      distinct?: boolean;
      default?: number[] | null;
      nullable?: boolean;
    };

export type Schema = Record<string, FieldSpec>;

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return `string "${v}"`;
  if (typeof v === 'number') return `number ${v}`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (Array.isArray(v)) return `Array of length ${v.length}`;
  return typeof v;
}

/** A constructor's options argument: an object (or nothing), else a TypeError naming what it received. */
export function optionsObject<T extends object>(what: string, given: T | undefined): T {
  if (given === undefined) return {} as T;
  if (given === null || typeof given !== 'object' || Array.isArray(given))
    throw new TypeError(`${what}: options must be an object, received ${describe(given)}`);
  return given;
}

/** Validates `given` against `schema` and returns every field filled in (defaults included). */
export function resolveOptions<T>(what: string, schema: Schema, given: unknown): T {
  if (schema === null || typeof schema !== 'object')
    throw new TypeError(`resolveOptions: schema must be an object of field specs, received ${describe(schema)}`);
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    throw new TypeError(`${what}: options must be an object, received ${describe(given)}`);
  }
  const src = (given ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(src)) {
    if (!(k in schema))
      throw new RangeError(`${what}: unknown option '${k}'; known options: ${Object.keys(schema).join(', ')}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(schema)) {
    let v = src[k];
    if (v === undefined) {
      if (f.default === undefined) throw new TypeError(`${what}: ${k} is required (${f.doc})`);
      out[k] = f.default;
      continue;
    }
    if (f.type === 'int' || f.type === 'number') {
      if (v === null && f.nullable) {
        out[k] = null;
        continue;
      }
      // an integer option without a bound of its own is a size or a count: it must fit the
      // kernels' int32 dimensions (larger values would wrap or overflow the products)
      const lo = f.min ?? -Infinity,
        hi = f.max ?? (f.type === 'int' ? 2147483647 : Infinity);
      const kind = f.type === 'int' ? 'an integer' : 'a finite number';
      const range = `${kind}${lo > -Infinity ? ` >= ${lo}` : ''}${hi < Infinity ? `${lo > -Infinity ? ' and' : ''} <= ${hi}` : ''}`;
      if (typeof v !== 'number') throw new TypeError(`${what}: ${k} must be ${range}, received ${describe(v)}`);
      if (!Number.isFinite(v) || (f.type === 'int' && !Number.isInteger(v)) || v < lo || v > hi) {
        throw new RangeError(`${what}: ${k} must be ${range}, received ${describe(v)}`);
      }
    } else if (f.type === 'bool') {
      if (typeof v !== 'boolean') throw new TypeError(`${what}: ${k} must be a boolean, received ${describe(v)}`);
    } else if (f.type === 'string') {
      if (v === null && f.nullable) {
        out[k] = null;
        continue;
      }
      if (typeof v !== 'string' || v.length === 0)
        throw new TypeError(`${what}: ${k} must be a non-empty string, received ${describe(v)}`);
    } else if (f.type === 'ints') {
      if (v === null && f.nullable) {
        out[k] = null;
        continue;
      }
      const lo = f.min ?? -2147483648,
        hi = f.max ?? 2147483647,
        maxLen = f.maxLength ?? 4096;
      const want = `a non-empty array of at most ${maxLen}${f.distinct ? ' distinct' : ''} integers >= ${lo} and <= ${hi}`;
      if (!Array.isArray(v) || v.length === 0 || v.length > maxLen)
        throw new TypeError(`${what}: ${k} must be ${want}, received ${describe(v)}`);
      const list = v as unknown[];
      for (let i = 0; i < list.length; i++) {
        const e = list[i];
        if (typeof e !== 'number' || !Number.isInteger(e) || e < lo || e > hi)
          throw new RangeError(`${what}: ${k}[${i}] must be an integer >= ${lo} and <= ${hi}, received ${describe(e)}`);
        if (f.distinct && list.indexOf(e) !== i)
          throw new RangeError(`${what}: ${k} must be distinct, received ${e} twice (${k} [${list.join(', ')}])`);
      }
      v = list.slice();
    } else if (f.type === 'enum') {
      if (typeof v !== 'string' || !f.values.includes(v)) {
        const err = typeof v === 'string' ? RangeError : TypeError;
        throw new err(
          `${what}: ${k} must be one of ${f.values.map((x) => `'${x}'`).join(' ')}, received ${describe(v)}`,
        );
      }
    }
    out[k] = v;
    v = undefined;
  }
  return out as T;
}
