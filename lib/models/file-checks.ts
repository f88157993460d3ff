// Reading a model file's metadata and tensors field by field: every field checked against what
// the saving code writes (type, range, shape), every tensor consumed exactly once, so a
// hand-edited or corrupt file is refused naming the file, the field and what was found, and
// nothing in a file is silently dropped or defaulted.
import { CheckpointError } from '../checkpoint';
import type { Checkpoint, TensorData } from '../checkpoint';

function show(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? typeof v : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return typeof v;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One model file being read: its path for messages and the tensors not yet consumed. */
export class ModelFile {
  private readonly unread: Set<string>;
  constructor(
    readonly path: string,
    readonly cp: Checkpoint,
  ) {
    this.unread = new Set(Object.keys(cp.tensors));
  }

  /** A CheckpointError naming the file and the field. */
  error(field: string, expected: string, found: unknown): CheckpointError {
    return new CheckpointError(`rnnkit model ${this.path}: ${field} must be ${expected}, found ${show(found)}`);
  }
  fail(message: string): never {
    throw new CheckpointError(`rnnkit model ${this.path}: ${message}`);
  }

  /** An object with exactly these fields. */
  object(v: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
    if (!isObject(v)) throw this.error(field, `an object with fields ${keys.join(', ')}`, v);
    for (const k of Object.keys(v))
      if (!keys.includes(k)) this.fail(`${field} has unexpected field '${k}'; expected ${keys.join(', ')}`);
    for (const k of keys) if (!Object.hasOwn(v, k)) this.fail(`${field} is missing field '${k}'`);
    return v;
  }
  /** A plain object (its fields are checked by whoever reads it). */
  record(v: unknown, field: string): Record<string, unknown> {
    if (!isObject(v)) throw this.error(field, 'an object', v);
    return v;
  }
  count(v: unknown, field: string, min = 0): number {
    if (!Number.isSafeInteger(v) || (v as number) < min) throw this.error(field, `an integer >= ${min}`, v);
    return v as number;
  }
  finite(v: unknown, field: string, min = -Infinity, max = Infinity): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      const range = `${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}`;
      throw this.error(field, `a finite number${range}`, v);
    }
    return v;
  }
  finiteOrNull(v: unknown, field: string): number | null {
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.error(field, 'a finite number or null', v);
    return v;
  }
  /** The state of lib/rng.ts: four unsigned 32-bit words, not all zero (xoshiro never leaves zero). */
  rngState(v: unknown, field: string): number[] {
    if (
      !Array.isArray(v) ||
      v.length !== 4 ||
      !v.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32) ||
      v.every((x) => x === 0)
    )
      throw this.error(field, 'four unsigned 32-bit integers, not all zero', v);
    return v as number[];
  }
  /** Runs a constructor's own validation, naming the field its message is about. */
  validated<T>(field: string, make: () => T): T {
    try {
      return make();
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      this.fail(`${field}: ${(e as Error).message}`);
    }
  }

  has(name: string): boolean {
    return Object.hasOwn(this.cp.tensors, name);
  }
  /** Consumes a tensor of exactly this dtype and shape with only finite values (floats). */
  tensor(name: string, dtype: 'float32' | 'float64', shape: readonly number[]): TensorData {
    const t = Object.hasOwn(this.cp.tensors, name) ? this.cp.tensors[name] : undefined;
    if (!t) this.fail(`tensor '${name}' is missing`);
    const got = t.data instanceof Float64Array ? 'float64' : t.data instanceof Float32Array ? 'float32' : 'other';
    if (got !== dtype || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      const found = got === 'other' ? t.data.constructor.name : got;
      this.fail(
        `tensor '${name}' must be ${dtype} of shape [${shape.join(',')}], found ${found} of shape [${t.shape.join(',')}]`,
      );
    }
    for (let i = 0; i < t.data.length; i++)
      if (!Number.isFinite(t.data[i])) this.fail(`tensor '${name}' must be finite, found ${t.data[i]} at element ${i}`);
    this.unread.delete(name);
    return t.data;
  }
  /** Total bytes of the tensors whose names start with prefix (what the file can hold of them). */
  bytesUnder(prefix: string): number {
    let n = 0;
    for (const [name, t] of Object.entries(this.cp.tensors)) if (name.startsWith(prefix)) n += t.data.byteLength;
    return n;
  }
  /** Every tensor was read: a file with more than its model uses is not the model it claims. */
  done(): void {
    const left = [...this.unread];
    if (left.length)
      this.fail(
        `unexpected tensor${left.length > 1 ? 's' : ''} ${left
          .slice(0, 5)
          .map((n) => `'${n}'`)
          .join(', ')}${left.length > 5 ? ` and ${left.length - 5} more` : ''} (not part of this model)`,
      );
  }
}

