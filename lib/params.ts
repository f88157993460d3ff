// One flat parameter buffer and one flat gradient buffer with named views, in registration
// order, with PyTorch's names and shapes: a whole model updates in one optimizer call and its
// state dict maps one-to-one onto torch's.
import type { DType } from './backend';
import { cellParameterShapes } from './cells/table';
import type { HostArray, RnnSpec } from './native';

export interface ParamEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export class FlatParameters {
  readonly dtype: DType;
  private readonly entries: ParamEntry[] = [];
  private readonly byName = new Map<string, ParamEntry>();
  private total = 0;
  private data?: HostArray;
  private grad?: HostArray;

  constructor(dtype: DType = 'float32') {
    if (dtype !== 'float32' && dtype !== 'float64') {
      throw new TypeError(`FlatParameters: dtype must be one of 'float32' 'float64', received ${String(dtype)}`);
    }
    this.dtype = dtype;
  }

  /** Registers a parameter; allowed until the buffers are first used. */
  add(name: string, shape: number[]): void {
    if (this.data) throw new Error(`FlatParameters.add: buffers already allocated, cannot add '${name}'`);
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(`FlatParameters.add: name must be a non-empty string, received ${String(name)}`);
    if (this.byName.has(name)) throw new RangeError(`FlatParameters.add: name must be unique, received '${name}' twice`);
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new RangeError(`FlatParameters.add: shape of '${name}' must be an array of positive integers, received ${JSON.stringify(shape)}`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const e: ParamEntry = { name, shape: shape.slice(), offset: this.total, size };
    this.entries.push(e);
    this.byName.set(name, e);
    this.total += size;
  }

  get size(): number { return this.total; }
  /** The flat parameter buffer (allocated, zero-filled, on first use). */
  get params(): HostArray { this.alloc(); return this.data!; }
  /** The flat gradient buffer, same layout. Kernels accumulate into it; zeroGrad() clears it. */
  get grads(): HostArray { this.alloc(); return this.grad!; }

  list(): readonly ParamEntry[] { return this.entries; }
  has(name: string): boolean { return this.byName.has(name); }
  /** View of one parameter inside the flat buffer (shares memory). */
  param(name: string): HostArray { const e = this.entry(name); return this.params.subarray(e.offset, e.offset + e.size); }
  /** View of one parameter's gradient inside the flat gradient buffer. */
  gradient(name: string): HostArray { const e = this.entry(name); return this.grads.subarray(e.offset, e.offset + e.size); }
  zeroGrad(): void { this.grads.fill(0); }

  private entry(name: string): ParamEntry {
    const e = this.byName.get(name);
    if (!e) throw new RangeError(`FlatParameters: no parameter named '${name}'; known: ${[...this.byName.keys()].join(', ')}`);
    return e;
  }
  private alloc() {
    if (this.data) return;
    const C = this.dtype === 'float32' ? Float32Array : Float64Array;
    this.data = new C(this.total);
    this.grad = new C(this.total);
  }
}

/** PyTorch's parameter names and shapes of an nn.RNN/LSTM/GRU (stacked, optionally bidirectional). */
export function recurrentParameterShapes(o: {
  cell: RnnSpec['cell']; inputSize: number; hiddenSize: number; numLayers?: number; bidirectional?: boolean; bias?: boolean;
}): Array<[string, number[]]> {
  const layers = o.numLayers ?? 1, dirs = o.bidirectional ? 2 : 1, H = o.hiddenSize;
  const out: Array<[string, number[]]> = [];
  for (let l = 0; l < layers; l++) {
    const inp = l === 0 ? o.inputSize : H * dirs;
    for (let d = 0; d < dirs; d++) out.push(...cellParameterShapes(o.cell, inp, H, { suffix: `_l${l}${d ? '_reverse' : ''}`, bias: o.bias }));
  }
  return out;
}

/** Every parameter as a checkpoint tensor named `param/<name>` (copies). */
export function parameterTensors(params: FlatParameters): Record<string, { data: HostArray; shape: number[] }> {
  const out: Record<string, { data: HostArray; shape: number[] }> = {};
  for (const e of params.list()) out[`param/${e.name}`] = { data: params.param(e.name).slice(), shape: e.shape.slice() };
  return out;
}

/** The `param/<name>` tensors of a checkpoint as a state dict; every parameter must be there. */
export function stateDictFromTensors(params: FlatParameters, tensors: Record<string, { data: ArrayLike<number> }>, source: string): Record<string, ArrayLike<number>> {
  const sd: Record<string, ArrayLike<number>> = {};
  for (const e of params.list()) {
    const t = tensors[`param/${e.name}`];
    if (!t) throw new Error(`rnnkit model ${source}: missing parameter ${e.name}`);
    sd[e.name] = t.data;
  }
  return sd;
}
