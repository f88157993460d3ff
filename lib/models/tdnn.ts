// A ready time-delay neural network: stacked TimeDelay layers (named layers.0, layers.1, … as in
// a PyTorch nn.ModuleList of Conv1d), optional dropout between them, and a linear head, either
// per sequence (pooling over time: mean, max or last) or per step (labelling, forecasting).
import type { DeviceOption } from '../device/default';
import { Dropout } from '../layers/dropout';
import type { ActShape, Layer } from '../layers/layer';
import { Linear } from '../layers/linear';
import { TimePooling } from '../layers/pooling';
import { resolveTimeDelay, TimeDelay } from '../layers/time-delay';
import type { TimeDelayOptions } from '../layers/time-delay';
import { FieldSpec, optionsObject, resolveOptions } from '../options';
import { Sequential } from '../sequential';
import type { DataSpec, SequenceInput } from '../train/data';
import type { LabeledTargets } from './labels';
import type { FitOptions, History } from '../train/fit-options';
import { resolveFit } from '../train/fit-options';
import { checkClasses } from './labels';
import { loadModelOf, loadModelOfSync, SequenceModel } from './base';
import { registerModel } from './persistence';

/** Options of a TDNN. */
export interface TDNNOptions {
  /** Features per step of the input. Required. */
  inputSize: number;
  /** The time-delay layers, first to last (each: units, delays or window/dilation, activation, bias, init). Required. */
  layers: TimeDelayOptions[];
  /** Classes (classification) or outputs (regression, multilabel). Required. */
  outputSize: number;
  /** 'classification' (softmax cross-entropy, default), 'regression' (MSE) or 'multilabel' (sigmoid BCE). */
  task?: 'classification' | 'regression' | 'multilabel';
  /** 'sequence' (one output per sequence, default) or 'step' (one per step: labelling, forecasting). */
  output?: 'sequence' | 'step';
  /** With output 'sequence': 'mean' (default), 'max' or 'last' valid step of the top layer. */
  pooling?: 'last' | 'mean' | 'max';
  /** Dropout after every time-delay layer but the last, while training (default 0). */
  dropout?: number;
  /** Seed of initialization, shuffling and dropout (default 0). */
  seed?: number;
  /** 'float32' (default) or 'float64' (gradient checks). */
  dtype?: 'float32' | 'float64';
  /** Where tensors live and ops run (default: the default device). Not stored in model files. */
  device?: DeviceOption;
  /** Label names of the classes (classification), one per output; saved with the model. */
  classes?: readonly string[] | null;
}

const TDNN_OPTIONS: Record<string, FieldSpec> = {
  inputSize: { type: 'int', min: 1, doc: 'features per step' },
  outputSize: { type: 'int', min: 1, doc: 'classes or outputs' },
  task: {
    type: 'enum',
    values: ['classification', 'regression', 'multilabel'],
    default: 'classification',
    doc: 'loss and outputs',
  },
  output: {
    type: 'enum',
    values: ['sequence', 'step'],
    default: 'sequence',
    doc: 'one output per sequence or per step',
  },
  pooling: { type: 'enum', values: ['last', 'mean', 'max'], default: 'mean', doc: 'pooling over time' },
  dropout: { type: 'number', min: 0, max: 0.999999, default: 0, doc: 'dropout between time-delay layers' },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, default: 0, doc: 'seed' },
  dtype: { type: 'enum', values: ['float32', 'float64'], default: 'float32', doc: 'element type' },
};

type Resolved = Required<Omit<TDNNOptions, 'device' | 'layers' | 'classes'>> & {
  layers: Array<Required<TimeDelayOptions>>;
  /** Present only when given. */
  classes?: string[];
};

/** Stacked time-delay layers and a linear head: sequence → class/vector, or a label/value per step. */
/** What predict returns for a TDNN's output: a row per sequence, or a row per step. */
export type TDNNPrediction<O extends 'sequence' | 'step'> = O extends 'step' ? number[][][] : number[][];

/**
 * A time-delay network. `O` is its `output` when the options name it (`new TDNN({ output: 'step', … })`
 * types predict as number[][][]); otherwise predict is typed as either.
 */
