// The opaque tensor: a dtype, a shape and a device; only the device that made it can read or
// write its memory. Code above the device (layers, losses, the trainer) passes tensors to
// device ops and never indexes their elements; user data enters and results leave through
// device.fromHost / device.toHost at the API edge (docs/engine.md, "The tensor contract").

export type TensorDType = 'float32' | 'float64' | 'int32' | 'uint8';
export const TENSOR_DTYPES: readonly TensorDType[] = ['float32', 'float64', 'int32', 'uint8'];
export type HostData = Float32Array | Float64Array | Int32Array | Uint8Array;

export class Tensor {
  /** Elements (the product of the shape). */
  readonly size: number;
  /** @internal Owned by the device: a typed array on the CPU, a token elsewhere. */
  readonly handle: unknown;

  constructor(
    readonly dtype: TensorDType,
    readonly shape: readonly number[],
    readonly device: string,
    handle: unknown,
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
    this.handle = handle;
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(',')}], ${this.device})`;
  }
}

export function isTensor(v: unknown): v is Tensor {
  return v instanceof Tensor;
}

/** A typed array of `dtype`: n zeros, or a view of all of an existing buffer. */
export function hostArrayOf(dtype: TensorDType, n: number | ArrayBuffer): HostData {
  // the constructors take either; the overloads differ only in TypeScript
  const arg = n as number;
  switch (dtype) {
    case 'float32':
      return new Float32Array(arg);
    case 'float64':
      return new Float64Array(arg);
    case 'int32':
      return new Int32Array(arg);
    case 'uint8':
      return new Uint8Array(arg);
    default:
      throw new TypeError(
        `tensor: dtype must be one of 'float32' 'float64' 'int32' 'uint8', received ${String(dtype)}`,
      );
  }
}

export function dtypeOf(a: HostData): TensorDType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'uint8';
  throw new TypeError(
    `fromHost: data must be a Float32Array, Float64Array, Int32Array or Uint8Array, received ${Object.prototype.toString.call(a)}`,
  );
}
