// The safetensors format (https://github.com/huggingface/safetensors), read and written exactly as
// specified, and the glue that moves a model's weights through it under PyTorch's names.
//
// Layout (integers little-endian):
//   bytes 0..7     N, uint64: the header's length in bytes
//   bytes 8..8+N   UTF-8 JSON object, starting with '{', possibly padded with spaces:
//                    { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
//                      "__metadata__": { "<key>": "<string value>", ... } }   (metadata optional)
//   the rest       the data section: each tensor's elements, row-major, little-endian, at
//                  [begin, end) relative to the section; the tensors tile the section exactly
//                  (no holes, no overlaps, nothing after the last one).
// Reading runs no code and trusts nothing: the header length is checked against the file (and a
// 100 MB cap) before the header is read, every entry's dtype, shape and offsets are checked, and
// the offsets must tile the data section, so every allocation is bounded by the file's own size.
// Floating-point tensors (F16, BF16, F32, F64) are converted to the model's dtype on load; the
// other dtypes of the format are understood (their sizes are checked) but refused by name.
import * as fs from 'fs';
import { writeFileAtomic, writeFileAtomicSync } from '../checkpoint';
import { TextDecoder } from 'util';

/** Element types of the format that rnnkit reads and writes. */
export type SafetensorsDType = 'F16' | 'BF16' | 'F32' | 'F64';

/** One tensor for encodeSafetensors: `dtype` defaults to the array's own (F32 or F64). */
export interface SafetensorsInput {
  /** Element type in the file; F16 and BF16 round to nearest even. */
  dtype?: SafetensorsDType;
  shape: number[];
  data: Float32Array | Float64Array;
}

/** One tensor read by decodeSafetensors: F16 and BF16 decode (exactly) to a Float32Array. */
export interface SafetensorsTensor {
  /** Element type in the file. */
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array | Float64Array;
}

/** The contents of a safetensors file: named tensors and the `__metadata__` strings. */
export interface Safetensors {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string> | null;
}

/** Thrown for every malformed, truncated or mismatched safetensors file. */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

/** Bytes per element of every dtype of the format (the others are unknown and refused). */
const BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
const FLOATS: readonly string[] = ['F16', 'BF16', 'F32', 'F64'];
const MAX_HEADER = 100_000_000;
const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const clip = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
const q = (name: string): string => `'${clip(name)}'`;
const dims = (shape: readonly number[]): string => `[${shape.join(',')}]`;
function show(v: unknown): string {
  if (v === undefined) return 'missing';
  try {
    return clip(JSON.stringify(v) ?? typeof v);
  } catch {
    return kind(v);
  }
}

/** Element count of a shape of safe non-negative integers whose product is safe, else undefined. */
function elementCount(shape: unknown): number | undefined {
  if (!Array.isArray(shape) || !shape.every(isCount)) return undefined;
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape as number[]) if ((n *= d) > Number.MAX_SAFE_INTEGER) return undefined;
  return n;
}

/** Plain assignment of '__proto__' would replace the prototype instead of adding a tensor. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The first key that occurs twice in one object of a JSON text (which JSON.parse already accepted),
 * or null: JSON.parse keeps the last of duplicates silently, so two readers could disagree.
 */
function duplicateKey(text: string): string | null {
  const stack: Array<{ keys: Set<string>; expectKey: boolean } | null> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      while (text[++i] !== '"') if (text[i] === '\\') i++;
      const top = stack[stack.length - 1];
      if (top && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
    } else if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    }
  }
  return null;
}

// ---------------------------------------------------------------- half precision

let f16Table: Float32Array | null = null;
/** All 65536 float16 values (exact in float32). */
function f16Values(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1,
      e = (h >>> 10) & 0x1f,
      m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1024 + m) * 2 ** (e - 25);
  }
  return (f16Table = t);
}

const f32 = new Float32Array(1),
  u32 = new Uint32Array(f32.buffer);
