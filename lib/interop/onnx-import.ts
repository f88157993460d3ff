// ONNX import: an inference-only model that runs a graph of the recurrent operators (LSTM, GRU,
// RNN), linear algebra (Gemm, MatMul, Add, ...), Gather (embeddings), Softmax and the glue
// PyTorch's exporter emits (Transpose, Squeeze, Unsqueeze, Slice, Concat, Reshape, Shape,
// Constant, ConstantOfShape, ...), interpreted node by node over host arrays with rnnkit's CPU
// kernels (rnnForward for the recurrent operators, after converting their weights back to
// PyTorch's gate order; gemm for Gemm and MatMul). Any other operator is refused by name.
//
// The file is untrusted: its size is checked before it is read, every initializer's dims and
// element type are checked against the bytes it holds, external data is refused, and every
// tensor an operator would create is checked against the memory limit before it is allocated.
import { promises as fs, statSync, readFileSync } from 'fs';
import { inspect } from 'util';
import { cpu } from '../cpu-backend';
import { formatBytes, guardBytes, memoryLimit } from '../memory';
import { AT, DT, decodeModel } from './onnx-proto';
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from './onnx-proto';
import { ONNX_GATE_ORDER, reorderGates } from './onnx-export';

/** Files larger than this are refused before they are read (protobuf messages are capped at 2 GiB). */
export const MAX_ONNX_BYTES = 2 ** 31 - 1;
/** Opsets of the default domain importOnnx accepts. */
export const ONNX_OPSETS = [9, 18] as const;

/** A tensor given to or returned by an imported model. Integers (int64, int32) are held as numbers. */
export interface OnnxTensor {
  dims: number[];
  /** float32 for float tensors; Float64Array of integer values for int64/int32; Uint8Array for bool. */
  data: Float32Array | Float64Array | Uint8Array;
  type: 'float32' | 'int64' | 'int32' | 'bool';
}
/** A feed: a typed or plain array with its dims, or nested arrays (dims inferred). */
export type OnnxFeed = { data: ArrayLike<number> | BigInt64Array; dims: number[] } | NestedNumbers;
type NestedNumbers = number | NestedNumbers[];

interface Val {
  type: OnnxTensor['type'];
  dims: number[];
  data: Float32Array | Float64Array | Uint8Array;
}

const SUPPORTED = [
  'LSTM',
  'GRU',
  'RNN',
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Gather',
  'Softmax',
  'LogSoftmax',
  'Sigmoid',
  'Tanh',
  'Relu',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Slice',
  'Concat',
  'Reshape',
  'Flatten',
  'Shape',
  'Constant',
  'ConstantOfShape',
  'Expand',
  'Cast',
  'Identity',
  'Dropout',
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'Range',
  'Less',
  'Equal',
  'Pad',
  'Where',
  'Max',
] as const;
const SUPPORTED_SET = new Set<string>(SUPPORTED);

class OnnxImportError extends Error {
  override name = 'OnnxImportError';
}
const fail = (msg: string): never => {
  throw new OnnxImportError(`importOnnx: ${msg}`);
};

const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);

/** Allocates a tensor of `n` elements after checking it against the memory limit. */
function alloc(type: Val['type'], n: number, what: string): Val['data'] {
  if (!(n >= 0) || !Number.isInteger(n)) fail(`${what}: invalid element count ${n}`);
  guardBytes(`importOnnx: ${what} (${n} elements)`, n * (type === 'float32' ? 4 : type === 'bool' ? 1 : 8));
  return type === 'float32' ? new Float32Array(n) : type === 'bool' ? new Uint8Array(n) : new Float64Array(n);
}
function make(type: Val['type'], dims: number[], what: string): Val {
  return { type, dims, data: alloc(type, prod(dims), what) };
}

const ELEM: Record<number, { type: Val['type']; size: number; name: string }> = {
  [DT.FLOAT]: { type: 'float32', size: 4, name: 'float' },
  [DT.DOUBLE]: { type: 'float32', size: 8, name: 'double' },
  [DT.INT64]: { type: 'int64', size: 8, name: 'int64' },
  [DT.INT32]: { type: 'int32', size: 4, name: 'int32' },
  [DT.BOOL]: { type: 'bool', size: 1, name: 'bool' },
};

/** A checked TensorProto → Val: dims × element size must equal the bytes (or values) it holds. */
function tensorOf(t: TensorProto, where: string): Val {
  const name = `${where} '${t.name ?? ''}'`;
  if ((t.externalData && t.externalData.length) || t.dataLocation === 1)
    fail(`${name} keeps its data in an external file; external data is not supported (save the model as one file)`);
  if (t.segment) fail(`${name} is segmented; segmented tensors are not supported`);
  const e = ELEM[t.dataType ?? 0];
  if (!e) fail(`${name} has element type ${t.dataType}; supported: float, double, int64, int32, bool`);
  const dims = t.dims ?? [];
  if (dims.length > 16) fail(`${name} has ${dims.length} dimensions (at most 16)`);
  for (const d of dims) if (!Number.isSafeInteger(d) || d < 0) fail(`${name} has an invalid dimension ${d}`);
  let n = 1;
  for (const d of dims) {
    n *= d;
    if (n * e.size > memoryLimit())
      fail(`${name} of dims [${dims.join(', ')}] is over the memory limit of ${formatBytes(memoryLimit())}`);
  }
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const fields = [t.floatData, t.int32Data, t.int64Data, t.doubleData].filter((f) => f && f.length);
  const out = make(e.type, dims, name);
  if (raw) {
    if (fields.length) fail(`${name} holds both raw_data and typed data`);
    if (raw.length !== n * e.size)
      fail(
        `${name} of dims [${dims.join(', ')}] (${e.name}) needs ${n * e.size} bytes of raw_data, holds ${raw.length}`,
      );
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const d = out.data;
    for (let i = 0; i < n; i++) {
      if (t.dataType === DT.FLOAT) d[i] = dv.getFloat32(4 * i, true);
      else if (t.dataType === DT.DOUBLE) d[i] = dv.getFloat64(8 * i, true);
      else if (t.dataType === DT.INT64) d[i] = Number(dv.getBigInt64(8 * i, true));
      else if (t.dataType === DT.INT32) d[i] = dv.getInt32(4 * i, true);
      else d[i] = dv.getUint8(i) ? 1 : 0;
    }
    return out;
  }
  const src =
    t.dataType === DT.FLOAT
      ? t.floatData
      : t.dataType === DT.DOUBLE
        ? t.doubleData
        : t.dataType === DT.INT64
          ? t.int64Data
          : t.int32Data; // int32 and bool values live in int32_data
  const have = src?.length ?? 0;
  if (have !== n) fail(`${name} of dims [${dims.join(', ')}] needs ${n} values, holds ${have}`);
  for (let i = 0; i < n; i++) out.data[i] = Number(src![i]);
  return out;
}

