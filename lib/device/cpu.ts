// The CPU device: a tensor wraps a typed array, which the kernels read and write in place, so
// going through tensors costs nothing over calling the kernels on arrays.
import type { Backend } from '../backend';
import type { DecoderPlanArgs, HostArray } from '../native';
import { Device, DEVICE_OPS, HostMemoryDevice } from './device';
import { HostData, hostArrayOf, Tensor, TensorDType } from './tensor';
import { bytesPerElement } from '../memory';
import { loadNative } from '../native';

/** A decoding call's fused decoder step (CpuDevice.fusedDecoder): one native call per step. */
export interface FusedDecoder {
  /**
   * R rows: row r feeds ids[r] and continues row parents[r] of the previous step (withParents
   * false: its own row); enc, keys and lengths are the rows' encoder columns (null without attention).
   */
  step(R: number, withParents: boolean, enc: Tensor | null, keys: Tensor | null, lengths: Tensor | null): void;
}

export class CpuDevice extends HostMemoryDevice implements Device {
  readonly name = 'cpu';
  override readonly capabilities = { online: true };

  constructor() {
    super();
    // A CPU tensor's handle is its typed array, which the binding reads itself (tensor_memory in
    // native/binding/args.cpp): argument objects go to the kernels unchanged, nothing is copied.
    const self = this as unknown as Record<string, unknown>;
    const kernels = this.k as unknown as Record<string, (a: unknown) => unknown>;
    for (const name of DEVICE_OPS) self[name] = kernels[name];
  }

  protected raw(t: Tensor): HostData {
    return t.handle as HostData;
  }
  protected wrap(a: HostData, shape: readonly number[]): Tensor {
    return new Tensor(dtypeName(a), shape.slice(), 'cpu', a);
  }
  /**
   * Native blocks when the runtime allows external buffers: an async job then uses a tensor in
   * place (it holds the block), where plain JavaScript memory is copied for the job's duration.
   */
  protected memory(dtype: TensorDType, n: number): HostData {
    externalBuffers ??= loadNative().backendInfo().externalBuffers;
    if (n === 0 || !externalBuffers) return hostArrayOf(dtype, n);
    let buf: ArrayBuffer;
    try {
      buf = loadNative().allocExternal({ bytes: n * bytesPerElement(dtype) });
    } catch (e) {
      if (e instanceof RangeError) throw e; // out of memory: HostMemoryDevice.alloc names the tensor
      externalBuffers = false; // Electron's V8 sandbox refuses external buffers
      return hostArrayOf(dtype, n);
    }
    return hostArrayOf(dtype, buf);
  }
  protected adopt(data: HostData, shape: readonly number[]): Tensor {
    return this.wrap(data, shape);
  }
  protected export(r: HostData): HostData {
    return r;
  }

  /**
   * The typed array behind a CPU tensor, for the code that runs on host memory by design: the
   * online algorithms (capabilities.online) and the kernels' own tests.
   */
  hostMemory(t: Tensor): HostData {
    this.own(t, 'hostMemory');
    return t.handle as HostData;
  }
  /**
   * The fused decoder step over these buffers, or null where it does not run: tensors over plain
   * JavaScript memory (the plan must hold every buffer's memory between steps), or
   * RNNKIT_FUSED_DECODER=off (read per decoding call, for A/B runs).
   */
  fusedDecoder(a: DecoderPlanArgs<Tensor>): FusedDecoder | null {
    if (process.env.RNNKIT_FUSED_DECODER === 'off') return null;
    externalBuffers ??= loadNative().backendInfo().externalBuffers;
    if (!externalBuffers) return null;
    const n = loadNative();
    const raw = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(raw) : v instanceof Tensor ? (this.own(v, 'fusedDecoder'), v.handle) : v;
    const args: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(a)) args[key] = raw(v);
    let plan;
    try {
      plan = n.decoderPlan(args as unknown as DecoderPlanArgs);
    } catch (e) {
      // a buffer over plain JavaScript memory (allocated before external buffers were refused)
      if (e instanceof TypeError && /memory rnnkit allocated/.test(e.message)) return null;
      throw e;
    }
    const h = (t: Tensor | null) => (t ? (this.own(t, 'fusedDecoder'), t.handle) : null);
    return {
      step: (R, withParents, enc, keys, lengths) => n.decoderStep(plan, R, withParents, h(enc), h(keys), h(lengths)),
    };
  }

  /** The kernels this device runs (host arrays in and out). */
  get kernels(): Backend<HostArray> {
    return this.k;
  }
}

function dtypeName(a: HostData): TensorDType {
  return a instanceof Float32Array
    ? 'float32'
    : a instanceof Float64Array
      ? 'float64'
      : a instanceof Int32Array
        ? 'int32'
        : 'uint8';
}

/** Whether the addon may create external buffers (read once; false after a refusal). */
let externalBuffers: boolean | undefined;

let instance: CpuDevice | undefined;
/** The process-wide CPU device (the default of every model). */
export function cpuDevice(): CpuDevice {
  if (!instance) instance = new CpuDevice();
  return instance;
}
