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
export type SequenceInput = number[][][] | number[][] | ShapedSequences;
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

function fail(where: string, msg: string): never {
  throw new RangeError(`${where}: ${msg}`);
}
function isNumArray(a: unknown): a is number[] {
  return Array.isArray(a) && (a.length === 0 || typeof a[0] === 'number');
}

/** Validates inputs (and targets, when given) and converts them to samples. */
export function toSamples(
  where: string,
  spec: DataSpec,
  inputs: SequenceInput,
  targets?: TargetInput | null,
  dtype: DType = 'float64',
): Samples {
  const xs = readInputs(where, spec, inputs, dtype);
  if (xs.length === 0) fail(where, 'inputs must hold at least one sequence, received 0');
  const items: Sample[] = xs.map((x) => ({ ...x, y: null }));
  if (targets !== undefined && targets !== null) {
    const n = (targets as ArrayLike<unknown>).length;
    if (typeof n !== 'number') throw new TypeError(`${where}: targets must be an array, received ${typeof targets}`);
    if (n !== items.length) fail(where, `targets must have one entry per sequence (${items.length}), received ${n}`);
    for (let i = 0; i < n; i++)
      items[i].y = readTarget(where, spec, (targets as ArrayLike<unknown>)[i], i, items[i].len);
    if (dtype === 'float32' && spec.task !== 'classification') {
      items.forEach((it, i) =>
        it.y!.forEach((v) => {
          if (Math.abs(v) > F32_MAX)
            fail(where, `targets of sequence ${i} must be finite in float32 (|v| <= ${F32_MAX}), received ${v}`);
        }),
      );
    }
  }
  return new Samples(spec, items);
}

function readInputs(
  where: string,
  spec: DataSpec,
  inputs: SequenceInput,
  dtype: DType,
): Array<{ x: Float32Array | Float64Array | Int32Array; len: number }> {
  const Floats = dtype === 'float32' ? Float32Array : Float64Array;
  const ids = spec.input.kind === 'ids';
  const F = spec.input.kind === 'features' ? spec.input.F : 1;
  const vocab = spec.input.kind === 'ids' ? spec.input.vocab : 0;
  const checkId = (v: number, i: number, t: number) => {
    if (!Number.isInteger(v) || v < 0 || v >= vocab)
      fail(where, `token id of sequence ${i} at step ${t} must be an integer in [0, ${vocab - 1}], received ${v}`);
  };
  const limit = dtype === 'float32' ? F32_MAX : Infinity;
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
    for (let i = 0; i < N; i++) {
      const len = lengths ? lengths[i] : T;
      if (!Number.isInteger(len) || len < 1 || len > T)
        fail(where, `length of sequence ${i} must be an integer in [1, ${T}], received ${len}`);
      const x = ids ? new Int32Array(len) : new Floats(len * f);
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
    }
    return out;
  }
  return (inputs as unknown[]).map((seq, i) => {
    if (!Array.isArray(seq))
      throw new TypeError(`${where}: sequence ${i} must be an array of steps, received ${typeof seq}`);
    if (seq.length === 0) fail(where, `sequence ${i} is empty; sequences need at least one step`);
    if (ids) {
      if (!isNumArray(seq))
        throw new TypeError(`${where}: sequence ${i} must be an array of token ids, received nested arrays`);
      seq.forEach((v, t) => checkId(v, i, t));
      return { x: Int32Array.from(seq), len: seq.length };
    }
    const x = new Floats(seq.length * F);
    seq.forEach((step: unknown, t: number) => {
      if (typeof step === 'number' && F === 1) {
        checkValue(step, i, t);
        x[t] = step;
        return;
      }
      if (!Array.isArray(step) || step.length !== F)
        fail(
          where,
          `step ${t} of sequence ${i} must have ${F} features, received ${Array.isArray(step) ? step.length : typeof step}`,
        );
      (step as unknown[]).forEach((v, j) => {
        checkValue(v, i, t);
        x[t * F + j] = v as number;
      });
    });
    return { x, len: seq.length };
  });
}

function readTarget(where: string, spec: DataSpec, y: unknown, i: number, len: number): Int32Array | Float64Array {
  const C = spec.outSize;
  const cls = (v: unknown, at: string) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= C)
      fail(where, `target ${at} must be a class id in [0, ${C - 1}], received ${String(v)}`);
    return v;
  };
  const vec = (v: unknown, at: string): number[] => {
    if (typeof v === 'number' && C === 1) v = [v];
    if (!Array.isArray(v) || v.length !== C)
      fail(where, `target ${at} must have ${C} values, received ${Array.isArray(v) ? v.length : typeof v}`);
    (v as unknown[]).forEach((e) => {
      if (typeof e !== 'number' || !Number.isFinite(e))
        fail(where, `target ${at} must be finite numbers, received ${String(e)}`);
    });
    return v as number[];
  };
  if (spec.level === 'sequence') {
    if (spec.task === 'classification') return Int32Array.of(cls(y, `of sequence ${i}`));
    return Float64Array.from(vec(y, `of sequence ${i}`));
  }
  if (!Array.isArray(y) && !(y instanceof Int32Array))
    throw new TypeError(
      `${where}: targets of sequence ${i} must be an array with one entry per step, received ${typeof y}`,
    );
  const arr = y as ArrayLike<unknown>;
  if (arr.length !== len)
    fail(where, `targets of sequence ${i} must have one entry per step (${len}), received ${arr.length}`);
  if (spec.task === 'classification')
    return Int32Array.from(Array.from(arr, (v, t) => cls(v, `of sequence ${i} at step ${t}`)));
  const out = new Float64Array(len * C);
  for (let t = 0; t < len; t++) out.set(vec(arr[t], `of sequence ${i} at step ${t}`), t * C);
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
