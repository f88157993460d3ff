// One place that decides how a layer is rebuilt (as tfjs-layers' registerClass/fromConfig):
// every layer class is registered under its `type`, and a layer's `config` (its resolved
// options) is all a model file stores to build it again. The user's own layers register the
// same way and can then be fit, saved and loaded inside a Model.
import type { Layer } from '../layers/layer';

type Maker = (config: Record<string, unknown>) => Layer;
const makers = new Map<string, Maker>();

/** Registers a layer class: `make` builds it from the config a layer of that type reports. */
export function registerLayer(type: string, make: Maker): void {
  if (typeof type !== 'string' || type.length === 0)
    throw new TypeError(`registerLayer: type must be a non-empty string, received ${String(type)}`);
  if (typeof make !== 'function')
    throw new TypeError(`registerLayer: make must be a function, received ${typeof make}`);
  makers.set(type, make);
}

/** The registered layer types. */
export function registeredLayers(): string[] {
  return [...makers.keys()];
}

/** What a model file stores of one layer. */
export interface LayerSpec {
  type: string;
  name: string;
  config: Record<string, unknown>;
}

export function layerSpec(l: Layer): LayerSpec {
  if (!makers.has(l.type))
    throw new RangeError(
      `layer '${l.name}' of type '${l.type}' is not registered; call registerLayer('${l.type}', (config) => new ...(config)) so it can be saved and loaded`,
    );
  return { type: l.type, name: l.name, config: JSON.parse(JSON.stringify(l.config)) };
}

/** Rebuilds a layer from its spec (the type must be registered). */
export function layerFromSpec(s: LayerSpec, where = 'layerFromSpec'): Layer {
  if (!s || typeof s !== 'object' || typeof s.type !== 'string')
    throw new TypeError(`${where}: a layer must be { type, name, config }, received ${JSON.stringify(s)}`);
  const make = makers.get(s.type);
  if (!make)
    throw new RangeError(
      `${where}: unknown layer type '${s.type}'; registered: ${registeredLayers().join(', ')} (register your own with registerLayer)`,
    );
  const l = make(s.config ?? {});
  if (l.type !== s.type) throw new TypeError(`${where}: the maker of '${s.type}' built a layer of type '${l.type}'`);
  return l;
}