/** float16 bits of a number, rounded to nearest even (through float32). */
function toF16(x: number): number {
  f32[0] = x;
  const u = u32[0],
    sign = (u >>> 16) & 0x8000,
    exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 255) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e,
      half = mant >>> shift,
      rem = mant & ((1 << shift) - 1),
      mid = 1 << (shift - 1);
    return sign | (rem > mid || (rem === mid && half & 1) ? half + 1 : half);
  }
  const half = (e << 10) | (mant >>> 13),
    rem = mant & 0x1fff;
  return sign | (rem > 0x1000 || (rem === 0x1000 && half & 1) ? half + 1 : half); // a carry may reach infinity
}
/** bfloat16 bits of a number: the upper half of its float32, rounded to nearest even. */
function toBF16(x: number): number {
  f32[0] = x;
  const u = u32[0];
  if ((u & 0x7f800000) === 0x7f800000 && u & 0x7fffff) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---------------------------------------------------------------- encode

/** A safetensors file's bytes: tensors in the order given, `metadata` as `__metadata__` (strings). */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsInput>,
  metadata: Record<string, string> | null = null,
): Buffer {
  const E = 'rnnkit encodeSafetensors: ';
  if (!isObject(tensors))
    throw new TypeError(`${E}expected { name: { dtype?, shape, data } }, received ${kind(tensors)}`);
  if (metadata !== null) {
    if (!isObject(metadata))
      throw new TypeError(`${E}metadata must be an object of strings, received ${kind(metadata)}`);
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string') throw new TypeError(`${E}metadata ${q(k)} must be a string, received ${kind(v)}`);
  }
  const header: Record<string, unknown> = {};
  const parts: Array<{ dtype: SafetensorsDType; data: Float32Array | Float64Array }> = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name.length === 0 || name === '__metadata__')
      throw new TypeError(`${E}tensor names must be non-empty and not '__metadata__', received ${q(name)}`);
    const data: unknown = isObject(t) ? t.data : undefined;
    if (!(data instanceof Float32Array || data instanceof Float64Array))
      throw new TypeError(`${E}tensor ${q(name)}: data must be a Float32Array or Float64Array, received ${kind(data)}`);
    const dtype = t.dtype ?? (data instanceof Float64Array ? 'F64' : 'F32');
    if (!FLOATS.includes(dtype))
      throw new TypeError(`${E}tensor ${q(name)}: dtype must be one of ${FLOATS.join(', ')}, received ${show(dtype)}`);
    const count = elementCount(t.shape);
    if (count === undefined)
      throw new RangeError(
        `${E}tensor ${q(name)}: shape must be an array of non-negative integers, received ${show(t.shape)}`,
      );
    if (count !== data.length)
      throw new RangeError(
        `${E}tensor ${q(name)}: shape ${show(t.shape)} has ${count} elements but data has ${data.length}`,
      );
    const bytes = count * BYTES[dtype];
    setOwn(header, name, { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] });
    parts.push({ dtype, data });
    offset += bytes;
  }
  if (metadata !== null) header.__metadata__ = { ...metadata };
  let text = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((8 + text.length) % 8)) % 8; // the data section starts 8-byte aligned, as the reference writer pads
  text = Buffer.concat([text, Buffer.alloc(pad, 0x20)]);
  if (text.length > MAX_HEADER)
    throw new RangeError(`${E}header is ${text.length} bytes, over the ${MAX_HEADER}-byte limit of readers`);
  const out = Buffer.alloc(8 + text.length + offset);
  out.writeBigUInt64LE(BigInt(text.length), 0);
  text.copy(out, 8);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let pos = 8 + text.length;
  for (const { dtype, data } of parts) {
    if (dtype === 'F16' || dtype === 'BF16') {
      const to = dtype === 'F16' ? toF16 : toBF16;
      for (let i = 0; i < data.length; i++, pos += 2) view.setUint16(pos, to(data[i]), true);
    } else if (LITTLE_ENDIAN && (dtype === 'F32') === data instanceof Float32Array) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
      pos += data.byteLength;
    } else if (dtype === 'F32') for (let i = 0; i < data.length; i++, pos += 4) view.setFloat32(pos, data[i], true);
    else for (let i = 0; i < data.length; i++, pos += 8) view.setFloat64(pos, data[i], true);
  }
  return out;
}

// ---------------------------------------------------------------- decode

/** @internal One checked header entry: where its bytes lie in the buffer. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in the buffer. */
  begin: number;
  end: number;
}

/** @internal A checked file: every entry's offsets tile its data section. */
export interface SafetensorsLayout {
  source: string;
  buf: Uint8Array;
  entries: SafetensorsEntry[];
  metadata: Record<string, string> | null;
}

