// Single-file checkpoints (architecture, weights, optimizer state, RNG state, training progress)
// in the spirit of safetensors: loading runs no code (the header is plain JSON, the rest raw
// numbers) and every offset and size is checked before it is used, so a truncated, corrupt or
// hostile file gives a CheckpointError, never a crash, a huge allocation or a silently wrong model.
//
// Layout of format version 2, the one written (integers little-endian):
//   bytes 0..7       magic "RNNKIT02" (ASCII)
//   bytes 8..15      header length L, uint64, L <= 64 MiB
//   bytes 16..19     CRC-32 (IEEE) of bytes 0..15 followed by the L header bytes
//   bytes 20..23     zero
//   bytes 24..24+L   UTF-8 JSON header, byte for byte as JSON.stringify writes it:
//                      { "format": 2, "dataLength": D, "crc32": C,
//                        "tensors": { "<name>": { "dtype": "float32"|"float64"|"int32"|"uint8",
//                                                "shape": [..], "offset": O, "length": B }, ... },
//                        "meta": <any JSON value> }
//   zero bytes up to the next multiple of 8
//   data section     D bytes; each tensor's raw little-endian elements at offset O (relative to
//                    the section, a multiple of 8), B = product(shape) * element size bytes long;
//                    tensors do not overlap; C is the CRC-32 (IEEE) of all D bytes; the file
//                    ends exactly where the section does.
// The header checksum exists because the header is what decides which model a file builds: with
// the data CRC alone a flipped digit of a hidden size or a learning rate loaded as another model.
// A CRC-32 detects every single-bit (and every burst up to 32 bits) error, and the padding and
// reserved bytes must be zero, so no single flip anywhere before the data section goes unnoticed.
//
// Format version 1 ("RNNKIT01": the same without bytes 16..23, header JSON from byte 16,
// "format": 1) is still read, so files saved by earlier releases keep loading; its header has no
// checksum (only the data section is covered). Saving such a model again writes version 2.
// "dataLength" is redundant with the tensor table but lets a reader tell a truncated file
// from a tensor whose offset is out of range, and say how much data is missing.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { TextDecoder } from 'util';

export type TensorData = Float32Array | Float64Array | Int32Array | Uint8Array;
export interface CheckpointTensor {
  data: TensorData;
  shape: number[];
}
export interface Checkpoint {
  meta: unknown;
  tensors: Record<string, CheckpointTensor>;
}

