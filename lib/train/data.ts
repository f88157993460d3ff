// User data → validated samples → padded, time-major batches.
import type { DType } from '../backend';
import type { HostArray } from '../native';
import type { Device } from '../device/device';
import type { Act, Lengths } from '../layers/layer';
import type { Rng } from '../rng';
import { IGNORE, Targets, Task } from './losses';

/** A batch of sequences given as typed data with a shape (batch-first [N,T,F] by default). */
export interface ShapedSequences {
  data: Float32Array | Float64Array | Int32Array | number[];
  /** [N,T,F] for features, [N,T] for token ids ([T,N,…] with batchFirst false). */
  shape: number[];
  /** Valid steps of each sequence (default: all T). */
  lengths?: Int32Array | number[];
  /** Whether data is [N,T,…] (default true) or [T,N,…]. */
  batchFirst?: boolean;
}

/** Inputs: per-sequence arrays (steps of feature vectors, or token ids) or shaped typed data. */
/** One step's features as an array or a typed array. */
export type FloatRow = number[] | Float32Array | Float64Array;
/**
 * Sequences: steps of feature rows (arrays or typed arrays), token-id arrays, typed arrays per
 * sequence (token ids, or steps × features flattened step-major), or one shaped block.
 */
export type SequenceInput =
  | number[][][]
  | number[][]
  | FloatRow[][]
  | Array<Float32Array | Float64Array | Int32Array>
  | ShapedSequences;
/** Targets: one class id or one vector per sequence, or one per step (tagging). */
export type TargetInput = number[] | Int32Array | number[][] | number[][][];

export interface DataSpec {
  /** 'ids' when the model starts with an embedding, else the feature size. */
  input: { kind: 'ids'; vocab: number } | { kind: 'features'; F: number };
  task: Task;
  /** 'sequence': one target per sequence; 'step': one per step. */
  level: 'sequence' | 'step';
  /** Classes C (classification) or output size O. */
  outSize: number;
}

interface Sample {
  x: Float32Array | Float64Array | Int32Array;
  len: number;
  y: Int32Array | Float64Array | null;
}

export class Samples {
  constructor(
    readonly spec: DataSpec,
    readonly items: Sample[],
  ) {}
  get size(): number {
    return this.items.length;
  }
  subset(idx: number[]): Samples {
    return new Samples(
      this.spec,
      idx.map((i) => this.items[i]),
    );
  }

  private pool = new Map<string, HostArray | Int32Array>();
  /**
   * Batch memory reused from one batch to the next (zero-filled): a training step consumes its
   * batch before the next one is made, so steps allocate nothing.
   */
  buffer<A extends HostArray | Int32Array>(key: string, make: (n: number) => A, n: number): A {
    let b = this.pool.get(key) as A | undefined;
    if (!b || b.length !== n) {
      b = make(n);
      this.pool.set(key, b);
    } else b.fill(0);
    return b;
  }
}

/** The largest finite float32: values beyond it would become Infinity in a float32 model. */
const F32_MAX = 3.4028234663852886e38;

const SHAPED_KEYS = ['data', 'shape', 'lengths', 'batchFirst'];
const kindOf = (v: unknown): string => (v === null ? 'null' : typeof v);

function fail(where: string, msg: string): never {
  throw new RangeError(`${where}: ${msg}`);
}
function isNumArray(a: unknown): a is number[] {
  return isTyped(a) || (Array.isArray(a) && (a.length === 0 || typeof a[0] === 'number'));
}
/** A typed array of numbers (Float32Array, Float64Array, Int32Array, …; not a DataView or BigInt array). */
function isTyped(a: unknown): a is ArrayLike<number> {
  return (
    ArrayBuffer.isView(a) && !(a instanceof DataView) && !(a instanceof BigInt64Array || a instanceof BigUint64Array)
  );
}

/**
 * Validation runs as a generator that yields after every sequence: toSamples drives it to the end
 * at once, toSamplesAsync gives the event loop a turn whenever a slice of SLICE_MS has passed, so
 * fit's validation of a large dataset never blocks the main thread for long (the first slice
 * runs before fit returns its promise; a small dataset fits in it and is read at once).
 */
type Work<T> = Generator<void, T, void>;
const SLICE_MS = 4;

function runAll<T>(g: Work<T>): T {
  let r = g.next();
  while (!r.done) r = g.next();
  return r.value;
}

