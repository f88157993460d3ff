// One flat parameter buffer and one flat gradient buffer with named views, in registration
// order, with PyTorch's names and shapes: a whole model updates in one optimizer call and its
// state dict maps one-to-one onto torch's.
import type { DType } from './backend';
import { cellParameterShapes } from './cells/table';
import { defaultDevice } from './device/default';
import { bytesPerElement, guardBytes, optionsOfDims } from './memory';
import type { Device } from './device/device';
import type { Tensor } from './device/tensor';
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
  private data?: Tensor;
  private grad?: Tensor;
  private readonly views = new Map<string, { p: Tensor; g: Tensor }>();

  constructor(
    dtype: DType = 'float32',
    readonly device: Device = defaultDevice(),
  ) {
    if (dtype !== 'float32' && dtype !== 'float64') {
      throw new TypeError(`FlatParameters: dtype must be one of 'float32' 'float64', received ${String(dtype)}`);
    }
    this.dtype = dtype;
  }

  /** Registers a parameter; allowed until the buffers are first used. */
  add(name: string, shape: number[]): void {
    if (this.data) throw new Error(`FlatParameters.add: buffers already allocated, cannot add '${name}'`);
    if (typeof name !== 'string' || name.length === 0)
      throw new TypeError(`FlatParameters.add: name must be a non-empty string, received ${String(name)}`);
    if (this.byName.has(name))
      throw new RangeError(`FlatParameters.add: name must be unique, received '${name}' twice`);
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new RangeError(
        `FlatParameters.add: shape of '${name}' must be an array of positive integers, received ${JSON.stringify(shape)}`,
      );
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const e: ParamEntry = { name, shape: shape.slice(), offset: this.total, size };
    this.entries.push(e);
    this.byName.set(name, e);
    this.total += size;
  }

  get size(): number {
    return this.total;
  }
  /** The flat parameter tensor (allocated, zero-filled, on first use). */
  get params(): Tensor {
    this.alloc();
    return this.data!;
  }
  /** The flat gradient tensor, same layout. Kernels accumulate into it; zeroGrad() clears it. */
  get grads(): Tensor {
    this.alloc();
    return this.grad!;
  }

  list(): readonly ParamEntry[] {
    return this.entries;
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  /** View of one parameter inside the flat tensor (shares memory). */
  param(name: string): Tensor {
    return this.viewsOf(name).p;
  }
  /** View of one parameter's gradient inside the flat gradient tensor. */
  gradient(name: string): Tensor {
    return this.viewsOf(name).g;
  }
  zeroGrad(): void {
    this.device.fill(this.grads, 0);
  }

  /** Host values of every parameter, flat (the CPU device's own array; a copy elsewhere). */
  hostParams(): HostArray {
    return this.device.toHostSync(this.params) as HostArray;
  }
  /** Host values of the flat gradient (the CPU device's own array; a copy elsewhere). */
  hostGrads(): HostArray {
    return this.device.toHostSync(this.grads) as HostArray;
  }
  /** Host copy of one parameter. */
  hostParam(name: string): HostArray {
    return (this.device.toHostSync(this.param(name)) as HostArray).slice();
  }
  /** Writes host values into one parameter (weights in: initialization, state dicts, checkpoints). */
  setParam(name: string, values: ArrayLike<number>): void {
    this.device.write(this.param(name), values);
  }
  /** Writes host values into the whole flat parameter tensor. */
  setHostParams(values: ArrayLike<number>): void {
    this.device.write(this.params, values);
  }
  /**
   * Initializes one parameter on the host: fn fills a zeroed host array of its size (the
   * initializers are host code), which is then written to the device.
   */
  init(name: string, fn: (w: HostArray) => void): void {
    const e = this.entry(name);
    this.alloc(); // the size guard runs before the host copy below is made
    const w = this.dtype === 'float64' ? new Float64Array(e.size) : new Float32Array(e.size);
    fn(w);
    this.setParam(name, w);
  }

  /** Frees the parameter and gradient tensors (the buffer cannot be used afterwards). */
  free(): void {
    for (const v of this.views.values()) {
      this.device.free(v.p);
      this.device.free(v.g);
    }
    this.views.clear();
    if (this.data) this.device.free(this.data);
    if (this.grad) this.device.free(this.grad);
    this.freed = true;
  }
  private freed = false;

  private viewsOf(name: string): { p: Tensor; g: Tensor } {
    let v = this.views.get(name);
    if (!v) {
      const e = this.entry(name);
      v = { p: this.device.view(this.params, e.offset, e.shape), g: this.device.view(this.grads, e.offset, e.shape) };
      this.views.set(name, v);
    }
    return v;
  }
  private entry(name: string): ParamEntry {
    const e = this.byName.get(name);
    if (!e)
      throw new RangeError(
        `FlatParameters: no parameter named '${name}'; known: ${[...this.byName.keys()].join(', ')}`,
      );
    return e;
  }
  /** Who owns these parameters and with which options: size errors name them. */
  describe(owner: string, options: Record<string, unknown>): void {
    this.owner = { name: owner, options };
  }
  private owner: { name: string; options: Record<string, unknown> } | null = null;

  private alloc() {
    if (this.freed) throw new Error('FlatParameters: the buffer was freed (the model was disposed)');
    if (this.data) return;
    if (this.entries.length > 0) {
      const largest = this.entries.reduce((a, b) => (b.size > a.size ? b : a));
      const o = this.owner?.options;
      const named =
        layerOptionsOfDims(o, largest, true) ||
        optionsOfDims(o, largest.shape) ||
        layerOptionsOfDims(o, largest, false);
      guardBytes(
        `${this.owner?.name ?? 'FlatParameters'}${named ? ` ${named}` : ''}: ${this.total.toLocaleString('en-US')} ${this.dtype} ` +
          `parameters (largest: ${largest.name} [${largest.shape.join(',')}]) with their gradients`,
        2 * this.total * bytesPerElement(this.dtype),
        'choose smaller sizes',
      );
    }
    this.data = this.device.alloc(this.dtype, [this.total]);
    this.grad = this.device.alloc(this.dtype, [this.total]);
  }
}

