// Model files of the sequence models: the registry of model classes a file names, and the
// rebuild of a model (architecture from its options, then weights and training state).
import type { Checkpoint } from '../checkpoint';
import type { Device } from '../device/device';
import type { SequenceModel } from './base';

export const MODEL_FORMAT = 'rnnkit-model';

/** Registry of model classes for load(). */
const registry = new Map<string, (options: unknown, device?: Device) => SequenceModel>();
export function registerModel(type: string, make: (options: unknown, device?: Device) => SequenceModel): void {
  registry.set(type, make);
}

/** @internal Rebuilds a model from a decoded model file. */
export function restore(cp: Checkpoint, path: string, device?: Device): SequenceModel {
  const meta = cp.meta as { format?: string; type?: string; options?: unknown };
  if (!meta || meta.format !== MODEL_FORMAT)
    throw new Error(`rnnkit model ${path}: not an rnnkit model file (format ${JSON.stringify(meta?.format)})`);
  const make = registry.get(String(meta.type));
  if (!make)
    throw new Error(
      `rnnkit model ${path}: unknown model type ${JSON.stringify(meta.type)}; known: ${[...registry.keys()].join(', ')}`,
    );
  const m = make(meta.options, device);
  m.restoreTraining(cp, path);
  return m;
}