// ---------------------------------------------------------------- attributes

class Attrs {
  private readonly m = new Map<string, AttributeProto>();
  constructor(
    private readonly node: NodeProto,
    list: AttributeProto[] | undefined,
  ) {
    for (const a of list ?? []) {
      if (a.refAttrName) fail(`node '${node.name ?? ''}' uses a function attribute reference; not supported`);
      this.m.set(a.name ?? '', a);
    }
  }
  has(k: string) {
    return this.m.has(k);
  }
  int(k: string, dflt: number): number {
    const a = this.m.get(k);
    if (!a) return dflt;
    if (a.type !== AT.INT) this.bad(k, 'an int');
    return Number(a.i ?? 0);
  }
  float(k: string, dflt: number): number {
    const a = this.m.get(k);
    if (!a) return dflt;
    if (a.type !== AT.FLOAT) this.bad(k, 'a float');
    return a.f ?? 0;
  }
  ints(k: string): number[] | null {
    const a = this.m.get(k);
    if (!a) return null;
    if (a.type !== AT.INTS) this.bad(k, 'ints');
    return (a.ints ?? []).map(Number);
  }
  str(k: string, dflt: string): string {
    const a = this.m.get(k);
    if (!a) return dflt;
    if (a.type !== AT.STRING) this.bad(k, 'a string');
    return new TextDecoder().decode(a.s ?? new Uint8Array());
  }
  strs(k: string): string[] | null {
    const a = this.m.get(k);
    if (!a) return null;
    if (a.type !== AT.STRINGS) this.bad(k, 'strings');
    return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
  }
  tensor(k: string): TensorProto | null {
    const a = this.m.get(k);
    if (!a) return null;
    if (a.type !== AT.TENSOR || !a.t) this.bad(k, 'a tensor');
    return a.t!;
  }
  private bad(k: string, what: string): never {
    return fail(`node '${this.node.name ?? ''}' (${this.node.opType}): attribute '${k}' must be ${what}`);
  }
}

// ---------------------------------------------------------------- helpers

function strides(dims: number[]): number[] {
  const s = new Array(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}
function axisOf(a: number, rank: number, what: string): number {
  const r = a < 0 ? a + rank : a;
  if (!Number.isInteger(r) || r < 0 || r >= rank) fail(`${what}: axis ${a} is out of range for rank ${rank}`);
  return r;
}
function ints(v: Val): number[] {
  return Array.from(v.data as ArrayLike<number>);
}

/** Numpy broadcasting of element-wise `f` over inputs. */
function broadcast(vals: Val[], type: Val['type'], f: (x: number[]) => number, what: string): Val {
  const rank = Math.max(...vals.map((v) => v.dims.length));
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const v of vals) {
      const k = v.dims.length - rank + i,
        vd = k >= 0 ? v.dims[k] : 1;
      if (vd !== 1) {
        if (d !== 1 && d !== vd)
          fail(`${what}: shapes ${vals.map((x) => `[${x.dims.join(', ')}]`).join(' and ')} do not broadcast`);
        d = vd;
      }
    }
    dims.push(d);
  }
  const out = make(type, dims, what);
  const n = out.data.length;
  const st = vals.map((v) => {
    const s = strides(v.dims);
    return dims.map((d, i) => {
      const k = v.dims.length - rank + i;
      return k >= 0 && v.dims[k] !== 1 ? s[k] : 0;
    });
  });
  const idx = new Array(rank).fill(0);
  const off = new Array(vals.length).fill(0);
  const args = new Array(vals.length);
  for (let e = 0; e < n; e++) {
    for (let j = 0; j < vals.length; j++) args[j] = vals[j].data[off[j]];
    out.data[e] = f(args);
    for (let i = rank - 1; i >= 0; i--) {
      idx[i]++;
      for (let j = 0; j < vals.length; j++) off[j] += st[j][i];
      if (idx[i] < dims[i]) break;
      for (let j = 0; j < vals.length; j++) off[j] -= st[j][i] * dims[i];
      idx[i] = 0;
    }
  }
  return out;
}

function transpose(v: Val, perm: number[], what: string): Val {
  const r = v.dims.length;
  if (perm.length !== r || new Set(perm).size !== r || perm.some((p) => p < 0 || p >= r))
    fail(`${what}: perm [${perm.join(', ')}] does not fit rank ${r}`);
  const dims = perm.map((p) => v.dims[p]);
  const out = make(v.type, dims, what);
  const s = strides(v.dims),
    ps = perm.map((p) => s[p]);
  const idx = new Array(r).fill(0);
  let off = 0;
  for (let e = 0; e < out.data.length; e++) {
    out.data[e] = v.data[off];
    for (let i = r - 1; i >= 0; i--) {
      idx[i]++;
      off += ps[i];
      if (idx[i] < dims[i]) break;
      off -= ps[i] * dims[i];
      idx[i] = 0;
    }
  }
  return out;
}