/** For a Model: the options of the layer the parameter belongs to ("LSTM '0' hiddenSize 4096"). */
function layerOptionsOfDims(options: Record<string, unknown> | undefined, e: ParamEntry, ownerOnly: boolean): string {
  const layers = options?.layers;
  if (!Array.isArray(layers)) return '';
  const all = layers as Array<{ type?: unknown; name?: unknown; config?: unknown }>;
  // the layer that owns the tensor first; else the one whose output size feeds it (embeddingDim)
  const own = all.filter((l) => typeof l?.name === 'string' && e.name.startsWith(`${l.name}.`));
  for (const l of ownerOnly ? own : all) {
    const hit = optionsOfDims(l?.config as Record<string, unknown>, e.shape);
    if (hit) return `${String(l.type)} '${String(l.name)}' ${hit}`;
  }
  return '';
}

/** PyTorch's parameter names and shapes of an nn.RNN/LSTM/GRU (stacked, optionally bidirectional). */
export function recurrentParameterShapes(o: {
  cell: RnnSpec['cell'];
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bidirectional?: boolean;
  bias?: boolean;
}): Array<[string, number[]]> {
  if (o === null || typeof o !== 'object')
    throw new TypeError(
      `recurrentParameterShapes: expected { cell, inputSize, hiddenSize, numLayers?, bidirectional?, bias? }, received ${o === null ? 'null' : typeof o}`,
    );
  for (const k of ['inputSize', 'hiddenSize', 'numLayers'] as const) {
    const v = o[k];
    if ((v !== undefined || k !== 'numLayers') && !(Number.isSafeInteger(v) && (v as number) > 0))
      throw new RangeError(`recurrentParameterShapes: ${k} must be a positive integer, received ${String(v)}`);
  }
  const layers = o.numLayers ?? 1,
    dirs = o.bidirectional ? 2 : 1,
    H = o.hiddenSize;
  const out: Array<[string, number[]]> = [];
  for (let l = 0; l < layers; l++) {
    const inp = l === 0 ? o.inputSize : H * dirs;
    for (let d = 0; d < dirs; d++)
      out.push(...cellParameterShapes(o.cell, inp, H, { suffix: `_l${l}${d ? '_reverse' : ''}`, bias: o.bias }));
  }
  return out;
}

/** Every parameter as a checkpoint tensor named `param/<name>` (copies). */
export function parameterTensors(params: FlatParameters): Record<string, { data: HostArray; shape: number[] }> {
  const out: Record<string, { data: HostArray; shape: number[] }> = {};
  const all = params.hostParams();
  for (const e of params.list())
    out[`param/${e.name}`] = { data: all.slice(e.offset, e.offset + e.size), shape: e.shape.slice() };
  return out;
}

/** The `param/<name>` tensors of a checkpoint as a state dict; every parameter must be there. */
export function stateDictFromTensors(
  params: FlatParameters,
  tensors: Record<string, { data: ArrayLike<number> }>,
  source: string,
): Record<string, ArrayLike<number>> {
  const sd: Record<string, ArrayLike<number>> = {};
  for (const e of params.list()) {
    const t = tensors[`param/${e.name}`];
    if (!t) throw new Error(`rnnkit model ${source}: missing parameter ${e.name}`);
    sd[e.name] = t.data;
  }
  return sd;
}