async function runSliced<T>(g: Work<T>): Promise<T> {
  let start = performance.now();
  let r = g.next();
  while (!r.done) {
    if (performance.now() - start >= SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      start = performance.now();
    }
    r = g.next();
  }
  return r.value;
}

/** Validates inputs (and targets, when given) and converts them to samples. */
export function toSamples(
  where: string,
  spec: DataSpec,
  inputs: SequenceInput,
  targets?: TargetInput | null,
  dtype: DType = 'float64',
): Samples {
  return runAll(readSamples(where, spec, inputs, targets, dtype));
}

/**
 * toSamples in slices, with event-loop turns between them (fit). The inputs and targets are read
 * while the promise is pending: keep them unchanged until it settles.
 */
export function toSamplesAsync(
  where: string,
  spec: DataSpec,
  inputs: SequenceInput,
  targets?: TargetInput | null,
  dtype: DType = 'float64',
): Promise<Samples> {
  return runSliced(readSamples(where, spec, inputs, targets, dtype));
}

function* readSamples(
  where: string,
  spec: DataSpec,
  inputs: SequenceInput,
  targets: TargetInput | null | undefined,
  dtype: DType,
): Work<Samples> {
  const xs = yield* readInputs(where, spec, inputs, dtype);
  if (xs.length === 0) fail(where, 'inputs must hold at least one sequence, received 0');
  const items: Sample[] = xs.map((x) => ({ ...x, y: null }));
  if (targets !== undefined && targets !== null) {
    const n = (targets as ArrayLike<unknown>).length;
    if (typeof n !== 'number') throw new TypeError(`${where}: targets must be an array, received ${typeof targets}`);
    if (n !== items.length) fail(where, `targets must have one entry per sequence (${items.length}), received ${n}`);
    for (let i = 0; i < n; i++) {
      items[i].y = readTarget(where, spec, (targets as ArrayLike<unknown>)[i], i, items[i].len);
      yield;
    }
    if (dtype === 'float32' && spec.task !== 'classification') {
      for (let i = 0; i < n; i++) {
        const y = items[i].y!;
        for (let k = 0; k < y.length; k++) {
          const v = y[k];
          if (Math.abs(v) > F32_MAX)
            fail(where, `targets of sequence ${i} must be finite in float32 (|v| <= ${F32_MAX}), received ${v}`);
        }
        yield;
      }
    }
  }
  return new Samples(spec, items);
}

/** A length as the checks below will see it, for sizing the one buffer of all sequences. */
function clampLen(len: number, T: number): number {
  return Number.isInteger(len) && len >= 1 && len <= T ? len : 0;
}