function reshaped(v: Val, dims: number[]): Val {
  return { type: v.type, dims, data: v.data };
}

function reduce(v: Val, axes: number[] | null, keep: boolean, mode: 'sum' | 'mean' | 'max', what: string): Val {
  const r = v.dims.length;
  const ax = new Set((axes && axes.length ? axes : v.dims.map((_, i) => i)).map((a) => axisOf(a, r, what)));
  const outDims = v.dims.map((d, i) => (ax.has(i) ? 1 : d));
  const out = make(v.type, outDims, what);
  out.data.fill(mode === 'max' ? -Infinity : 0);
  const s = strides(outDims);
  const idx = new Array(r).fill(0);
  for (let e = 0; e < v.data.length; e++) {
    let o = 0;
    for (let i = 0; i < r; i++) if (!ax.has(i)) o += idx[i] * s[i];
    const x = v.data[e];
    if (mode === 'max') out.data[o] = Math.max(out.data[o], x);
    else out.data[o] += x;
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < v.dims[i]) break;
      idx[i] = 0;
    }
  }
  if (mode === 'mean') {
    const cnt = prod([...ax].map((a) => v.dims[a]));
    for (let i = 0; i < out.data.length; i++) out.data[i] /= cnt;
  }
  return keep
    ? out
    : reshaped(
        out,
        v.dims.filter((_, i) => !ax.has(i)),
      );
}

function softmax(v: Val, axis: number, log: boolean, coerce2d: boolean, what: string): Val {
  const r = v.dims.length,
    a = axisOf(axis, r, what);
  const out = make('float32', v.dims, what);
  // opset < 13: the input is coerced to 2-D at `axis`; from 13 the softmax runs along `axis`
  const inner = coerce2d ? 1 : prod(v.dims.slice(a + 1));
  const len = coerce2d ? prod(v.dims.slice(a)) : v.dims[a];
  const outer = v.data.length / Math.max(1, len * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let m = -Infinity;
      for (let k = 0; k < len; k++) m = Math.max(m, v.data[base + k * inner]);
      let sum = 0;
      for (let k = 0; k < len; k++) sum += Math.exp(v.data[base + k * inner] - m);
      for (let k = 0; k < len; k++) {
        const z = v.data[base + k * inner] - m;
        out.data[base + k * inner] = log ? z - Math.log(sum) : Math.exp(z) / sum;
      }
    }
  return out;
}