/** @internal Checks the header and the offsets of a safetensors file's bytes; copies nothing. */
export function parseSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsLayout {
  function fail(msg: string): never {
    throw new SafetensorsError(`rnnkit safetensors ${source}: ${msg}`);
  }
  if (!(buf instanceof Uint8Array))
    throw new TypeError(`rnnkit decodeSafetensors: expected a Buffer or Uint8Array, received ${kind(buf)}`);
  try {
    buf.subarray(0, 0);
  } catch {
    throw new TypeError('rnnkit decodeSafetensors: the Uint8Array is detached (its buffer was transferred)');
  }
  if (buf.length < 8) fail(`file is truncated: expected at least 8 bytes (the header length), found ${buf.length}`);
  const n = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  const N = Number(n);
  if (N > buf.length - 8)
    fail(`file is truncated: the header length says ${N} bytes of header, found ${buf.length - 8}`);
  if (N < 2 || buf[8] !== 0x7b) fail(`header must be a JSON object starting with '{', found ${N} byte(s)`);
  let text = '';
  try {
    // fatal: invalid UTF-8 is an error, not U+FFFD
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf.subarray(8, 8 + N));
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON: ${clip((e as Error).message)}`);
  }
  if (!isObject(header)) fail(`header must be a JSON object, found ${kind(header)}`);
  const dup = duplicateKey(text);
  if (dup !== null) fail(`header names ${q(dup)} twice`);

  let metadata: Record<string, string> | null = null;
  const entries: SafetensorsEntry[] = [];
  const dataStart = 8 + N,
    dataLength = buf.length - dataStart;
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(e)) fail(`__metadata__ must be an object of strings, found ${kind(e)}`);
      for (const [k, v] of Object.entries(e))
        if (typeof v !== 'string') fail(`__metadata__ ${q(k)} must be a string, found ${show(v)}`);
      metadata = e as Record<string, string>;
      continue;
    }
    const where = `tensor ${q(name)}`;
    if (!isObject(e)) fail(`${where} must be an object with dtype, shape and data_offsets, found ${kind(e)}`);
    for (const k of Object.keys(e))
      if (!ENTRY_KEYS.includes(k)) fail(`${where} has unexpected field ${q(k)}; expected ${ENTRY_KEYS.join(', ')}`);
    const { dtype, shape, data_offsets: offsets } = e;
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype))
      fail(`${where} has unknown dtype ${show(dtype)}: expected one of ${Object.keys(BYTES).join(', ')}`);
    const count = elementCount(shape);
    if (count === undefined)
      fail(`${where} has shape ${show(shape)}: expected an array of non-negative integers with a safe product`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1])
      fail(`${where} has data_offsets ${show(offsets)}: expected [begin, end], integers with 0 <= begin <= end`);
    const [begin, end] = offsets as [number, number];
    if (end > dataLength)
      fail(
        `file is truncated: ${where} lies at bytes ${begin}..${end} of the data section, which has ${dataLength} bytes`,
      );
    const need = count * BYTES[dtype];
    if (end - begin !== need)
      fail(
        `${where} has shape ${dims(shape as number[])} of ${dtype} (${need} bytes) but data_offsets ${begin}..${end} (${end - begin} bytes)`,
      );
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin: dataStart + begin, end: dataStart + end });
  }
  // The offsets tile the data section: sorted, each tensor starts where the previous one ends.
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart,
    prev: SafetensorsEntry | null = null;
  const rel = (x: number) => x - dataStart;
  for (const t of sorted) {
    if (t.begin < at)
      fail(
        `tensors ${q(prev!.name)} (bytes ${rel(prev!.begin)}..${rel(prev!.end)}) and ${q(t.name)} (bytes ${rel(t.begin)}..${rel(t.end)}) overlap`,
      );
    if (t.begin > at)
      fail(`the data section has a hole at bytes ${rel(at)}..${rel(t.begin)} (before tensor ${q(t.name)})`);
    at = t.end;
    if (t.end > t.begin) prev = t;
  }
  if (at < buf.length) fail(`${buf.length - at} bytes after the last tensor (the data section has ${dataLength})`);
  return { source, buf, entries, metadata };
}

/**
 * @internal One entry's values as `dtype` (F16 and BF16 exactly; F64 into float32 rounds); other
 * dtypes of the format are refused by name.
 */
export function entryValues(
  layout: SafetensorsLayout,
  e: SafetensorsEntry,
  dtype: 'float32' | 'float64' | null = null,
): Float32Array | Float64Array {
  if (!FLOATS.includes(e.dtype))
    throw new SafetensorsError(
      `rnnkit safetensors ${layout.source}: tensor ${q(e.name)} has dtype ${e.dtype}, which rnnkit does not load ` +
        `(floating point only: ${FLOATS.join(', ')})`,
    );
  const to = dtype ?? (e.dtype === 'F64' ? 'float64' : 'float32');
  const count = (e.end - e.begin) / BYTES[e.dtype];
  const out = to === 'float64' ? new Float64Array(count) : new Float32Array(count);
  const bytes = layout.buf.subarray(e.begin, e.end);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.dtype === 'F16') {
    const t = f16Values();
    for (let i = 0; i < count; i++) out[i] = t[view.getUint16(2 * i, true)];
  } else if (e.dtype === 'BF16') {
    for (let i = 0; i < count; i++) {
      u32[0] = view.getUint16(2 * i, true) << 16;
      out[i] = f32[0];
    }
  } else if (LITTLE_ENDIAN && (e.dtype === 'F32') === out instanceof Float32Array) {
    new Uint8Array(out.buffer).set(bytes);
  } else if (e.dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

/** Tensors and metadata of a safetensors file's bytes (every offset and size checked first). */
export function decodeSafetensors(buf: Uint8Array, source = '<buffer>'): Safetensors {
  const layout = parseSafetensors(buf, source);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of layout.entries)
    setOwn(tensors, e.name, { dtype: e.dtype as SafetensorsDType, shape: e.shape, data: entryValues(layout, e) });
  return { tensors, metadata: layout.metadata };
}

// ---------------------------------------------------------------- models

/** What saveSafetensors and loadSafetensors need of a model: every rnnkit model has it. */
export interface WeightsModel {
  readonly type: string;
  readonly config: { dtype: 'float32' | 'float64' };
  parameters(): Array<{ name: string; shape: number[]; data: ArrayLike<number> }>;
  loadStateDict(sd: Record<string, ArrayLike<number>>, strict?: boolean): void;
}

/** Options of loadSafetensors. */
export interface LoadSafetensorsOptions {
  /**
   * true (default): the file must hold exactly the model's tensors; false: tensors the model does
   * not have are ignored and parameters the file lacks keep their values (torch's
   * `load_state_dict(strict=False)`). Shapes must match either way.
   */
  strict?: boolean;
}

function checkModel(what: string, model: unknown): asserts model is WeightsModel {
  const m = model as Partial<WeightsModel> | null;
  if (
    m === null ||
    typeof m !== 'object' ||
    typeof m.parameters !== 'function' ||
    typeof m.loadStateDict !== 'function' ||
    !m.config ||
    (m.config.dtype !== 'float32' && m.config.dtype !== 'float64')
  )
    throw new TypeError(
      `${what}: expected an rnnkit model (parameters(), loadStateDict() and a float32 or float64 config), received ${kind(model)}`,
    );
}
function checkPath(what: string, file: unknown): asserts file is string {
  if (typeof file !== 'string' || file.length === 0)
    throw new TypeError(`${what}: path must be a non-empty string, received ${show(file)}`);
}

/** The file's bytes: the model's parameters in its dtype, under PyTorch's names. */
function modelFile(model: WeightsModel): Buffer {
  const tensors: Record<string, SafetensorsInput> = {};
  for (const p of model.parameters()) {
    const data = p.data as Float32Array | Float64Array;
    setOwn(tensors, p.name, { shape: p.shape, data });
  }
  return encodeSafetensors(tensors, {
    format: 'pt',
    'rnnkit.type': model.type,
    'rnnkit.config': JSON.stringify(model.config),
  });
}

/**
 * Writes the model's weights as a safetensors file (atomic: a temporary file renamed over
 * `path`): PyTorch's parameter names and layouts, the model's dtype (F32 or F64), and
 * `__metadata__` `{ format: 'pt', 'rnnkit.type', 'rnnkit.config' (the options as JSON) }`.
 */
export async function saveSafetensors(model: WeightsModel, path: string): Promise<void> {
  checkModel('saveSafetensors', model);
  checkPath('saveSafetensors', path);
  await writeFileAtomic(path, modelFile(model));
}
/** The synchronous saveSafetensors. */
export function saveSafetensorsSync(model: WeightsModel, path: string): void {
  checkModel('saveSafetensorsSync', model);
  checkPath('saveSafetensorsSync', path);
  writeFileAtomicSync(path, modelFile(model));
}

/** Checks a parsed file against the model's parameters and loads it (one error lists every mismatch). */
function loadInto(model: WeightsModel, layout: SafetensorsLayout, strict: boolean): void {
  const params = model.parameters();
  const byName = new Map(layout.entries.map((e) => [e.name, e]));
  const known = new Set(params.map((p) => p.name));
  const missing: string[] = [],
    misshaped: string[] = [],
    refused: string[] = [];
  for (const p of params) {
    const e = byName.get(p.name);
    if (!e) missing.push(`${p.name} ${dims(p.shape)}`);
    else if (e.shape.length !== p.shape.length || e.shape.some((d, i) => d !== p.shape[i]))
      misshaped.push(`${p.name}: expected ${dims(p.shape)}, found ${dims(e.shape)}`);
    else if (!FLOATS.includes(e.dtype)) refused.push(`${p.name} (${e.dtype})`);
  }
  const extra = layout.entries.filter((e) => !known.has(e.name)).map((e) => `${e.name} ${dims(e.shape)}`);
  const problems: string[] = [];
  const list = (what: string, names: string[]) => {
    if (names.length) problems.push(`${what} (${names.length}): ${names.join('; ')}`);
  };
  if (strict) list('missing', missing);
  if (strict) list('unexpected', extra);
  list('wrong shape', misshaped);
  list(`unsupported dtype (rnnkit loads ${FLOATS.join(', ')})`, refused);
  if (problems.length)
    throw new SafetensorsError(
      `rnnkit safetensors ${layout.source}: the tensors do not match this ${model.type}'s parameters: ${problems.join('. ')}`,
    );
  const sd: Record<string, Float32Array | Float64Array> = {};
  for (const p of params) {
    const e = byName.get(p.name);
    if (!e) continue;
    const v = entryValues(layout, e, model.config.dtype);
    for (let i = 0; i < v.length; i++)
      if (!Number.isFinite(v[i]))
        throw new SafetensorsError(
          `rnnkit safetensors ${layout.source}: tensor ${q(p.name)} must be finite, found ${v[i]} at element ${i}`,
        );
    sd[p.name] = v;
  }
  model.loadStateDict(sd, strict);
}

