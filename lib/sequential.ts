// A container that chains layers; owns the model's flat parameter buffer. Gradients of a scalar
// loss: run forward in training mode, then backward with dLoss/dOutput; parameter gradients
// accumulate in params.grads and the gradient w.r.t. the input is returned.
import type { DType } from './backend';
import type { Device } from './device/device';
import type { Gen } from './exec';
import type { HostArray } from './native';
import { FlatParameters } from './params';
import type { Rng } from './rng';
import { Layer } from './layers/layer';
import type { Act, ActShape, Ctx } from './layers/layer';

export class Sequential {
  readonly layers: Layer[];
  readonly params: FlatParameters;
  private built: ActShape | null = null;
  private inputShape: ActShape | null = null;
  private outputs: ActShape[] = [];

  /**
   * Layers are named by their index ('0', '1', …) unless given as [name, layer] pairs. Several
   * containers may share one parameter buffer (`params`), e.g. an encoder and a decoder.
   */
  constructor(
    layers: Array<Layer | [string, Layer]>,
    dtype: DType = 'float32',
    params?: FlatParameters,
    device?: Device,
  ) {
    if (!Array.isArray(layers))
      throw new TypeError(`Sequential: layers must be an array of layers, received ${shown(layers)}`);
    if (params && params.dtype !== dtype)
      throw new TypeError(`Sequential: shared params are ${params.dtype}, received dtype ${dtype}`);
    this.params = params ?? new FlatParameters(dtype, device);
    const what = 'a Layer (new LSTM(…), new Linear(…), …) or a [name, layer] pair';
    this.layers = Array.from({ length: layers.length }, (_, i) => {
      const e: unknown = layers[i]; // a hole reads as undefined and is refused below
      const pair = Array.isArray(e);
      const [name, layer] = pair ? (e as unknown[]) : [String(i), e];
      if (!(layer instanceof Layer))
        throw new TypeError(`Sequential: layers[${i}] must be ${what}, received ${shown(pair ? e : layer)}`);
      if (typeof name !== 'string' || name.length === 0)
        throw new TypeError(`Sequential: the name of layers[${i}] must be a non-empty string, received ${shown(name)}`);
      layer.name = name;
      return layer;
    });
    const names = new Set<string>();
    for (const l of this.layers) {
      if (names.has(l.name)) throw new RangeError(`Sequential: layer names must be unique, received '${l.name}' twice`);
      names.add(l.name);
    }
  }

  get dtype(): DType {
    return this.params.dtype;
  }
  get isBuilt(): boolean {
    return this.built !== null;
  }
  get input(): ActShape | null {
    return this.inputShape;
  }
  get output(): ActShape | null {
    return this.built;
  }
  /** The output shape of every layer, in order (empty before build). */
  get layerOutputs(): readonly ActShape[] {
    return this.outputs;
  }

  /**
   * Registers every layer's parameters for the given input and returns the output shape.
   * inputGrad: whether backward returns the gradient w.r.t. the model's input (default false).
   */
  build(input: ActShape, inputGrad = false): ActShape {
    if (this.built) throw new Error('Sequential.build: already built');
    this.layers.forEach((l, i) => {
      l.needsInputGrad = i > 0 || inputGrad;
    });
    let s = input;
    for (const l of this.layers) this.outputs.push((s = l.build(s, this.params)));
    this.inputShape = input;
    this.built = s;
    return s;
  }

  initialize(rng: Rng): void {
    for (const l of this.layers) l.initialize(this.params, rng);
  }

  *forward(x: Act, ctx: Ctx): Gen<Act> {
    if (!this.built) throw new Error('Sequential.forward: build the model first');
    let a = x;
    for (const l of this.layers) a = yield* l.forward(a, ctx, this.params);
    return a;
  }

  /** Backward through every layer; returns the gradient w.r.t. the input (null for token ids). */
  *backward(dy: Act, ctx: Ctx): Gen<Act | null> {
    let g: Act | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      if (!g) throw new Error(`Sequential.backward: layer ${this.layers[i].name} received no gradient`);
      g = yield* this.layers[i].backward(g, ctx, this.params);
    }
    return g;
  }

  /** Names (PyTorch style), shapes and host values of every parameter and its gradient (views on the CPU device). */
  parameters(): Array<{ name: string; shape: number[]; data: HostArray; grad: HostArray }> {
    return parameterViews(this.params);
  }

  /** Copies of every parameter, by name, as plain typed arrays (torch's state_dict). */
  stateDict(): Record<string, HostArray> {
    return stateDictOf(this.params);
  }

  /** Loads named arrays (e.g. exported from PyTorch); every name and size must match. */
  loadStateDict(sd: Record<string, ArrayLike<number>>, strict = true): void {
    loadStateDictInto(this.params, sd, strict);
  }
}

export function parameterViews(
  params: FlatParameters,
): Array<{ name: string; shape: number[]; data: HostArray; grad: HostArray }> {
  const p = params.hostParams(),
    g = params.hostGrads();
  return params.list().map((e) => ({
    name: e.name,
    shape: e.shape.slice(),
    data: p.subarray(e.offset, e.offset + e.size),
    grad: g.subarray(e.offset, e.offset + e.size),
  }));
}

export function stateDictOf(params: FlatParameters): Record<string, HostArray> {
  const out: Record<string, HostArray> = {};
  const p = params.hostParams();
  for (const e of params.list()) out[e.name] = p.slice(e.offset, e.offset + e.size);
  return out;
}

export function loadStateDictInto(params: FlatParameters, sd: Record<string, ArrayLike<number>>, strict = true): void {
  if (sd === null || typeof sd !== 'object')
    throw new TypeError(
      `loadStateDict: expected an object of named arrays, received ${sd === null ? 'null' : typeof sd}`,
    );
  const known = new Set(params.list().map((e) => e.name));
  if (strict) {
    const unexpected = Object.keys(sd).filter((k) => !known.has(k));
    const missing = [...known].filter((k) => !(k in sd));
    if (unexpected.length || missing.length) {
      throw new RangeError(
        `loadStateDict: names must match the model's parameters; missing: [${missing.join(', ')}], unexpected: [${unexpected.join(', ')}]`,
      );
    }
  }
  for (const e of params.list()) {
    const v = sd[e.name];
    if (v === undefined) continue;
    if (!v || typeof v.length !== 'number')
      throw new TypeError(`loadStateDict: ${e.name} must be an array of ${e.size} numbers, received ${typeof v}`);
    if (v.length !== e.size)
      throw new RangeError(
        `loadStateDict: ${e.name} must have ${e.size} elements (shape [${e.shape.join(',')}]), received ${v.length}`,
      );
    for (let i = 0; i < v.length; i++)
      if (!Number.isFinite(v[i]))
        throw new RangeError(`loadStateDict: ${e.name}[${i}] must be a finite number, received ${v[i]}`);
  }
  for (const e of params.list()) if (sd[e.name] !== undefined) params.setParam(e.name, sd[e.name]);
}

function shown(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an Array of length ${v.length}`;
  if (typeof v === 'string') return `string "${v}"`;
  if (typeof v === 'number') return `number ${v}`;
  if (typeof v === 'object') return `an object (${Object.getPrototypeOf(v)?.constructor?.name ?? 'no prototype'})`;
  return typeof v;
}