function slice(
  v: Val,
  starts: number[],
  ends: number[],
  axes: number[] | null,
  steps: number[] | null,
  what: string,
): Val {
  const r = v.dims.length;
  const st = v.dims.map(() => 0),
    en = v.dims.slice(),
    sp = v.dims.map(() => 1);
  const ax = axes ?? starts.map((_, i) => i);
  if (ends.length !== starts.length || ax.length !== starts.length || (steps && steps.length !== starts.length))
    fail(`${what}: starts, ends, axes and steps must have one entry per sliced axis`);
  ax.forEach((a0, i) => {
    const a = axisOf(a0, r, what),
      d = v.dims[a];
    const step = steps ? steps[i] : 1;
    if (!Number.isInteger(step) || step === 0) fail(`${what}: step must be a non-zero integer`);
    const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
    let s = starts[i] < 0 ? starts[i] + d : starts[i];
    let e = ends[i] < 0 ? ends[i] + d : ends[i];
    if (step > 0) {
      s = clamp(s, 0, d);
      e = clamp(e, 0, d);
    } else {
      s = clamp(s, -1, d - 1);
      e = clamp(e, -1, d - 1);
    }
    st[a] = s;
    en[a] = e;
    sp[a] = step;
  });
  const dims = v.dims.map((_, a) => Math.max(0, Math.ceil((en[a] - st[a]) / sp[a])));
  const out = make(v.type, dims, what);
  const s = strides(v.dims);
  const idx = new Array(r).fill(0);
  for (let e = 0; e < out.data.length; e++) {
    let o = 0;
    for (let i = 0; i < r; i++) o += (st[i] + idx[i] * sp[i]) * s[i];
    out.data[e] = v.data[o];
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < dims[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

function concatVals(vs: Val[], axis: number, what: string): Val {
  const r = vs[0].dims.length,
    a = axisOf(axis, r, what);
  for (const v of vs)
    if (v.dims.length !== r || v.dims.some((d, i) => i !== a && d !== vs[0].dims[i]))
      fail(
        `${what}: inputs of shapes ${vs.map((x) => `[${x.dims.join(', ')}]`).join(', ')} cannot be concatenated on axis ${axis}`,
      );
  const dims = vs[0].dims.slice();
  dims[a] = vs.reduce((n, v) => n + v.dims[a], 0);
  const out = make(vs[0].type, dims, what);
  const outer = prod(dims.slice(0, a)),
    inner = prod(dims.slice(a + 1));
  let o = 0;
  for (let i = 0; i < outer; i++)
    for (const v of vs) {
      const n = v.dims[a] * inner;
      out.data.set(v.data.subarray(i * n, (i + 1) * n) as never, o);
      o += n;
    }
  return out;
}

function gather(data: Val, idx: Val, axis: number, what: string): Val {
  const r = data.dims.length,
    a = axisOf(axis, r, what),
    n = data.dims[a];
  const dims = [...data.dims.slice(0, a), ...idx.dims, ...data.dims.slice(a + 1)];
  const out = make(data.type, dims, what);
  const outer = prod(data.dims.slice(0, a)),
    inner = prod(data.dims.slice(a + 1));
  const m = idx.data.length;
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++) {
      let k = idx.data[j];
      if (k < 0) k += n;
      if (!Number.isInteger(k) || k < 0 || k >= n)
        fail(`${what}: index ${idx.data[j]} is out of range [${-n}, ${n - 1}]`);
      const src = (o * n + k) * inner;
      out.data.set(data.data.subarray(src, src + inner) as never, (o * m + j) * inner);
    }
  return out;
}

/** y = alpha·op(A)·op(B) + beta·C through the CPU backend's gemm. */
function gemm(a: Val, b: Val, c: Val | null, alpha: number, beta: number, tA: boolean, tB: boolean, what: string): Val {
  if (a.dims.length !== 2 || b.dims.length !== 2) fail(`${what}: Gemm needs 2-D inputs`);
  const M = tA ? a.dims[1] : a.dims[0],
    K = tA ? a.dims[0] : a.dims[1];
  const K2 = tB ? b.dims[1] : b.dims[0],
    N = tB ? b.dims[0] : b.dims[1];
  if (K !== K2) fail(`${what}: inner dimensions ${K} and ${K2} differ`);
  const out = make('float32', [M, N], what);
  if (c && beta !== 0) {
    const bc = broadcast([c, { type: 'float32', dims: [M, N], data: out.data }], 'float32', (x) => x[0], what);
    out.data.set(bc.data);
  }
  if (M && N) {
    if (K === 0) for (let i = 0; i < out.data.length; i++) out.data[i] *= beta;
    else
      cpu().gemm({
        M,
        N,
        K,
        a: f32(a),
        b: f32(b),
        c: out.data as Float32Array,
        transA: tA,
        transB: tB,
        alpha,
        beta: c ? beta : 0,
      });
  }
  return out;
}
function f32(v: Val): Float32Array {
  return v.data instanceof Float32Array ? v.data : Float32Array.from(v.data);
}

function matmul(a: Val, b: Val, what: string): Val {
  if (a.dims.length < 2 || b.dims.length < 2) fail(`${what}: MatMul of 1-D tensors is not supported`);
  const [M, K] = a.dims.slice(-2),
    [K2, N] = b.dims.slice(-2);
  if (K !== K2) fail(`${what}: inner dimensions ${K} and ${K2} differ`);
  if (b.dims.length === 2) {
    const rows = prod(a.dims.slice(0, -1));
    const r = gemm(reshaped(a, [rows, K]), b, null, 1, 0, false, false, what);
    return reshaped(r, [...a.dims.slice(0, -1), N]);
  }
  const batchA = a.dims.slice(0, -2),
    batchB = b.dims.slice(0, -2);
  if (batchA.length !== batchB.length || batchA.some((d, i) => d !== batchB[i]))
    fail(`${what}: batched MatMul needs equal batch dimensions`);
  const nb = prod(batchA);
  const out = make('float32', [...batchA, M, N], what);
  for (let i = 0; i < nb; i++) {
    const r = gemm(
      { type: 'float32', dims: [M, K], data: f32(a).subarray(i * M * K, (i + 1) * M * K) },
      { type: 'float32', dims: [K, N], data: f32(b).subarray(i * K * N, (i + 1) * K * N) },
      null,
      1,
      0,
      false,
      false,
      what,
    );
    out.data.set(r.data, i * M * N);
  }
  return out;
}

const INV_ORDER = {
  lstm: [0, 2, 3, 1], // ONNX i,o,f,c → PyTorch i,f,g,o
  gru: [1, 0, 2], // ONNX z,r,h → PyTorch r,z,n
  rnn: [0],
};
// the inverse permutations match the exporter's
for (const k of ['lstm', 'gru', 'rnn'] as const)
  if (INV_ORDER[k].some((p, j) => ONNX_GATE_ORDER[k][p] !== j)) throw new Error('onnx gate order tables disagree');

/** ONNX LSTM / GRU / RNN through rnnForward (weights converted back to PyTorch's layout). */
function recurrent(node: NodeProto, at: Attrs, inp: Array<Val | null>, what: string): Val[] {
  const op = node.opType as 'LSTM' | 'GRU' | 'RNN';
  const cell = op === 'LSTM' ? 'lstm' : op === 'GRU' ? 'gru' : 'rnn';
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const [X, W, R, Bv, lensV, h0V, c0V, P] = inp;
  if (!X || !W || !R) fail(`${what}: X, W and R are required`);
  if (P) fail(`${what}: peephole weights (input P) are not supported`);
  if (at.int('layout', 0) !== 0) fail(`${what}: layout 1 (batch-first) is not supported; only layout 0`);
  if (at.has('clip')) fail(`${what}: attribute 'clip' is not supported`);
  if (at.int('input_forget', 0) !== 0) fail(`${what}: input_forget 1 is not supported`);
  if (at.has('activation_alpha') || at.has('activation_beta'))
    fail(`${what}: activation_alpha / activation_beta are not supported`);
  const dir = at.str('direction', 'forward');
  if (dir !== 'forward' && dir !== 'reverse' && dir !== 'bidirectional') fail(`${what}: direction '${dir}' is unknown`);
  const D = dir === 'bidirectional' ? 2 : 1;
  const H = at.int('hidden_size', R!.dims[2] ?? 0);
  if (X!.dims.length !== 3) fail(`${what}: X must be [seq, batch, input]`);
  const [T, B, I] = X!.dims;
  const want = (v: Val, dims: number[], n: string) => {
    if (v.dims.length !== dims.length || v.dims.some((d, i) => d !== dims[i]))
      fail(`${what}: ${n} has shape [${v.dims.join(', ')}], expected [${dims.join(', ')}]`);
  };
  want(W!, [D, G * H, I], 'W');
  want(R!, [D, G * H, H], 'R');
  if (Bv) want(Bv, [D, 2 * G * H], 'B');
  if (h0V) want(h0V, [D, B, H], 'initial_h');
  if (c0V) want(c0V, [D, B, H], 'initial_c');
  let activation: 'tanh' | 'relu' | 'sigmoid' = 'tanh';
  const acts = at.strs('activations');
  if (cell === 'rnn') {
    const a = (acts ?? ['Tanh'])[0];
    if (acts && acts.some((x) => x !== a)) fail(`${what}: directions with different activations are not supported`);
    const m: Record<string, 'tanh' | 'relu' | 'sigmoid'> = { Tanh: 'tanh', Relu: 'relu', Sigmoid: 'sigmoid' };
    if (!m[a]) fail(`${what}: activation '${a}' is not supported; supported: Tanh, Relu, Sigmoid`);
    activation = m[a];
  } else if (acts) {
    const std = cell === 'lstm' ? ['Sigmoid', 'Tanh', 'Tanh'] : ['Sigmoid', 'Tanh'];
    if (acts.some((x, i) => x !== std[i % std.length]))
      fail(`${what}: activations [${acts.join(', ')}] are not supported; only the defaults [${std.join(', ')}]`);
  }
  const lbr = at.int('linear_before_reset', 0);
  let lengths: Int32Array | null = null;
  if (lensV) {
    want(lensV, [B], 'sequence_lens');
    lengths = Int32Array.from(lensV.data as ArrayLike<number>);
    for (const L of lengths) if (L < 0 || L > T) fail(`${what}: sequence_lens value ${L} is outside [0, ${T}]`);
  }
  const Y = make('float32', [T, D, B, H], what),
    Yh = make('float32', [D, B, H], what),
    Yc = make('float32', [D, B, H], what);
  const perm = INV_ORDER[cell];
  const x = f32(X!);
  const w = f32(W!),
    r = f32(R!);
  const bias = Bv ? f32(Bv) : null;
  for (let d = 0; d < D; d++) {
    const y = new Float32Array(T * B * H),
      hN = new Float32Array(B * H),
      cN = cell === 'lstm' ? new Float32Array(B * H) : null;
    const part = (v: Val | null | undefined) => (v ? f32(v).slice(d * B * H, (d + 1) * B * H) : null);
    cpu().rnnForward({
      cell: cell === 'rnn' ? 'elman' : cell,
      T,
      B,
      I,
      H,
      ...(cell === 'rnn' ? { activation } : {}),
      ...(cell === 'gru' ? { gruVariant: lbr ? ('pytorch' as const) : ('original' as const) } : {}),
      reverse: dir === 'reverse' || d === 1,
      x,
      lengths,
      h0: part(h0V),
      c0: cell === 'lstm' ? part(c0V) : null,
      wIh: reorderGates(w.subarray(d * G * H * I, (d + 1) * G * H * I), H, I, perm),
      wHh: reorderGates(r.subarray(d * G * H * H, (d + 1) * G * H * H), H, H, perm),
      bIh: bias ? reorderGates(bias.subarray(d * 2 * G * H, d * 2 * G * H + G * H), H, 1, perm) : null,
      bHh: bias ? reorderGates(bias.subarray(d * 2 * G * H + G * H, (d + 1) * 2 * G * H), H, 1, perm) : null,
      y,
      hN,
      cN,
    });
    for (let t = 0; t < T; t++) Y.data.set(y.subarray(t * B * H, (t + 1) * B * H), (t * D + d) * B * H);
    Yh.data.set(hN, d * B * H);
    if (cN) Yc.data.set(cN, d * B * H);
  }
  return cell === 'lstm' ? [Y, Yh, Yc] : [Y, Yh];
}

const CAST: Record<number, Val['type']> = {
  [DT.FLOAT]: 'float32',
  [DT.DOUBLE]: 'float32',
  [DT.INT64]: 'int64',
  [DT.INT32]: 'int32',
  [DT.BOOL]: 'bool',
};

// ---------------------------------------------------------------- the model

interface IOInfo {
  name: string;
  type: string;
  dims: Array<number | string>;
}

function ioInfo(v: ValueInfoProto): IOInfo {
  const tt = v.type?.tensorType;
  const e = tt?.elemType !== undefined ? ELEM[tt.elemType] : undefined;
  return {
    name: v.name ?? '',
    type: e ? e.type : `element type ${tt?.elemType}`,
    dims: (tt?.shape?.dim ?? []).map((d) => (d.dimParam !== undefined ? d.dimParam : (d.dimValue ?? '?'))),
  };
}

/**
 * An ONNX graph loaded by importOnnx: inference only (no fit, no save), on the CPU. `predict`
 * takes the graph's inputs by name and returns its outputs by name.
 */
export class OnnxModel {
  readonly type = 'OnnxModel';
  /** The graph's inputs (initializers excluded) and outputs: name, element type, dims (dim_param names for dynamic axes). */
  readonly inputs: IOInfo[];
  readonly outputs: IOInfo[];
  /** Operators of the graph, in node order, each once. */
  readonly operators: string[];
  private readonly nodes: NodeProto[];
  private readonly consts = new Map<string, Val>();
  private readonly opset: number;

  /** @internal Use importOnnx / importOnnxSync. */
  constructor(m: ModelProto, source: string) {
    const g: GraphProto | undefined = m.graph;
    if (!g) fail(`${source} holds no graph (not an ONNX model?)`);
    let opset: number | null = null;
    for (const o of m.opsetImport ?? []) if (!o.domain || o.domain === 'ai.onnx') opset = Number(o.version ?? 0);
    if (opset === null) fail(`${source} imports no opset of the default ONNX domain (not an ONNX model?)`);
    if (opset! < ONNX_OPSETS[0] || opset! > ONNX_OPSETS[1])
      fail(`${source} uses opset ${opset} of the default domain; supported: ${ONNX_OPSETS[0]} to ${ONNX_OPSETS[1]}`);
    this.opset = opset!;
    if (g!.sparseInitializer && g!.sparseInitializer.length) fail(`${source}: sparse initializers are not supported`);
    for (const t of g!.initializer ?? []) this.consts.set(t.name ?? '', tensorOf(t, 'initializer'));
    this.nodes = g!.node ?? [];
    for (const n of this.nodes) {
      const op = n.opType ?? '';
      if ((n.domain && n.domain !== 'ai.onnx') || !SUPPORTED_SET.has(op))
        fail(
          `operator '${n.domain ? `${n.domain}.` : ''}${op}' (node '${n.name ?? ''}') is not supported; supported: ${SUPPORTED.join(', ')}`,
        );
      for (const a of n.attribute ?? [])
        if (a.type === AT.GRAPH || (a.graphs && a.graphs.length))
          fail(`node '${n.name ?? ''}' (${op}) holds a subgraph; not supported`);
    }
    this.operators = [...new Set(this.nodes.map((n) => n.opType ?? ''))];
    this.inputs = (g!.input ?? []).filter((v) => !this.consts.has(v.name ?? '')).map(ioInfo);
    this.outputs = (g!.output ?? []).map(ioInfo);
    if (!this.outputs.length) fail(`${source}: the graph has no outputs`);
  }

  /** Runs the graph: inputs by name (each graph input must be given), outputs by name. */
  predict(feeds: Record<string, OnnxFeed>): Record<string, OnnxTensor> {
    if (feeds === null || typeof feeds !== 'object')
      throw new TypeError(
        `OnnxModel.predict: feeds must be an object of inputs by name (${this.inputs.map((i) => i.name).join(', ')})`,
      );
    const env = new Map<string, Val>(this.consts);
    for (const i of this.inputs) {
      if (!(i.name in feeds)) throw new TypeError(`OnnxModel.predict: input '${i.name}' is missing`);
      env.set(i.name, feedVal(i, feeds[i.name]));
    }
    for (const k of Object.keys(feeds))
      if (!this.inputs.some((i) => i.name === k))
        throw new TypeError(`OnnxModel.predict: the graph has no input '${k}'`);
    for (const n of this.nodes) {
      const what = `node '${n.name ?? ''}' (${n.opType})`;
      const inp = (n.input ?? []).map((name) => {
        if (name === '') return null;
        const v = env.get(name);
        if (!v) throw new OnnxImportError(`importOnnx: ${what} reads '${name}', which no earlier node computes`);
        return v;
      });
      const outs = this.run(n, inp, what);
      (n.output ?? []).forEach((name, i) => {
        if (name !== '' && outs[i]) env.set(name, outs[i]);
      });
    }
    const result: Record<string, OnnxTensor> = {};
    for (const o of this.outputs) {
      const v = env.get(o.name);
      if (!v) throw new OnnxImportError(`importOnnx: output '${o.name}' is never computed`);
      result[o.name] = { type: v.type, dims: v.dims.slice(), data: v.data };
    }
    return result;
  }

  private run(n: NodeProto, inp: Array<Val | null>, what: string): Array<Val | undefined> {
    const at = new Attrs(n, n.attribute);
    const need = (i: number): Val => {
      const v = inp[i];
      if (!v) fail(`${what}: input ${i} is required`);
      return v!;
    };
    const axesIn = (i: number, attr: string): number[] | null => (inp[i] ? ints(inp[i]!) : at.ints(attr));
    const float = (f: (x: number) => number) => {
      const x = need(0),
        y = make('float32', x.dims, what);
      for (let i = 0; i < y.data.length; i++) y.data[i] = f(x.data[i]);
      return [y];
    };
    const arith = (f: (a: number, b: number) => number) => {
      const a = need(0),
        b = need(1);
      const v = broadcast([a, b], a.type, (x) => f(x[0], x[1]), what);
      if (a.type !== 'float32') for (let i = 0; i < v.data.length; i++) v.data[i] = Math.trunc(v.data[i]);
      return [v];
    };
    switch (n.opType) {
      case 'LSTM':
      case 'GRU':
      case 'RNN':
        return recurrent(n, at, inp, what);
      case 'Gemm':
        return [
          gemm(
            need(0),
            need(1),
            inp[2],
            at.float('alpha', 1),
            at.float('beta', 1),
            at.int('transA', 0) !== 0,
            at.int('transB', 0) !== 0,
            what,
          ),
        ];
      case 'MatMul':
        return [matmul(need(0), need(1), what)];
      case 'Add':
        return arith((a, b) => a + b);
      case 'Sub':
        return arith((a, b) => a - b);
      case 'Mul':
        return arith((a, b) => a * b);
      case 'Div':
        return arith((a, b) => a / b);
      case 'Max':
        return [
          broadcast(
            inp.filter((v): v is Val => !!v),
            need(0).type,
            (x) => Math.max(...x),
            what,
          ),
        ];
      case 'Less':
        return [broadcast([need(0), need(1)], 'bool', (x) => (x[0] < x[1] ? 1 : 0), what)];
      case 'Equal':
        return [broadcast([need(0), need(1)], 'bool', (x) => (x[0] === x[1] ? 1 : 0), what)];
      case 'Pad': {
        const x = need(0);
        if (at.str('mode', 'constant') !== 'constant') fail(`${what}: only mode 'constant' is supported`);
        const pads = this.opset >= 11 ? ints(need(1)) : (at.ints('pads') ?? []);
        const r = x.dims.length;
        if (pads.length !== 2 * r || pads.some((p) => p < 0))
          fail(`${what}: pads must be 2 × rank non-negative values`);
        const value = this.opset >= 11 ? (inp[2] ? inp[2]!.data[0] : 0) : at.float('value', 0);
        const dims = x.dims.map((d, i) => d + pads[i] + pads[i + r]);
        const out = make(x.type, dims, what);
        out.data.fill(value);
        const s = strides(dims);
        const idx = new Array(r).fill(0);
        for (let e = 0; e < x.data.length; e++) {
          let o = 0;
          for (let i = 0; i < r; i++) o += (idx[i] + pads[i]) * s[i];
          out.data[o] = x.data[e];
          for (let i = r - 1; i >= 0; i--) {
            if (++idx[i] < x.dims[i]) break;
            idx[i] = 0;
          }
        }
        return [out];
      }
      case 'Where':
        return [broadcast([need(0), need(1), need(2)], need(1).type, (x) => (x[0] ? x[1] : x[2]), what)];
      case 'Sigmoid':
        return float((x) => 1 / (1 + Math.exp(-x)));
      case 'Tanh':
        return float(Math.tanh);
      case 'Relu':
        return float((x) => (x > 0 ? x : 0));
      case 'Softmax':
      case 'LogSoftmax':
        return [
          softmax(need(0), at.int('axis', this.opset >= 13 ? -1 : 1), n.opType === 'LogSoftmax', this.opset < 13, what),
        ];
      case 'Gather':
        return [gather(need(0), need(1), at.int('axis', 0), what)];
      case 'Transpose': {
        const x = need(0);
        return [transpose(x, at.ints('perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i), what)];
      }
      case 'Squeeze': {
        const x = need(0),
          axes = axesIn(1, 'axes');
        const drop = new Set(
          (axes ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => axisOf(a, x.dims.length, what)),
        );
        for (const a of drop) if (x.dims[a] !== 1) fail(`${what}: axis ${a} has size ${x.dims[a]}, not 1`);
        return [
          reshaped(
            x,
            x.dims.filter((_, i) => !drop.has(i)),
          ),
        ];
      }
      case 'Unsqueeze': {
        const x = need(0),
          axes = axesIn(1, 'axes');
        if (!axes) fail(`${what}: axes are required`);
        const r = x.dims.length + axes!.length;
        const add = new Set(axes!.map((a) => axisOf(a, r, what)));
        const dims: number[] = [];
        let k = 0;
        for (let i = 0; i < r; i++) dims.push(add.has(i) ? 1 : x.dims[k++]);
        return [reshaped(x, dims)];
      }
      case 'Slice': {
        const x = need(0);
        if (this.opset < 10)
          return [slice(x, at.ints('starts') ?? [], at.ints('ends') ?? [], at.ints('axes'), null, what)];
        return [
          slice(x, ints(need(1)), ints(need(2)), inp[3] ? ints(inp[3]!) : null, inp[4] ? ints(inp[4]!) : null, what),
        ];
      }
      case 'Concat':
        return [
          concatVals(
            inp.filter((v): v is Val => !!v),
            at.int('axis', 0),
            what,
          ),
        ];
      case 'Reshape': {
        const x = need(0),
          shape = ints(need(1));
        const allowZero = at.int('allowzero', 0) !== 0;
        const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
        const known = prod(dims.filter((d) => d !== -1));
        const minus = dims.filter((d) => d === -1).length;
        if (minus > 1 || dims.some((d) => d < -1 || d === undefined))
          fail(`${what}: invalid shape [${shape.join(', ')}]`);
        if (minus) dims[dims.indexOf(-1)] = known ? x.data.length / known : 0;
        if (prod(dims) !== x.data.length || !dims.every(Number.isInteger))
          fail(`${what}: cannot reshape [${x.dims.join(', ')}] to [${shape.join(', ')}]`);
        return [reshaped(x, dims)];
      }
      case 'Flatten': {
        const x = need(0),
          a = at.int('axis', 1);
        const ax = a < 0 ? a + x.dims.length : a;
        return [reshaped(x, [prod(x.dims.slice(0, ax)), prod(x.dims.slice(ax))])];
      }
      case 'Shape': {
        const x = need(0),
          r = x.dims.length;
        const clampAxis = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
        const dims = x.dims.slice(clampAxis(at.int('start', 0)), clampAxis(at.int('end', r)));
        return [{ type: 'int64', dims: [dims.length], data: Float64Array.from(dims) }];
      }
      case 'Constant': {
        const t = at.tensor('value');
        if (t) return [tensorOf(t, `${what} value`)];
        if (at.has('value_float'))
          return [{ type: 'float32', dims: [], data: Float32Array.of(at.float('value_float', 0)) }];
        if (at.has('value_int')) return [{ type: 'int64', dims: [], data: Float64Array.of(at.int('value_int', 0)) }];
        const fl = at.has('value_floats');
        const is = at.ints('value_ints');
        if (is) return [{ type: 'int64', dims: [is.length], data: Float64Array.from(is) }];
        if (fl) fail(`${what}: value_floats is not supported`);
        return fail(`${what}: only value, value_float, value_int and value_ints are supported`);
      }
      case 'ConstantOfShape': {
        const dims = ints(need(0));
        for (const d of dims) if (!Number.isSafeInteger(d) || d < 0) fail(`${what}: invalid dimension ${d}`);
        const t = at.tensor('value');
        const v = t ? tensorOf(t, `${what} value`) : { type: 'float32' as const, dims: [1], data: Float32Array.of(0) };
        if (v.data.length !== 1) fail(`${what}: value must hold one element`);
        const out = make(v.type, dims, what);
        out.data.fill(v.data[0]);
        return [out];
      }
      case 'Expand': {
        const x = need(0),
          shape = ints(need(1));
        for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) fail(`${what}: invalid dimension ${d}`);
        return [broadcast([x, { type: x.type, dims: shape, data: new Float32Array(0) }], x.type, (a) => a[0], what)];
      }
      case 'Cast': {
        const x = need(0),
          to = CAST[at.int('to', 0)];
        if (!to) fail(`${what}: cast to element type ${at.int('to', 0)} is not supported`);
        const y = make(to, x.dims, what);
        for (let i = 0; i < y.data.length; i++)
          y.data[i] = to === 'bool' ? (x.data[i] ? 1 : 0) : to === 'float32' ? x.data[i] : Math.trunc(x.data[i]);
        return [y];
      }
      case 'Identity':
      case 'Dropout':
        return [need(0)];
      case 'ReduceSum':
      case 'ReduceMean':
      case 'ReduceMax': {
        const x = need(0);
        const axes =
          (n.opType === 'ReduceSum' && this.opset >= 13) || this.opset >= 18 ? axesIn(1, 'axes') : at.ints('axes');
        if ((!axes || !axes.length) && at.int('noop_with_empty_axes', 0)) return [x];
        const mode = n.opType === 'ReduceSum' ? 'sum' : n.opType === 'ReduceMean' ? 'mean' : 'max';
        return [reduce(x, axes, at.int('keepdims', 1) !== 0, mode, what)];
      }
      case 'Range': {
        const [s, l, d] = [need(0), need(1), need(2)].map((v) => v.data[0]);
        const count = Math.max(Math.ceil((l - s) / d), 0);
        if (!Number.isFinite(count)) fail(`${what}: invalid range`);
        const out = make(need(0).type, [count], what);
        for (let i = 0; i < count; i++) out.data[i] = s + i * d;
        return [out];
      }
    }
    return fail(`operator '${n.opType}' (node '${n.name ?? ''}') is not supported; supported: ${SUPPORTED.join(', ')}`);
  }

  [inspect.custom](): string {
    const io = (l: IOInfo[]) => l.map((i) => `${i.name}: ${i.type} [${i.dims.join(', ')}]`).join(', ');
    return `OnnxModel (inputs ${io(this.inputs)}; outputs ${io(this.outputs)}; operators ${this.operators.join(', ')})`;
  }
}

function feedVal(info: IOInfo, f: OnnxFeed): Val {
  const what = `OnnxModel.predict: input '${info.name}'`;
  let dims: number[], data: ArrayLike<number> | BigInt64Array;
  if (f !== null && typeof f === 'object' && !Array.isArray(f) && 'dims' in f) {
    dims = f.dims;
    data = f.data;
    if (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new TypeError(`${what}: dims must be non-negative integers`);
    if (!data || typeof (data as ArrayLike<number>).length !== 'number')
      throw new TypeError(`${what}: data must be an array or typed array`);
    if (data.length !== prod(dims))
      throw new RangeError(`${what}: ${data.length} values do not fill dims [${dims.join(', ')}]`);
  } else {
    dims = [];
    let cur: NestedNumbers = f as NestedNumbers;
    while (Array.isArray(cur)) {
      dims.push(cur.length);
      cur = cur[0];
    }
    const flat = (Array.isArray(f) ? (f as unknown[]).flat(Infinity) : [f]) as number[];
    if (flat.length !== prod(dims)) throw new RangeError(`${what}: nested arrays must be rectangular`);
    data = flat;
  }
  if (info.dims.length && info.dims.length !== dims.length)
    throw new RangeError(
      `${what}: expected ${info.dims.length} dimensions [${info.dims.join(', ')}], received [${dims.join(', ')}]`,
    );
  info.dims.forEach((d, i) => {
    if (typeof d === 'number' && d !== dims[i])
      throw new RangeError(`${what}: dimension ${i} must be ${d}, received ${dims[i]} ([${dims.join(', ')}])`);
  });
  const type = (['float32', 'int64', 'int32', 'bool'] as const).find((t) => t === info.type) ?? 'float32';
  const v = make(type, dims, what);
  for (let i = 0; i < v.data.length; i++) {
    const x = Number((data as ArrayLike<number>)[i]);
    if (!Number.isFinite(x)) throw new RangeError(`${what}: value ${i} is not a finite number`);
    if (type !== 'float32' && !Number.isInteger(x))
      throw new RangeError(`${what}: value ${i} (${x}) is not an integer`);
    v.data[i] = x;
  }
  return v;
}

function decode(bytes: Uint8Array, source: string): OnnxModel {
  let m: ModelProto;
  try {
    m = decodeModel(bytes);
  } catch (e) {
    return fail(`${source} is not a valid ONNX model (protobuf: ${(e as Error).message})`);
  }
  return new OnnxModel(m, source);
}

function checkSize(path: string, size: number): void {
  const cap = Math.min(MAX_ONNX_BYTES, memoryLimit());
  if (size > cap) fail(`${path} is ${formatBytes(size)}, over the limit of ${formatBytes(cap)}`);
}

/**
 * Loads an ONNX model (e.g. written by torch.onnx.export or exportOnnx) as an inference-only
 * OnnxModel. The graph may use LSTM, GRU, RNN, Gemm, MatMul, element-wise arithmetic, Gather,
 * Softmax and the usual glue (see OnnxModel and docs/interop.md); any other operator is
 * refused with an error naming it.
 */
export async function importOnnx(path: string): Promise<OnnxModel> {
  if (typeof path !== 'string') throw new TypeError('importOnnx: path must be a string');
  const st = await fs.stat(path);
  checkSize(path, st.size);
  return decode(await fs.readFile(path), path);
}
/** importOnnx, synchronously. */
export function importOnnxSync(path: string): OnnxModel {
  if (typeof path !== 'string') throw new TypeError('importOnnxSync: path must be a string');
  checkSize(path, statSync(path).size);
  return decode(readFileSync(path), path);
}
/** An OnnxModel from the bytes of an ONNX file. */
export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeOnnx: bytes must be a Uint8Array');
  if (bytes.length > Math.min(MAX_ONNX_BYTES, memoryLimit()))
    fail(`the model is ${formatBytes(bytes.length)}, over the limit`);
  return decode(bytes, '(bytes)');
}