/** Thrown for every malformed, corrupt or truncated checkpoint file. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

type DTypeName = 'float32' | 'float64' | 'int32' | 'uint8';
type TensorCtor = { new (length: number): TensorData; readonly BYTES_PER_ELEMENT: number };
const CTORS: Record<DTypeName, TensorCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
};
const DTYPES = Object.keys(CTORS) as DTypeName[];
const MAGIC = Buffer.from('RNNKIT02', 'ascii');
const MAGIC_V1 = Buffer.from('RNNKIT01', 'ascii');
/** Where the header JSON starts, by format version. */
const HEADER_START = { 1: 16, 2: 24 } as const;
const MAX_HEADER = 64 * 1024 * 1024;
const HEADER_KEYS = ['format', 'dataLength', 'crc32', 'tensors', 'meta'];
const TENSOR_KEYS = ['dtype', 'shape', 'offset', 'length'];
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const ZEROS = new Uint8Array(8);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib); pass the previous result as `crc` to continue a running sum. */
function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isDType = (v: unknown): v is DTypeName => typeof v === 'string' && Object.hasOwn(CTORS, v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const clip = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
const q = (name: string): string => `'${clip(name)}'`;

/** A value for an error message: short, and never throws (hostile values may nest deeply). */
function show(v: unknown): string {
  if (v === undefined) return 'missing';
  try {
    return clip(JSON.stringify(v));
  } catch {
    return kind(v);
  }
}

/** Number of elements, or undefined unless `shape` is an array of safe non-negative integers with a safe product. */
function elementCount(shape: unknown): number | undefined {
  if (!Array.isArray(shape)) return undefined;
  let n = 1;
  for (let i = 0; i < shape.length; i++) if (!isCount(shape[i])) return undefined;
  if (shape.includes(0)) return 0;
  for (const d of shape as number[]) if ((n *= d) > Number.MAX_SAFE_INTEGER) return undefined;
  return n;
}

/** Plain assignment of '__proto__' would replace the prototype instead of adding a tensor. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The file stores little-endian bytes; on a big-endian host swap each element in place. */
function toFileOrder(bytes: Uint8Array, bpe: number): Uint8Array {
  if (!LITTLE_ENDIAN && bpe > 1) for (let i = 0; i < bytes.length; i += bpe) bytes.subarray(i, i + bpe).reverse();
  return bytes;
}

export function encodeCheckpoint(cp: Checkpoint): Buffer {
  const E = 'rnnkit encodeCheckpoint: ';
  if (!isObject(cp) || !isObject(cp.tensors))
    throw new TypeError(`${E}expected { meta, tensors: { name: { data, shape } } }, received ${kind(cp)}`);
  const tensors: Record<string, object> = {};
  const parts: { offset: number; bytes: Uint8Array }[] = [];
  let end = 0;
  for (const [name, t] of Object.entries(cp.tensors)) {
    if (name.length === 0) throw new TypeError(`${E}tensor names must be non-empty strings`);
    const data: unknown = isObject(t) ? t.data : undefined;
    const dtype = DTYPES.find((d) => data instanceof CTORS[d]); // a Buffer is a Uint8Array: stored as uint8
    if (!dtype)
      throw new TypeError(
        `${E}tensor ${q(name)}: data must be a Float32Array, Float64Array, Int32Array or Uint8Array, received ${kind(data)}`,
      );
    const td = data as TensorData;
    const count = elementCount(t.shape);
    if (count === undefined)
      throw new RangeError(
        `${E}tensor ${q(name)}: shape must be an array of non-negative integers, received ${show(t.shape)}`,
      );
    if (count !== td.length)
      throw new RangeError(
        `${E}tensor ${q(name)}: shape ${show(t.shape)} has ${count} elements but data has ${td.length}`,
      );
    const view = new Uint8Array(td.buffer, td.byteOffset, td.byteLength);
    const offset = align8(end);
    parts.push({ offset, bytes: LITTLE_ENDIAN ? view : toFileOrder(view.slice(), td.BYTES_PER_ELEMENT) });
    setOwn(tensors, name, { dtype, shape: [...t.shape], offset, length: view.length });
    end = offset + view.length;
  }
  // Round-trip meta through JSON so the header is in the canonical form the loader insists on.
  let metaText: string | undefined;
  try {
    metaText = JSON.stringify(cp.meta === undefined ? null : cp.meta);
  } catch (e) {
    throw new TypeError(`${E}meta must be JSON-serializable: ${(e as Error).message}`);
  }
  if (metaText === undefined) throw new TypeError(`${E}meta must be JSON-serializable, received ${typeof cp.meta}`);
  let crc = 0;
  let pos = 0;
  for (const p of parts) {
    crc = crc32(p.bytes, crc32(ZEROS.subarray(0, p.offset - pos), crc));
    pos = p.offset + p.bytes.length;
  }
  const header = Buffer.from(
    JSON.stringify({ format: 2, dataLength: end, crc32: crc, tensors, meta: JSON.parse(metaText) }),
    'utf8',
  );
  if (header.length > MAX_HEADER)
    throw new RangeError(`${E}header is ${header.length} bytes, over the ${MAX_HEADER}-byte limit (meta too large?)`);
  const start = HEADER_START[2];
  const dataStart = align8(start + header.length);
  const out = Buffer.alloc(dataStart + end);
  MAGIC.copy(out, 0);
  out.writeBigUInt64LE(BigInt(header.length), 8);
  out.writeUInt32LE(crc32(header, crc32(out.subarray(0, 16))), 16);
  header.copy(out, start);
  for (const p of parts) out.set(p.bytes, dataStart + p.offset);
  return out;
}

export function decodeCheckpoint(buf: Uint8Array, source = '<buffer>'): Checkpoint {
  function fail(msg: string): never {
    throw new CheckpointError(`rnnkit checkpoint ${source}: ${msg}`);
  }
  function checkKeys(obj: Record<string, unknown>, keys: string[], where: string): void {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) fail(`unexpected field ${q(k)} in ${where}`);
    for (const k of keys) if (!Object.hasOwn(obj, k)) fail(`${where} is missing field '${k}'`);
  }
  if (!(buf instanceof Uint8Array))
    throw new TypeError(`rnnkit decodeCheckpoint: expected a Buffer or Uint8Array, received ${kind(buf)}`);
  try {
    buf.subarray(0, 0);
  } catch {
    throw new TypeError('rnnkit decodeCheckpoint: the Uint8Array is detached (its buffer was transferred)');
  }
  const magic = buf.subarray(0, 8);
  const version = MAGIC.subarray(0, magic.length).equals(magic)
    ? 2
    : MAGIC_V1.subarray(0, magic.length).equals(magic)
      ? 1
      : 0;
  if (version === 0) fail(`bad magic: expected RNNKIT02 (or RNNKIT01), found ${hex(magic)}`);
  const start = version === 1 ? HEADER_START[1] : HEADER_START[2];
  if (buf.length < start)
    fail(
      `file is truncated: expected at least ${start} bytes (magic, header length${version === 2 ? ' and header checksum' : ''}), found ${buf.length}`,
    );
  const headerLength = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(8, true);
  if (headerLength > BigInt(MAX_HEADER)) fail(`header length ${headerLength} exceeds the ${MAX_HEADER}-byte limit`);
  const L = Number(headerLength);
  if (start + L > buf.length)
    fail(`file is truncated: header length says ${L} bytes of header, found ${buf.length - start}`);
  if (version === 2) {
    const stored = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(16, true);
    const actual = crc32(buf.subarray(start, start + L), crc32(buf.subarray(0, 16)));
    if (stored !== actual)
      fail(
        `header checksum mismatch: the header is corrupt (stored crc32 ${stored.toString(16)}, computed ${actual.toString(16)})`,
      );
    for (let i = 20; i < 24; i++) if (buf[i] !== 0) fail(`reserved byte ${i} must be 0, found ${buf[i]}`);
  }

  let text = '';
  let header: unknown;
  try {
    // fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a BOM stays in the text and fails the parse.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf.subarray(start, start + L));
  } catch {
    fail('header is not valid UTF-8');
  }
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON: ${clip((e as Error).message)}`);
  }
  if (!isObject(header)) fail(`header must be a JSON object, found ${kind(header)}`);
  if (header.format !== version)
    fail(
      `unsupported format version ${show(header.format)}: a file with magic ${version === 2 ? 'RNNKIT02' : 'RNNKIT01'} has version ${version}`,
    );
  // JSON.parse silently keeps the last of duplicate keys, so two readers could disagree about a
  // file; requiring the exact JSON.stringify form rules that out (and gives each checkpoint one
  // byte representation). stringify throws RangeError on very deep nesting, which parse accepts.
  let canonical: string | undefined;
  try {
    canonical = JSON.stringify(header);
  } catch {
    fail('header JSON is nested too deeply');
  }
  if (canonical !== text) fail('header is not canonical JSON (duplicate keys, whitespace or non-canonical numbers)');
  checkKeys(header, HEADER_KEYS, 'header');
  const { dataLength, crc32: expectedCrc, tensors: table } = header;
  if (!isCount(dataLength)) fail(`dataLength must be a non-negative integer, found ${show(dataLength)}`);
  if (!isCount(expectedCrc) || expectedCrc > 0xffffffff)
    fail(`crc32 must be an unsigned 32-bit integer, found ${show(expectedCrc)}`);
  const dataStart = align8(start + L);
  if (buf.length < dataStart + dataLength)
    fail(`file is truncated: header says ${dataLength} bytes of data, found ${Math.max(0, buf.length - dataStart)}`);
  if (buf.length > dataStart + dataLength)
    fail(`${buf.length - dataStart - dataLength} trailing bytes after the ${dataLength}-byte data section`);
  for (let i = start + L; i < dataStart; i++)
    if (buf[i] !== 0) fail(`padding byte ${i} after the header must be 0, found ${buf[i]}`);
  if (!isObject(table)) fail(`'tensors' must be an object, found ${kind(table)}`);

  const specs: { name: string; dtype: DTypeName; shape: number[]; offset: number; length: number }[] = [];
  for (const [name, e] of Object.entries(table)) {
    const where = `tensor ${q(name)}`;
    if (name.length === 0) fail('tensor names must be non-empty');
    if (!isObject(e)) fail(`${where} must be an object, found ${kind(e)}`);
    checkKeys(e, TENSOR_KEYS, where);
    const { dtype, shape, offset, length } = e;
    if (!isDType(dtype)) fail(`${where} has unknown dtype ${show(dtype)}: expected one of ${DTYPES.join(', ')}`);
    const count = elementCount(shape);
    if (count === undefined)
      fail(`${where} has shape ${show(shape)}: expected an array of non-negative integers with a safe product`);
    if (!isCount(offset) || !isCount(length))
      fail(`${where} has offset ${show(offset)} and length ${show(length)}: expected non-negative integers`);
    if (offset % 8 !== 0) fail(`${where} has misaligned offset ${offset}: expected a multiple of 8`);
    if (offset + length > dataLength)
      fail(
        `${where} has offset out of range: bytes ${offset}..${offset + length} but the data section has ${dataLength}`,
      );
    const bpe = CTORS[dtype].BYTES_PER_ELEMENT;
    if (length !== count * bpe)
      fail(
        `${where} has shape ${show(shape)} (${count} elements) but ${length} bytes of ${dtype} (${length / bpe} elements)`,
      );
    specs.push({ name, dtype, shape: shape as number[], offset, length });
  }
  // Non-overlap also bounds the total allocation below by the file size.
  const spans = specs.filter((s) => s.length > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < spans.length; i++) {
    const [a, b] = [spans[i - 1], spans[i]];
    if (b.offset < a.offset + a.length)
      fail(
        `tensors ${q(a.name)} (bytes ${a.offset}..${a.offset + a.length}) and ${q(b.name)} (bytes ${b.offset}..${b.offset + b.length}) overlap`,
      );
  }
  const actualCrc = crc32(buf.subarray(dataStart));
  if (actualCrc !== expectedCrc)
    fail(
      `checksum mismatch: data section is corrupt (header says crc32 ${expectedCrc.toString(16)}, computed ${actualCrc.toString(16)})`,
    );

  const tensors: Record<string, CheckpointTensor> = {};
  for (const s of specs) {
    const Ctor = CTORS[s.dtype];
    const data = new Ctor(s.length / Ctor.BYTES_PER_ELEMENT);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    bytes.set(buf.subarray(dataStart + s.offset, dataStart + s.offset + s.length));
    toFileOrder(bytes, Ctor.BYTES_PER_ELEMENT);
    setOwn(tensors, s.name, { data, shape: s.shape });
  }
  return { meta: header.meta, tensors };
}

const tempName = (file: string): string => `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;

/**
 * Removes the temporary files that saves of `file` killed mid-write left behind: those named
 * `<file>.tmp-<pid>-<hex>` whose process no longer runs. A live process's temp file (a
 * concurrent save) is never touched; errors are ignored, since this is housekeeping.
 */
function sweepStaleTemps(file: string): void {
  try {
    const dir = path.dirname(file),
      prefix = `${path.basename(file)}.tmp-`;
    for (const name of fs.readdirSync(dir)) {
      if (!name.startsWith(prefix)) continue;
      const m = /^(\d+)-[0-9a-f]{12}$/.exec(name.slice(prefix.length));
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || alive(pid)) continue;
      try {
        fs.unlinkSync(path.join(dir, name));
      } catch {
        /* another sweeper got it */
      }
    }
  } catch {
    /* unreadable directory: the save itself reports real problems */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Some platforms and file systems cannot open or fsync a directory; durability there is best effort. */
function ignoreUnsupportedDirSync(e: unknown): void {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (!['EINVAL', 'ENOTSUP', 'EISDIR', 'EPERM', 'EBADF', 'EACCES'].includes(code ?? '')) throw e;
}

// Atomic replace: readers see the old file or the new one, never a partial write. The fsync
// before rename keeps a crash from leaving a renamed but empty file; the directory fsync makes
// the rename itself durable. 'wx' never clobbers, so cleanup only ever removes our own temp file.
export async function saveCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  await writeFileAtomic(file, encodeCheckpoint(cp));
}

export function saveCheckpointSync(file: string, cp: Checkpoint): void {
  writeFileAtomicSync(file, encodeCheckpoint(cp));
}

/** @internal Writes bytes to a temporary file beside `file`, fsyncs it and renames it over `file`. */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  sweepStaleTemps(file);
  const tmp = tempName(file);
  let created = false;
  try {
    const fh = await fs.promises.open(tmp, 'wx');
    created = true;
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (e) {
    if (created) await fs.promises.unlink(tmp).catch(() => undefined);
    throw e;
  }
  try {
    const dh = await fs.promises.open(path.dirname(file), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch (e) {
    ignoreUnsupportedDirSync(e);
  }
}

/** @internal The synchronous writeFileAtomic. */
export function writeFileAtomicSync(file: string, bytes: Uint8Array): void {
  sweepStaleTemps(file);
  const tmp = tempName(file);
  let created = false;
  try {
    const fd = fs.openSync(tmp, 'wx');
    created = true;
    try {
      fs.writeFileSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    if (created)
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* already gone */
      }
    throw e;
  }
  try {
    const dfd = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch (e) {
    ignoreUnsupportedDirSync(e);
  }
}

/** A path (a number would be read as a file descriptor, a Buffer as a path in bytes). */
function checkPath(file: unknown): asserts file is string {
  if (typeof file !== 'string' || file.length === 0)
    throw new TypeError(`rnnkit load: path must be a non-empty string, received ${show(file)}`);
}

export async function loadCheckpoint(file: string): Promise<Checkpoint> {
  checkPath(file);
  return decodeCheckpoint(await fs.promises.readFile(file), file);
}

export function loadCheckpointSync(file: string): Checkpoint {
  checkPath(file);
  return decodeCheckpoint(fs.readFileSync(file), file);
}
