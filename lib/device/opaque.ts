// The test device: its tensors are handles into memory outside the JavaScript heap that no
// code above the device can reach (Tensor.handle is a token; the memory sits in a private
// map), and it counts every host transfer. Models, layers and the trainer run on it unchanged,
// which proves they never index a tensor; the transfer counts are the contract the CUDA device
// is held to (one training step: the batch in, a few scalars out, nothing per timestep).
import { loadNative } from '../native';
import { Device, HostMemoryDevice, zeroTransfers } from './device';
import { HostData, hostArrayOf, Tensor, TensorDType } from './tensor';

const CTOR = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array } as const;

export class OpaqueDevice extends HostMemoryDevice implements Device {
  readonly name = 'opaque';
  private readonly memoryOf = new WeakMap<object, HostData>();

  protected raw(t: Tensor): HostData {
    const m = t.handle !== null && typeof t.handle === 'object' ? this.memoryOf.get(t.handle) : undefined;
    if (!m) throw new TypeError(`opaque: expected a tensor of device 'opaque', received ${String(t)}`);
    return m;
  }
  protected wrap(a: HostData, shape: readonly number[]): Tensor {
    const token = Object.freeze({});
    this.memoryOf.set(token, a);
    const dtype = (Object.keys(CTOR) as TensorDType[]).find((k) => a instanceof CTOR[k])!;
    return guard(new Tensor(dtype, shape.slice(), 'opaque', token));
  }
  protected memory(dtype: TensorDType, n: number): HostData {
    if (n === 0) return hostArrayOf(dtype, 0);
    const bytes = n * CTOR[dtype].BYTES_PER_ELEMENT;
    let buf: ArrayBuffer;
    try {
      buf = loadNative().allocExternal({ bytes });
    } catch {
      buf = new ArrayBuffer(bytes); // runtimes without external buffers (Electron) still run the tests
    }
    return new CTOR[dtype](buf);
  }
  protected adopt(data: HostData, shape: readonly number[]): Tensor {
    const m = this.memory(
      data instanceof Float32Array
        ? 'float32'
        : data instanceof Float64Array
          ? 'float64'
          : data instanceof Int32Array
            ? 'int32'
            : 'uint8',
      data.length,
    );
    m.set(data);
    return this.wrap(m, shape);
  }
  protected export(r: HostData): HostData {
    return r.slice();
  }

  /** Forgets the tensor's memory at once (any later use of it throws). */
  override free(t: Tensor): void {
    super.free(t);
    if (t.handle !== null && typeof t.handle === 'object') this.memoryOf.delete(t.handle);
  }

  /** Zeroes the transfer counters. */
  resetTransfers(): void {
    Object.assign(this.transfers, zeroTransfers());
  }
}

/** Any attempt to read a tensor's elements from JavaScript throws. */
function guard(t: Tensor): Tensor {
  return new Proxy(t, {
    get(target, key, receiver) {
      if (typeof key === 'string' && (key === 'data' || key === 'length' || /^\d+$/.test(key))) {
        throw new TypeError(
          `opaque tensor: its elements live on the device; copy them out with device.toHost (tried to read '${key}')`,
        );
      }
      return Reflect.get(target, key, receiver);
    },
    set() {
      throw new TypeError('opaque tensor: tensors are immutable handles');
    },
  });
}

/** A new opaque device (each with its own counters). */
export function opaqueDevice(): OpaqueDevice {
  return new OpaqueDevice();
}
