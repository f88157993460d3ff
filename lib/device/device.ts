// A device owns tensors and runs every op on them. Layers, losses, the trainer and the models
// see only this interface: the CPU device (tensors wrap typed arrays, no copy), the opaque test
// device (tensors JavaScript cannot read; it counts every host transfer) and CUDA (lib/device/cuda.ts).
// The op list is the kernel list of lib/backend.ts with every buffer a Tensor.
import type { Backend } from '../backend';
import { cpu } from '../cpu-backend';
import type { HostArray, OptimizerKind, RnnSpec } from '../native';
import { dtypeOf, HostData, isTensor, Tensor, TensorDType, TENSOR_DTYPES } from './tensor';
import { bytesPerElement, formatBytes, guardBytes } from '../memory';

type Arr = Float32Array | Float64Array | Int32Array | Uint8Array | Uint32Array;
type ToTensor<V> = V extends Arr ? Tensor : V extends readonly Arr[] ? Tensor[] : V;
/** A kernel's argument object with every buffer a Tensor. */
export type OnTensors<X> = { [K in keyof X]: ToTensor<X[K]> };

/** Ops that take one options object, as the kernels do (docs/engine.md lists them). */
export const DEVICE_OPS = [
  'rnnForward',
  'rnnForwardAsync',
  'rnnBackward',
  'rnnBackwardAsync',
  'linearForward',
  'linearBackward',
  'embeddingForward',
  'embeddingBackward',
  'softmaxCrossEntropy',
  'mseLoss',
  'sigmoidBce',
  'countCorrect',
  'countCorrectMultilabel',
  'optimStep',
  'optimStepAsync',
  'gemm',
  'axpby',
  'mul',
  'scale',
  'activationForward',
  'activationBackward',
  'gatherRows',
  'scatterAddRows',
  'copyCols',
  'mergeHalves',
  'splitHalvesBackward',
  'softmaxRows',
  'logSoftmaxRows',
  'argmaxRows',
  'topkRows',
  'timePoolForward',
  'timePoolBackward',
  'attentionForward',
  'attentionBackward',
  'timeDelayForward',
  'timeDelayBackward',
  'clipByValue',
  'clipByNorm',
  'allFinite',
  'addSign',
] as const;
export type DeviceOpName = (typeof DEVICE_OPS)[number];
type Kernels = Backend<HostArray>;
export type DeviceOps = {
  [K in DeviceOpName]: Kernels[K] extends (a: infer P) => infer R ? (a: OnTensors<P>) => R : never;
};

/** Host transfers of a device (the opaque device counts them; the CPU device has none). */
export interface TransferCounts {
  /** fromHost / write calls and their bytes. */
  toDevice: number;
  toDeviceBytes: number;
  /** toHost calls and their bytes. */
  toHostCalls: number;
  toHostBytes: number;
  /** Ops that returned a number or flag (a loss, a norm, a count). */
  scalars: number;
}

export interface Device extends DeviceOps {
  readonly name: string;
  /** Online learning (RTRL, SnAp-1, UORO) runs on host memory: CPU only. */
  readonly capabilities: { online: boolean };
  /** A zero-filled tensor. */
  alloc(dtype: TensorDType, shape: readonly number[]): Tensor;
  /** A tensor holding host data (the CPU device wraps the array without copying: keep it unchanged). */
  fromHost(data: HostData, shape?: readonly number[]): Tensor;
  /** A host copy of a tensor (the CPU device returns its own array: copy it to keep it). */
  toHost(t: Tensor): Promise<HostData>;
  toHostSync(t: Tensor): HostData;
  /** Copies host values into an existing tensor (weights in, initialization). */
  write(t: Tensor, data: ArrayLike<number>): void;
  /** A view of `shape` elements from `offset` (no copy; shares memory). */
  view(t: Tensor, offset: number, shape: readonly number[]): Tensor;
  fill(t: Tensor, value: number): void;
  /** dst = src (same size and dtype). */
  copy(src: Tensor, dst: Tensor): void;
  /** A new tensor holding a copy of t (carried states, backups). */
  clone(t: Tensor): Tensor;
  /** Releases the memory now (the GC does it otherwise). */
  free(t: Tensor): void;
  rnnReserveSize(spec: RnnSpec): number;
  optimStateCount(kind: OptimizerKind): number;
  dropoutMask(a: { p: number; seed: number; mask: Tensor }): void;
  l2Norm(a: { x: Tensor }): number;
  readonly transfers: TransferCounts;
}

export function zeroTransfers(): TransferCounts {
  return { toDevice: 0, toDeviceBytes: 0, toHostCalls: 0, toHostBytes: 0, scalars: 0 };
}

/**
 * A device whose tensors live in host memory and whose ops run the CPU kernels: the CPU device
 * and the opaque test device differ only in how a tensor reaches its memory (raw()).
 */
export abstract class HostMemoryDevice {
  abstract readonly name: string;
  readonly capabilities = { online: false };
  readonly transfers: TransferCounts = zeroTransfers();
  protected readonly k: Kernels = cpu();

  /** The memory behind a tensor of this device. */
  protected abstract raw(t: Tensor): HostData;
  /** A tensor over host memory (shared, not copied). */
  protected abstract wrap(a: HostData, shape: readonly number[]): Tensor;
  /** Memory for a new tensor of n elements. */
  protected abstract memory(dtype: TensorDType, n: number): HostData;

  constructor() {
    const self = this as unknown as Record<string, unknown>;
    for (const name of DEVICE_OPS) {
      const kernel = (this.k as unknown as Record<string, (a: unknown) => unknown>)[name].bind(this.k);
      self[name] = (a: Record<string, unknown>) => {
        const r = kernel(this.unwrap(a));
        if (typeof r === 'number' || typeof r === 'boolean' || (r !== undefined && !(r instanceof Promise)))
          this.transfers.scalars++;
        return r;
      };
    }
  }

