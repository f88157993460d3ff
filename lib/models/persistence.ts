// Model files of the sequence models: the registry of model classes a file names, and the
// rebuild of a model (architecture from its options, then weights and training state), every
// field of the file checked on the way (file-checks.ts).
import type { Device } from '../device/device';
import type { SequenceModel } from './base';
import { checkResolved, ModelFile, withoutInit } from './file-checks';

export const MODEL_FORMAT = 'rnnkit-model';
/** The fields of a sequence model file's metadata. */
export const MODEL_META_KEYS = ['format', 'version', 'type', 'options', 'training'];

/** Registry of model classes for load(). */
const registry = new Map<string, (options: unknown, device?: Device) => SequenceModel>();
export function registerModel(type: string, make: (options: unknown, device?: Device) => SequenceModel): void {
  registry.set(type, make);
}

/** @internal The metadata object of a model file of the given type (null: any registered type). */
export function modelMeta(file: ModelFile, keys: string[], type: string | null): Record<string, unknown> {
  const meta = file.record(file.cp.meta, 'meta');
  if (meta.format !== MODEL_FORMAT) file.fail(`not an rnnkit model file (format ${JSON.stringify(meta.format)})`);
  if (type !== null && meta.type !== type) {
    const loader = typeof meta.type === 'string' && OWN_LOADERS.includes(meta.type) ? meta.type : 'SequenceModel';
    file.fail(
      `not a ${type} file (type ${JSON.stringify(meta.type)})` +
        (typeof meta.type === 'string' ? `: load it with ${loader}.load` : ''),
    );
  }
  if (Object.hasOwn(meta, 'learner') && !keys.includes('learner'))
    file.fail('this file holds an OnlineLearner (model and learner state): load it with OnlineLearner.load');
  // the models with loaders of their own: name the loader rather than a field it would read
  if (type === null && typeof meta.type === 'string' && OWN_LOADERS.includes(meta.type))
    file.fail(`this file holds a ${meta.type} model: load it with ${meta.type}.load`);
  file.object(meta, 'meta', keys);
  if (meta.version !== 1) throw file.error('meta.version', '1', meta.version);
  return meta;
}

const OWN_LOADERS = ['LanguageModel', 'Seq2Seq', 'NARX'];

/** @internal Rebuilds a model from a model file; the caller calls file.done() once it has read all it reads. */
export function restore(
  file: ModelFile,
  device?: Device,
  keys = MODEL_META_KEYS,
  type: string | null = null,
): SequenceModel {
  const meta = modelMeta(file, keys, type);
  const make = typeof meta.type === 'string' ? registry.get(meta.type) : undefined;
  if (!make) file.fail(`unknown model type ${JSON.stringify(meta.type)}; known: ${[...registry.keys()].join(', ')}`);
  const options = file.record(meta.options, 'options');
  // The registry's makers add the device themselves: one in the file would be dropped unseen.
  if (Object.hasOwn(options, 'device')) file.fail("options has unexpected field 'device' (not stored in model files)");
  const m = file.validated('options', () => withoutInit(() => make(options, device)));
  try {
    checkResolved(file, options, m.config);
    m.restoreTraining(file, meta.training);
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}