/**
 * Loads a safetensors file's weights into the model: names and shapes must be the model's
 * (PyTorch's `state_dict()` of the matching module, e.g. `embedding` / `rnn` / `head`); F16,
 * BF16, F32 and F64 convert to the model's dtype. Missing, unexpected and mis-shaped tensors are
 * listed in one SafetensorsError; `{ strict: false }` ignores the missing and unexpected ones.
 */
export async function loadSafetensors(
  model: WeightsModel,
  path: string,
  options: LoadSafetensorsOptions = {},
): Promise<void> {
  checkModel('loadSafetensors', model);
  checkPath('loadSafetensors', path);
  const strict = strictOption('loadSafetensors', options);
  loadInto(model, parseSafetensors(await fs.promises.readFile(path), path), strict);
}
/** The synchronous loadSafetensors. */
export function loadSafetensorsSync(model: WeightsModel, path: string, options: LoadSafetensorsOptions = {}): void {
  checkModel('loadSafetensorsSync', model);
  checkPath('loadSafetensorsSync', path);
  const strict = strictOption('loadSafetensorsSync', options);
  loadInto(model, parseSafetensors(fs.readFileSync(path), path), strict);
}

function strictOption(what: string, options: LoadSafetensorsOptions): boolean {
  if (!isObject(options)) throw new TypeError(`${what}: options must be an object, received ${kind(options)}`);
  for (const k of Object.keys(options))
    if (k !== 'strict') throw new TypeError(`${what}: unknown option ${q(k)}; expected strict`);
  const s = options.strict ?? true;
  if (typeof s !== 'boolean') throw new TypeError(`${what}: strict must be a boolean, received ${show(s)}`);
  return s;
}