  private unwrap(a: Record<string, unknown>): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const key in a) {
      const v = a[key];
      if (isTensor(v)) o[key] = this.raw(v);
      else if (Array.isArray(v) && v.length > 0 && isTensor(v[0])) o[key] = (v as Tensor[]).map((t) => this.raw(t));
      else o[key] = v;
    }
    return o;
  }

  protected own(t: Tensor, what: string): void {
    if (!isTensor(t))
      throw new TypeError(`${this.name}.${what}: expected a Tensor, received ${t === null ? 'null' : typeof t}`);
    if (t.device !== this.name)
      throw new TypeError(`${this.name}.${what}: the tensor lives on device '${t.device}', not '${this.name}'`);
    if (this.freedTensors.has(t)) throw new Error(`${this.name}.${what}: the tensor was freed`);
  }
  /** Tensors given to free(): using one again is an error (freeing it again is not). */
  protected readonly freedTensors = new WeakSet<Tensor>();

  alloc(dtype: TensorDType, shape: readonly number[]): Tensor {
    if (!TENSOR_DTYPES.includes(dtype))
      throw new TypeError(
        `${this.name}.alloc: dtype must be one of ${TENSOR_DTYPES.join(', ')}, received ${String(dtype)}`,
      );
    const n = checkShape('alloc', shape);
    const what = `${this.name}.alloc: a ${dtype} tensor of shape [${shape.join(',')}]`;
    guardBytes(what, n * bytesPerElement(dtype));
    let m: HostData;
    try {
      m = this.memory(dtype, n);
    } catch (e) {
      // V8 says "Invalid typed array length" or "Array buffer allocation failed": say what was asked.
      if (e instanceof RangeError)
        throw new RangeError(
          `${what} needs ${formatBytes(n * bytesPerElement(dtype))}, which could not be allocated (${e.message})`,
        );
      throw e;
    }
    return this.wrap(m, shape);
  }

  fromHost(data: HostData, shape?: readonly number[]): Tensor {
    dtypeOf(data); // a typed array of a tensor dtype, or a TypeError naming what was given
    const s = shape ?? [data.length];
    const n = checkShape('fromHost', s);
    if (n !== data.length)
      throw new RangeError(`fromHost: shape [${s.join(',')}] needs ${n} elements, received ${data.length}`);
    this.transfers.toDevice++;
    this.transfers.toDeviceBytes += data.byteLength;
    return this.adopt(data, s);
  }
  /** How fromHost turns host data into a tensor (the CPU device wraps it, others copy). */
  protected abstract adopt(data: HostData, shape: readonly number[]): Tensor;

  toHostSync(t: Tensor): HostData {
    this.own(t, 'toHost');
    const r = this.raw(t);
    this.transfers.toHostCalls++;
    this.transfers.toHostBytes += r.byteLength;
    return this.export(r);
  }
  /** How a tensor's memory leaves (the CPU device hands out the array, others copy). */
  protected abstract export(r: HostData): HostData;

  async toHost(t: Tensor): Promise<HostData> {
    return this.toHostSync(t);
  }

  write(t: Tensor, data: ArrayLike<number>): void {
    this.own(t, 'write');
    const r = this.raw(t);
    if (data.length !== r.length)
      throw new RangeError(`write: the tensor has ${r.length} elements, received ${data.length}`);
    this.transfers.toDevice++;
    this.transfers.toDeviceBytes += r.byteLength;
    r.set(data);
  }

  view(t: Tensor, offset: number, shape: readonly number[]): Tensor {
    this.own(t, 'view');
    const n = checkShape('view', shape);
    const r = this.raw(t);
    if (!Number.isInteger(offset) || offset < 0 || offset + n > r.length) {
      throw new RangeError(`view: elements [${offset}, ${offset + n}) must lie within the tensor's ${r.length}`);
    }
    return this.wrap(r.subarray(offset, offset + n), shape);
  }

  fill(t: Tensor, value: number): void {
    this.own(t, 'fill');
    this.raw(t).fill(value);
  }

  copy(src: Tensor, dst: Tensor): void {
    this.own(src, 'copy');
    this.own(dst, 'copy');
    if (src.size !== dst.size || src.dtype !== dst.dtype)
      throw new RangeError(`copy: tensors must match, received ${src} and ${dst}`);
    this.raw(dst).set(this.raw(src));
  }

  clone(t: Tensor): Tensor {
    const c = this.alloc(t.dtype, t.shape);
    this.copy(t, c);
    return c;
  }

  free(t: Tensor): void {
    if (isTensor(t)) this.freedTensors.add(t); // host memory: the garbage collector frees it
  }

  rnnReserveSize(spec: RnnSpec): number {
    return this.k.rnnReserveSize(spec);
  }
  optimStateCount(kind: OptimizerKind): number {
    return this.k.optimStateCount(kind);
  }
  dropoutMask(a: { p: number; seed: number; mask: Tensor }): void {
    this.k.dropoutMask(a.p, a.seed, this.raw(a.mask) as HostArray);
  }
  l2Norm(a: { x: Tensor }): number {
    this.transfers.scalars++;
    return this.k.l2Norm(this.raw(a.x) as HostArray);
  }
}
// The op methods are installed by the constructor.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface HostMemoryDevice extends DeviceOps {}

/** The element count of a shape, refused by name unless it is non-negative integers below 2^32 elements. */
export function checkShape(what: string, shape: readonly number[]): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`${what}: shape must be an array of non-negative integers, received ${JSON.stringify(shape)}`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > 2 ** 32) throw new RangeError(`${what}: shape [${shape.join(',')}] has ${n} elements, more than 2^32`);
  return n;
}