// The steps of all sequences go into one buffer (each sample a view of it): one allocation
// instead of one per sequence, which the garbage collector would otherwise visit one by one.
function* readInputs(
  where: string,
  spec: DataSpec,
  inputs: SequenceInput,
  dtype: DType,
): Work<Array<{ x: Float32Array | Float64Array | Int32Array; len: number }>> {
  const Floats = dtype === 'float32' ? Float32Array : Float64Array;
  const ids = spec.input.kind === 'ids';
  const F = spec.input.kind === 'features' ? spec.input.F : 1;
  const vocab = spec.input.kind === 'ids' ? spec.input.vocab : 0;
  const checkId = (v: number, i: number, t: number) => {
    if (!Number.isInteger(v) || v < 0 || v >= vocab)
      fail(where, `token id of sequence ${i} at step ${t} must be an integer in [0, ${vocab - 1}], received ${v}`);
  };
  const limit = dtype === 'float32' ? F32_MAX : Infinity;
  // |v| <= bound holds exactly for the values checkValue accepts (NaN and ±Infinity fail it)
  const bound = dtype === 'float32' ? F32_MAX : Number.MAX_VALUE;
  const checkValue = (v: unknown, i: number, t: number) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail(where, `input of sequence ${i} at step ${t} must be finite numbers, received ${String(v)}`);
    if (Math.abs(v) > limit)
      fail(where, `input of sequence ${i} at step ${t} must be finite in float32 (|v| <= ${F32_MAX}), received ${v}`);
  };
  if (!Array.isArray(inputs)) {
    if (!inputs || typeof inputs !== 'object' || !('shape' in inputs))
      throw new TypeError(
        `${where}: inputs must be an array of sequences or { data, shape }, received ${typeof inputs}`,
      );
    for (const k of Object.keys(inputs))
      if (!SHAPED_KEYS.includes(k))
        fail(where, `inputs has unknown field '${k}'; known fields: ${SHAPED_KEYS.join(', ')}`);
    const { data, shape, lengths } = inputs;
    const bf = inputs.batchFirst !== false;
    const want = ids ? 2 : 3;
    if (!Array.isArray(shape) || shape.length !== want || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(where, `inputs.shape must be ${ids ? '[N,T]' : '[N,T,F]'}, received ${JSON.stringify(shape)}`);
    }
    const [N, T] = bf ? [shape[0], shape[1]] : [shape[1], shape[0]];
    const f = ids ? 1 : shape[2];
    if (!ids && f !== F) fail(where, `inputs must have ${F} features per step, received ${f}`);
    if (!data || data.length !== N * T * f)
      fail(
        where,
        `inputs.data must have ${N * T * f} elements (shape ${JSON.stringify(shape)}), received ${data ? data.length : 0}`,
      );
    if (lengths && lengths.length !== N)
      fail(where, `inputs.lengths must have ${N} entries, received ${lengths.length}`);
    const out = [];
    let total = 0;
    for (let i = 0; i < N; i++) total += lengths ? clampLen(lengths[i], T) : T;
    const all = ids ? new Int32Array(total * f) : new Floats(total * f);
    let at = 0;
    for (let i = 0; i < N; i++) {
      const len = lengths ? lengths[i] : T;
      if (!Number.isInteger(len) || len < 1 || len > T)
        fail(where, `length of sequence ${i} must be an integer in [1, ${T}], received ${len}`);
      const x = all.subarray(at, (at += len * f));
      if (bf && !Array.isArray(data)) {
        x.set((data as Float32Array).subarray(i * T * f, (i * T + len) * f)); // contiguous: one copy
      } else {
        for (let t = 0; t < len; t++)
          for (let j = 0; j < f; j++) x[t * f + j] = data[bf ? (i * T + t) * f + j : (t * N + i) * f + j];
      }
      for (let k = 0; k < x.length; k++) {
        const v = x[k];
        if (ids ? !(Number.isInteger(v) && v >= 0 && v < vocab) : !Number.isFinite(v)) {
          const t = Math.floor(k / f);
          if (ids) checkId(data[bf ? i * T + t : t * N + i], i, t);
          else checkValue(data[bf ? (i * T + t) * f + (k % f) : (t * N + i) * f + (k % f)], i, t);
        }
      }
      out.push({ x, len });
      yield;
    }
    return out;
  }
  const seqs = inputs as unknown[];
  const out: Array<{ x: Float32Array | Float64Array | Int32Array; len: number }> = [];
  let total = 0;
  // a typed array is a sequence of token ids, or of steps × features flattened (step-major)
  const steps = (seq: ArrayLike<unknown>, i: number) => {
    if (ids || !isTyped(seq)) return seq.length;
    if (seq.length % F !== 0)
      fail(
        where,
        `sequence ${i} is a ${seq.constructor.name} of ${seq.length} numbers, not a whole number of steps of ${F} features`,
      );
    return seq.length / F;
  };
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i]; // a hole reads as undefined: refused here, before a sparse array's length is walked
    if (!Array.isArray(seq) && !isTyped(seq))
      throw new TypeError(`${where}: sequence ${i} must be an array of steps, received ${kindOf(seq)}`);
    total += steps(seq, i);
  }
  const all = ids ? new Int32Array(total) : new Floats(total * F);
  let at = 0;
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i] as unknown[] | ArrayLike<number>;
    const L = steps(seq, i);
    if (L === 0) fail(where, `sequence ${i} is empty; sequences need at least one step`);
    if (ids) {
      if (!isNumArray(seq))
        throw new TypeError(`${where}: sequence ${i} must be an array of token ids, received nested arrays`);
      const x = (all as Int32Array).subarray(at, (at += L));
      for (let t = 0; t < L; t++) {
        const v = seq[t];
        if (!(Number.isInteger(v) && v >= 0 && v < vocab)) checkId(v, i, t);
        x[t] = v;
      }
      out.push({ x, len: L });
      yield;
      continue;
    }
    const x = (all as Float32Array | Float64Array).subarray(at, (at += L * F));
    if (isTyped(seq)) {
      for (let k = 0; k < L * F; k++) {
        const v = seq[k];
        if (!(Math.abs(v) <= bound)) checkValue(v, i, Math.floor(k / F));
        x[k] = v;
      }
      out.push({ x, len: L });
      yield;
      continue;
    }
    for (let t = 0; t < L; t++) {
      const step: unknown = seq[t];
      if (typeof step === 'number' && F === 1) {
        checkValue(step, i, t);
        x[t] = step;
        continue;
      }
      const isRow = Array.isArray(step) || isTyped(step);
      if (!isRow || (step as ArrayLike<unknown>).length !== F)
        fail(
          where,
          `step ${t} of sequence ${i} must have ${F} features, received ${isRow ? (step as ArrayLike<unknown>).length : kindOf(step)}`,
        );
      const row = step as ArrayLike<unknown>;
      const o = t * F;
      for (let j = 0; j < F; j++) {
        const v: unknown = row[j];
        if (typeof v !== 'number' || !(Math.abs(v) <= bound)) checkValue(v, i, t);
        x[o + j] = v as number;
      }
    }
    out.push({ x, len: L });
    yield;
  }
  return out;
}