/** The first path at which two JSON values differ, or null (key order ignored). */
export function firstDifference(a: unknown, b: unknown, at: string): string | null {
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${at}.${k}`);
      if (d) return d;
    }
    return null;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return at;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : at;
}

/** Reads the value at a path written by firstDifference ('options.layers[0].config.x'). */
export function valueAt(root: unknown, at: string, base: string): unknown {
  let v: unknown = root;
  for (const part of at.slice(base.length).match(/[^.[\]]+/g) ?? []) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

let skipping = 0;
/**
 * @internal Builds a model whose weights a load is about to replace: the constructors skip
 * weight initialization (and so allocate nothing) while `make` runs.
 */
export function withoutInit<T>(make: () => T): T {
  skipping++;
  try {
    return make();
  } finally {
    skipping--;
  }
}
/** @internal Whether a constructor should initialize its weights. */
export function initializing(): boolean {
  return skipping === 0;
}

/** Option names that set a size: what an error about a file too small for its model names. */
const SIZE_KEY = /size|dim|features|embeddings|layers|vocab/i;
function sizeFields(v: unknown, at: string, out: string[]): void {
  if (Array.isArray(v)) v.forEach((x, i) => sizeFields(x, `${at}[${i}]`, out));
  else if (isObject(v))
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'number' && SIZE_KEY.test(k)) out.push(`${at ? `${at}.` : ''}${k} ${x}`);
      else if (typeof x === 'object') sizeFields(x, at ? `${at}.${k}` : k, out);
    }
}

/** What readParameters needs of a FlatParameters (registered shapes; nothing allocated yet). */
interface ParameterLayout {
  readonly dtype: 'float32' | 'float64';
  readonly size: number;
  list(): ReadonlyArray<{ name: string; shape: number[] }>;
}

/**
 * The `param/<name>` tensors of a model built (not yet allocated) from the file's options. The
 * size the options imply is checked against the bytes the file holds first, so a small file
 * declaring a huge model is refused at once instead of after allocating it.
 */
export function readParameters(params: ParameterLayout, file: ModelFile, options: unknown): Record<string, TensorData> {
  const need = params.size * (params.dtype === 'float64' ? 8 : 4),
    held = file.bytesUnder('param/');
  if (need > held) {
    const sizes: string[] = [];
    sizeFields(options, '', sizes);
    file.fail(
      `options (${sizes.slice(0, 8).join(', ')}) imply ${params.size} parameters (${need} bytes of ${params.dtype}) ` +
        `but the file's parameter tensors hold ${held} bytes`,
    );
  }
  const sd: Record<string, TensorData> = {};
  for (const e of params.list()) sd[e.name] = file.tensor(`param/${e.name}`, params.dtype, e.shape);
  return sd;
}

/** The model options of a file against the options the model resolved from them. */
export function checkResolved(file: ModelFile, stored: unknown, resolved: unknown): void {
  const config = JSON.parse(JSON.stringify(resolved)) as unknown;
  const at = firstDifference(stored, config, 'options');
  if (at)
    file.fail(
      `${at} must be ${show(valueAt(config, at, 'options'))} (as the model resolves its options), found ${show(valueAt(stored, at, 'options'))}`,
    );
}