export class TDNN<O extends 'sequence' | 'step' = 'sequence' | 'step'> extends SequenceModel {
  readonly type = 'TDNN';
  readonly config: Resolved;
  protected readonly net: Sequential;
  protected readonly spec: DataSpec;
  protected readonly recurrent: Layer[] = [];

  constructor(options: TDNNOptions & { output?: O }) {
    if (options === undefined)
      throw new TypeError('TDNN: options must be an object with inputSize, layers and outputSize, received undefined');
    const { device, layers, classes, ...rest } = optionsObject('TDNN', options);
    super(device, 'TDNN');
    const c = resolveOptions<Omit<Resolved, 'layers'>>('TDNN', TDNN_OPTIONS, rest);
    if (!Array.isArray(layers) || layers.length === 0 || layers.length > 64)
      throw new TypeError(
        `TDNN: layers must be a non-empty array (at most 64) of time-delay layer options such as { units: 16, delays: [0, 1, 2] }, received ${
          Array.isArray(layers) ? 'an empty array' : layers === undefined ? 'undefined' : typeof layers
        }`,
      );
    const resolved = layers.map((l, i) => resolveTimeDelay(`TDNN: layers[${i}]`, l).config);
    const k = checkClasses('TDNN', classes, c.task, c.outputSize);
    this.config = { ...c, layers: resolved, ...(k ? { classes: k } : {}) };
    const named: Array<[string, Layer]> = [];
    resolved.forEach((l, i) => {
      named.push([`layers.${i}`, new TimeDelay(l)]);
      if (c.dropout > 0 && i < resolved.length - 1) named.push([`dropout.${i}`, new Dropout({ p: c.dropout })]);
    });
    if (c.output === 'sequence') named.push(['pool', new TimePooling({ mode: c.pooling })]);
    named.push(['head', new Linear({ outFeatures: c.outputSize })]);
    this.net = new Sequential(named, c.dtype, undefined, this.device);
    const input: ActShape = { kind: 'seq', F: c.inputSize };
    this.net.build(input);
    this.spec = {
      input: { kind: 'features', F: c.inputSize },
      task: c.task,
      outSize: c.outputSize,
      level: c.output === 'sequence' ? 'sequence' : 'step',
    };
    this.ready();
  }

  /** The time-delay layers, first to last. */
  get timeDelayLayers(): TimeDelay[] {
    return this.net.layers.filter((l): l is TimeDelay => l instanceof TimeDelay);
  }

  /**
   * fit as the other models; truncated BPTT and stateful training are refused: a window would
   * start without the steps its delays look back at (a TDNN carries no state between windows).
   */
  override async fit(inputs: SequenceInput, targets: LabeledTargets, options: FitOptions = {}): Promise<History> {
    const o = resolveFit('TDNN.fit', options as FitOptions & Record<string, unknown>);
    if (o.tbptt !== null || o.stateful)
      throw new RangeError(
        'TDNN.fit: tbptt and stateful training do not apply to a TDNN (it carries no state between windows: ' +
          'each window would lose the steps its delays look back at); train on whole sequences',
      );
    return super.fit(inputs, targets, options);
  }

  protected override needsWholeSequence(): boolean {
    return true;
  }

  protected override checkOnline(what: string, learning: string): void {
    throw new RangeError(
      `${what}: learning '${learning}' is for recurrent models (SequenceTagger, SequenceClassifier); a TDNN trains by backpropagation over whole sequences`,
    );
  }
  /** Outputs (probabilities for classification) per sequence, or per step with output 'step'. */
  override predict(inputs: SequenceInput, options: { batchSize?: number } = {}): TDNNPrediction<O> {
    return super.predict(inputs, options) as TDNNPrediction<O>;
  }
  override predictAsync(inputs: SequenceInput, options: { batchSize?: number } = {}): Promise<TDNNPrediction<O>> {
    return super.predictAsync(inputs, options) as Promise<TDNNPrediction<O>>;
  }
  /** Loads a TDNN file; a file of another model type is refused. */
  static override async load(path: string, options: { device?: DeviceOption } = {}): Promise<TDNN> {
    return (await loadModelOf('TDNN', path, options)) as TDNN;
  }
  static override loadSync(path: string, options: { device?: DeviceOption } = {}): TDNN {
    return loadModelOfSync('TDNN', path, options) as TDNN;
  }
}

registerModel('TDNN', (o, device) => new TDNN({ ...(o as TDNNOptions), device }));