function readTarget(where: string, spec: DataSpec, y: unknown, i: number, len: number): Int32Array | Float64Array {
  const C = spec.outSize;
  // `t` is the step (-1: the sequence's one target); messages are built only on failure
  const at = (t: number) => (t < 0 ? `of sequence ${i}` : `of sequence ${i} at step ${t}`);
  const cls = (v: unknown, t: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= C)
      fail(where, `target ${at(t)} must be a class id in [0, ${C - 1}], received ${String(v)}`);
    return v;
  };
  // writes the C values of target v at out[o..o+C)
  const vec = (v: unknown, t: number, out: Float64Array, o: number): void => {
    if (typeof v === 'number' && C === 1) v = [v];
    if (!Array.isArray(v) || v.length !== C)
      fail(where, `target ${at(t)} must have ${C} values, received ${Array.isArray(v) ? v.length : typeof v}`);
    const a = v as unknown[];
    for (let j = 0; j < C; j++) {
      const e = a[j];
      if (typeof e !== 'number' || !Number.isFinite(e))
        fail(where, `target ${at(t)} must be finite numbers, received ${String(e)}`);
      // BCE targets are probabilities (0/1 labels, or soft ones in between)
      if (spec.task === 'multilabel' && !(e >= 0 && e <= 1))
        fail(where, `target ${at(t)} must be values in [0, 1] (multilabel), received ${e}`);
    }
    for (let j = 0; j < C; j++) out[o + j] = a[j] as number;
  };
  if (spec.level === 'sequence') {
    if (spec.task === 'classification') return Int32Array.of(cls(y, -1));
    const out = new Float64Array(C);
    vec(y, -1, out, 0);
    return out;
  }
  if (!Array.isArray(y) && !(y instanceof Int32Array))
    throw new TypeError(
      `${where}: targets of sequence ${i} must be an array with one entry per step, received ${typeof y}`,
    );
  const arr = y as ArrayLike<unknown>;
  if (arr.length !== len)
    fail(where, `targets of sequence ${i} must have one entry per step (${len}), received ${arr.length}`);
  if (spec.task === 'classification') {
    const out = new Int32Array(len);
    for (let t = 0; t < len; t++) out[t] = cls(arr[t], t);
    return out;
  }
  const out = new Float64Array(len * C);
  for (let t = 0; t < len; t++) vec(arr[t], t, out, t * C);
  return out;
}

/** Index batches for one epoch: shuffled (seeded) and optionally bucketed by length. */
export function batchOrder(s: Samples, batchSize: number, shuffle: boolean, bucket: boolean, rng: Rng): number[][] {
  const idx = s.items.map((_, i) => i);
  if (shuffle) rng.shuffle(idx);
  if (bucket) idx.sort((a, b) => s.items[a].len - s.items[b].len); // stable: shuffled order within a length
  const batches: number[][] = [];
  for (let i = 0; i < idx.length; i += batchSize) batches.push(idx.slice(i, i + batchSize));
  if (bucket && shuffle) rng.shuffle(batches);
  return batches;
}

