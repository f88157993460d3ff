// One size guard. Every allocation a model or a batch implies is computed before it is made and
// refused above the memory limit with a RangeError that names the option and the bytes, instead
// of V8's "Invalid typed array length" / "Array buffer allocation failed" (or the machine
// swapping) somewhere deep inside.
//
// The limit: RNNKIT_MEMORY_LIMIT (bytes; suffixes K, M, G accepted) or setMemoryLimit(bytes),
// else 75% of the machine's physical memory. It bounds one model's parameters with their
// gradients, one call's scratch (activations of a batch), one tensor, and what a file may declare.
import * as os from 'os';
import type { TensorDType } from './device/tensor';
import { loadNative } from './native';

let limit: number | null = null;

function parseLimit(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$/i.exec(s);
  if (!m) throw new RangeError(`RNNKIT_MEMORY_LIMIT must be a byte count such as 8G or 1073741824, received '${s}'`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mul = unit === 'k' ? 2 ** 10 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : 1;
  return Math.floor(Number(m[1]) * mul);
}

/** The byte limit of the size guard. */
export function memoryLimit(): number {
  if (limit === null) {
    const env = process.env.RNNKIT_MEMORY_LIMIT;
    limit = env ? parseLimit(env) : Math.floor(os.totalmem() * 0.75);
  }
  return limit;
}

/** Sets the size guard's limit in bytes (null: back to the default). */
export function setMemoryLimit(bytes: number | null): void {
  if (bytes !== null && !(Number.isSafeInteger(bytes) && bytes > 0))
    throw new RangeError(`setMemoryLimit: bytes must be a positive integer or null, received ${String(bytes)}`);
  limit = bytes;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024,
    i = 0;
  while (v >= 1024 && i < units.length - 1) ((v /= 1024), i++);
  return `${v.toFixed(1)} ${units[i]} (${n.toLocaleString('en-US')} bytes)`;
}

export const bytesPerElement = (dtype: TensorDType | 'int32'): number =>
  dtype === 'float64' ? 8 : dtype === 'uint8' ? 1 : 4;

/**
 * Refuses `bytes` over the limit: "<what> needs <bytes>, over the memory limit of <limit>; <hint>".
 * `what` names the option (e.g. "SequenceClassifier hiddenSize 100000 (…)").
 */
export function guardBytes(what: string, bytes: number, hint = ''): void {
  const max = memoryLimit();
  if (!(bytes <= max))
    throw new RangeError(
      `${what} needs ${Number.isFinite(bytes) ? formatBytes(bytes) : 'more bytes than can be counted'}, over the memory limit of ${formatBytes(max)}` +
        `${hint ? `; ${hint}` : ''} (the limit: setMemoryLimit() or RNNKIT_MEMORY_LIMIT)`,
    );
}

/** The options among `options` whose value is one of `dims` (for naming what made a tensor large). */
export function optionsOfDims(options: Record<string, unknown> | undefined, dims: readonly number[]): string {
  if (!options) return '';
  const hits: string[] = [];
  for (const [k, v] of Object.entries(options))
    if (typeof v === 'number' && v > 1 && dims.includes(v)) hits.push(`${k} ${v}`);
  return hits.join(', ');
}

/**
 * Process-wide memory: what native code holds between calls, the bytes of live CPU tensors in
 * native blocks (freed when the garbage collector drops them), and the
 * guard's limit.
 */
export function memoryInfo(): {
  nativeScratchBytes: number;
  nativeScratchKeepBytes: number;
  tensorBytes: number;
  limitBytes: number;
} {
  const n = loadNative().memoryInfo();
  return {
    nativeScratchBytes: n.scratchBytes,
    nativeScratchKeepBytes: n.scratchKeepBytes,
    tensorBytes: n.hostBlockBytes,
    limitBytes: memoryLimit(),
  };
}
