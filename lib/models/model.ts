// A model from any Sequential of registered layers, the user's own included: the same fit,
// evaluate, predict, save and load as the ready models. Its layers are stored as
// { type, name, config } and rebuilt through the layer registry on load.
import type { Device } from '../device/device';
import type { DeviceOption } from '../device/default';
import { layerFromSpec, layerSpec } from '../graph/registry';
import type { LayerSpec } from '../graph/registry';
import type { ActShape, Layer } from '../layers/layer';
import { TimePooling } from '../layers/pooling';
import { Recurrent } from '../layers/recurrent';
import { optionsObject, resolveOptions } from '../options';
import type { FieldSpec } from '../options';
import { Sequential } from '../sequential';
import type { DataSpec } from '../train/data';
import { checkClasses } from './labels';
import { loadModelOf, loadModelOfSync, SequenceModel } from './base';
import { registerModel } from './persistence';
import '../layers/builtin';

export interface ModelOptions {
  /** The layers, in order; names default to their index ('0', '1', …). Required. */
  layers: Array<Layer | [string, Layer]>;
  /** Features per step of the input; give this or vocabSize. */
  inputSize?: number | null;
  /** Token-id inputs (the first layer is then an Embedding). */
  vocabSize?: number | null;
  /** 'classification' (softmax cross-entropy, default), 'regression' (MSE) or 'multilabel'. */
  task?: 'classification' | 'regression' | 'multilabel';
  seed?: number;
  dtype?: 'float32' | 'float64';
  /** Where tensors live and ops run (default: the default device). Not stored in model files. */
  device?: DeviceOption;
  /** Label names of the classes (classification), one per output of the network; saved with the model. */
  classes?: readonly string[] | null;
}

const MODEL_OPTIONS: Record<string, FieldSpec> = {
  inputSize: { type: 'int', min: 1, default: null, nullable: true, doc: 'features per step' },
  vocabSize: { type: 'int', min: 1, default: null, nullable: true, doc: 'vocabulary size for token ids' },
  task: {
    type: 'enum',
    values: ['classification', 'regression', 'multilabel'],
    default: 'classification',
    doc: 'loss and outputs',
  },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, default: 0, doc: 'seed' },
  dtype: { type: 'enum', values: ['float32', 'float64'], default: 'float32', doc: 'element type' },
};

type Resolved = {
  inputSize: number | null;
  vocabSize: number | null;
  task: 'classification' | 'regression' | 'multilabel';
  seed: number;
  dtype: 'float32' | 'float64';
  layers: LayerSpec[];
  /** Present only when given. */
  classes?: string[];
};

/**
 * Sequence → vector when the network's output is one vector per sequence (a recurrent layer
 * with returnSequences false, or pooling), sequence → sequence when it is one vector per step.
 */
export class Model extends SequenceModel {
  readonly type = 'Model';
  /** The resolved options with every layer as { type, name, config } (what a model file stores). */
  readonly config: Resolved;
  protected readonly net: Sequential;
  protected readonly spec: DataSpec;
  protected readonly recurrent: Layer[];

  constructor(options: ModelOptions) {
    if (options === undefined) throw new TypeError('Model: options must be an object with layers, received undefined');
    optionsObject('Model', options);
    const { layers, device, classes, ...rest } = options;
    super(device, 'Model');
    if (!Array.isArray(layers) || layers.length === 0)
      throw new TypeError('Model: layers must be a non-empty array of layers');
    const c = resolveOptions<Omit<Resolved, 'layers'>>('Model', MODEL_OPTIONS, rest);
    if ((c.inputSize === null) === (c.vocabSize === null))
      throw new RangeError('Model: give exactly one of inputSize (feature inputs) and vocabSize (token ids)');
    this.net = new Sequential(layers, c.dtype, undefined, this.device);
    const input: ActShape = c.vocabSize !== null ? { kind: 'ids', F: c.vocabSize } : { kind: 'seq', F: c.inputSize! };
    const out = this.net.build(input);
    if (out.kind === 'ids') throw new TypeError('Model: the network must end in features, not token ids');
    const k = checkClasses('Model', classes, c.task, out.F);
    this.config = {
      ...c,
      ...(k ? { classes: k } : {}),
      layers: this.net.layers.map((l) => ({
        type: l.type,
        name: l.name,
        config: JSON.parse(JSON.stringify(l.config)),
      })),
    };
    this.spec = {
      input: c.vocabSize !== null ? { kind: 'ids', vocab: c.vocabSize } : { kind: 'features', F: c.inputSize! },
      task: c.task,
      outSize: out.F,
      level: out.kind === 'vec' ? 'sequence' : 'step',
    };
    this.recurrent = this.net.layers.filter((l) => l instanceof Recurrent);
    this.ready();
  }

  /** @internal Saving needs every layer's type registered (load rebuilds them from the registry). */
  override checkpoint() {
    this.net.layers.forEach(layerSpec);
    return super.checkpoint();
  }

  protected override needsWholeSequence(): boolean {
    return this.net.layers.some((l) => l instanceof TimePooling && l.config.mode !== 'last');
  }

  protected override checkOnline(what: string, learning: string): void {
    throw new RangeError(
      `${what}: learning '${learning}' is for the ready models (SequenceTagger, SequenceClassifier); a Model trains by BPTT`,
    );
  }

  /** Loads a Model file (layers rebuilt from the registry); a file of another model type is refused. */
  static override async load(path: string, options: { device?: DeviceOption } = {}): Promise<Model> {
    return (await loadModelOf('Model', path, options)) as Model;
  }
  static override loadSync(path: string, options: { device?: DeviceOption } = {}): Model {
    return loadModelOfSync('Model', path, options) as Model;
  }

  /** Rebuilds a model from its stored options (the layer specs go through the registry). */
  static fromConfig(options: Resolved, device?: Device): Model {
    const specs = options?.layers;
    if (!Array.isArray(specs))
      throw new TypeError('Model.fromConfig: layers must be an array of { type, name, config }');
    const layers = specs.map((s, i) => [s.name ?? String(i), layerFromSpec(s, 'Model.fromConfig')] as [string, Layer]);
    const { layers: _omit, ...rest } = options as Resolved & { classes?: string[] };
    return new Model({ ...rest, layers, device });
  }
}

registerModel('Model', (o, device) => Model.fromConfig(o as Resolved, device));