/** A batch as the API edge builds it: padded, time-major host arrays. */
export type HostX =
  | { kind: 'ids'; data: Int32Array; T: number; B: number; lengths: Int32Array | null }
  | { kind: 'seq'; data: HostArray; T: number; B: number; F: number; lengths: Int32Array | null };
export type HostTargets = { kind: 'classes'; data: Int32Array } | { kind: 'values'; data: HostArray };
export interface HostBatch {
  x: HostX;
  y: HostTargets | null;
  B: number;
  T: number;
}
/** The same batch on a device: what a training step or a prediction runs on. */
export interface Batch {
  x: Act;
  y: Targets | null;
  B: number;
  T: number;
}

/** Lengths on the host and on the device. */
export function lengthsOn(device: Device, l: Int32Array | null): Lengths | null {
  return l ? { host: l, dev: device.fromHost(l, [l.length]) } : null;
}

/** Host inputs on the device (the batch in: one transfer per array). */
export function xOnDevice(device: Device, x: HostX): Act {
  if (x.kind === 'ids')
    return {
      kind: 'ids',
      data: device.fromHost(x.data, [x.T, x.B]),
      T: x.T,
      B: x.B,
      lengths: lengthsOn(device, x.lengths),
    };
  return {
    kind: 'seq',
    data: device.fromHost(x.data, [x.T, x.B, x.F]),
    T: x.T,
    B: x.B,
    F: x.F,
    lengths: lengthsOn(device, x.lengths),
  };
}

export function targetsOnDevice(device: Device, y: HostTargets): Targets {
  return y.kind === 'classes'
    ? { kind: 'classes', data: device.fromHost(y.data) }
    : { kind: 'values', data: device.fromHost(y.data) };
}

/** A host batch on the device. */
export function toDevice(device: Device, b: HostBatch): Batch {
  return { x: xOnDevice(device, b.x), y: b.y ? targetsOnDevice(device, b.y) : null, B: b.B, T: b.T };
}

/** Pads samples into one time-major batch (targets of padding steps are ignored). */
export function makeBatch(s: Samples, idx: number[], dtype: DType): HostBatch {
  const B = idx.length,
    items = idx.map((i) => s.items[i]);
  const T = Math.max(...items.map((it) => it.len));
  const lengths = Int32Array.from(items.map((it) => it.len));
  const spec = s.spec;
  let x: HostX;
  const floats = (n: number): HostArray => (dtype === 'float64' ? new Float64Array(n) : new Float32Array(n));
  if (spec.input.kind === 'ids') {
    const d = s.buffer('ids', (n) => new Int32Array(n), T * B);
    items.forEach((it, b) => {
      for (let t = 0; t < it.len; t++) d[t * B + b] = (it.x as Int32Array)[t];
    });
    x = { kind: 'ids', data: d, T, B, lengths };
  } else {
    const F = spec.input.F;
    const d = s.buffer('x', floats, T * B * F);
    items.forEach((it, b) => {
      for (let t = 0; t < it.len; t++) d.set((it.x as Float32Array).subarray(t * F, (t + 1) * F), (t * B + b) * F);
    });
    x = { kind: 'seq', data: d, T, B, F, lengths };
  }
  let y: HostTargets | null = null;
  if (items.every((it) => it.y)) {
    const O = spec.outSize;
    if (spec.level === 'sequence') {
      y =
        spec.task === 'classification'
          ? { kind: 'classes', data: Int32Array.from(items.map((it) => it.y![0])) }
          : { kind: 'values', data: fill(dtype, B * O, (a) => items.forEach((it, b) => a.set(it.y!, b * O))) };
    } else if (spec.task === 'classification') {
      const d = s.buffer('yc', (n) => new Int32Array(n), T * B).fill(IGNORE);
      items.forEach((it, b) => {
        for (let t = 0; t < it.len; t++) d[t * B + b] = it.y![t];
      });
      y = { kind: 'classes', data: d };
    } else {
      y = {
        kind: 'values',
        data: fill(dtype, T * B * O, (a) =>
          items.forEach((it, b) => {
            for (let t = 0; t < it.len; t++) for (let j = 0; j < O; j++) a[(t * B + b) * O + j] = it.y![t * O + j];
          }),
        ),
      };
    }
  }
  return { x, y, B, T };
}

function fill(dtype: DType, n: number, f: (a: HostArray) => void): HostArray {
  const a = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  f(a);
  return a;
}
