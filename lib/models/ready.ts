// Ready models for sequence classification (one output per sequence) and sequence labelling
// (one output per step). Parameter names match a PyTorch module with attributes `embedding`,
// `rnn` and `head` (nn.Embedding, nn.LSTM/GRU/RNN, nn.Linear), so state dicts move unchanged.
import { FieldSpec, optionsObject, resolveOptions } from '../options';
import type { DeviceOption } from '../device/default';
import { Embedding } from '../layers/embedding';
import type { ActShape, Layer } from '../layers/layer';
import { Linear } from '../layers/linear';
import { TimePooling } from '../layers/pooling';
import { GRU, LSTM, RECURRENT_OPTIONS, SimpleRNN } from '../layers/recurrent';
import type { RecurrentOptions } from '../layers/recurrent';
import type { Device } from '../device/device';
import { Sequential } from '../sequential';
import type { DataSpec } from '../train/data';
import { loadModelOf, loadModelOfSync, SequenceModel } from './base';
import { checkClasses } from './labels';
import type { SequenceInput } from '../train/data';
import { registerModel } from './persistence';

/** Options shared by the ready models. */
export interface ModelOptions {
  /** 'lstm' (default), 'gru' or 'rnn' (Elman). */
  cell?: 'lstm' | 'gru' | 'rnn';
  /** Features per step of the input. Give this or vocabSize. */
  inputSize?: number | null;
  /** Token-id inputs: vocabulary size of an embedding in front of the recurrent stack. */
  vocabSize?: number | null;
  /** Embedding size (with vocabSize; default 32). */
  embeddingDim?: number;
  /** Hidden units per direction. Required. */
  hiddenSize: number;
  numLayers?: number;
  bidirectional?: boolean;
  merge?: 'concat' | 'sum' | 'mean';
  /** Dropout between recurrent layers. */
  dropout?: number;
  initialState?: 'zeros' | 'learnable';
  init?: 'keras' | 'pytorch';
  recurrentInit?: 'orthogonal' | 'identity';
  /** LSTM initial forget-gate bias (default 1). */
  forgetBias?: number;
  /** Elman activation. */
  activation?: 'tanh' | 'relu' | 'sigmoid';
  gruVariant?: 'pytorch' | 'original';
  /** 'classification' (softmax cross-entropy, default), 'regression' (MSE) or 'multilabel' (sigmoid binary cross-entropy per output). */
  task?: 'classification' | 'regression' | 'multilabel';
  /** Classes (classification) or outputs (regression, multilabel). Required. */
  outputSize: number;
  /** Seed of initialization, shuffling and dropout (default 0). */
  seed?: number;
  /** 'float32' (default) or 'float64' (gradient checks). */
  dtype?: 'float32' | 'float64';
  /** Where tensors live and ops run (default: the CPU device). Not stored in model files. */
  device?: DeviceOption;
  /**
   * Label names of the classes (classification), one per output: targets may then be these
   * strings and predictClasses() returns them. Saved with the model.
   */
  classes?: readonly string[] | null;
}

const COMMON: Record<string, FieldSpec> = {
  cell: { type: 'enum', values: ['lstm', 'gru', 'rnn'], default: 'lstm', doc: 'recurrent cell' },
  inputSize: { type: 'int', min: 1, default: null, nullable: true, doc: 'features per step' },
  vocabSize: { type: 'int', min: 1, default: null, nullable: true, doc: 'vocabulary size for token ids' },
  embeddingDim: { type: 'int', min: 1, default: 32, doc: 'embedding size' },
  hiddenSize: RECURRENT_OPTIONS.hiddenSize,
  numLayers: RECURRENT_OPTIONS.numLayers,
  bidirectional: RECURRENT_OPTIONS.bidirectional,
  merge: RECURRENT_OPTIONS.merge,
  dropout: RECURRENT_OPTIONS.dropout,
  initialState: RECURRENT_OPTIONS.initialState,
  init: RECURRENT_OPTIONS.init,
  recurrentInit: RECURRENT_OPTIONS.recurrentInit,
  forgetBias: RECURRENT_OPTIONS.forgetBias,
  activation: RECURRENT_OPTIONS.activation,
  gruVariant: RECURRENT_OPTIONS.gruVariant,
  task: {
    type: 'enum',
    values: ['classification', 'regression', 'multilabel'],
    default: 'classification',
    doc: 'loss and outputs',
  },
  outputSize: { type: 'int', min: 1, doc: 'classes or outputs' },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, default: 0, doc: 'seed' },
  dtype: { type: 'enum', values: ['float32', 'float64'], default: 'float32', doc: 'element type' },
};

type Resolved = Required<Omit<ModelOptions, 'device' | 'classes'>> & {
  pooling?: 'last' | 'mean' | 'max';
  /** Present only when given (files of earlier releases have no such field). */
  classes?: string[];
};

/** The resolved options plus the checked `classes` (absent when not given). */
function withClasses<T extends Resolved>(what: string, c: T, classes: unknown): T {
  const k = checkClasses(what, classes, c.task, c.outputSize);
  return k ? { ...c, classes: k } : c;
}

type Opts = { batchSize?: number };

function buildNet(
  what: string,
  c: Resolved,
  returnSequences: boolean,
  pooling: 'last' | 'mean' | 'max' | null,
  device: Device,
) {
  if ((c.inputSize === null) === (c.vocabSize === null))
    throw new RangeError(`${what}: give exactly one of inputSize (feature inputs) and vocabSize (token ids)`);
  const rnnOpts: RecurrentOptions = {
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    bidirectional: c.bidirectional,
    merge: c.merge,
    dropout: c.dropout,
    initialState: c.initialState,
    init: c.init,
    recurrentInit: c.recurrentInit,
    returnSequences,
    ...(c.cell === 'lstm' ? { forgetBias: c.forgetBias } : {}),
    ...(c.cell === 'rnn' ? { activation: c.activation } : {}),
    ...(c.cell === 'gru' ? { gruVariant: c.gruVariant } : {}),
  };
  const rnn = c.cell === 'lstm' ? new LSTM(rnnOpts) : c.cell === 'gru' ? new GRU(rnnOpts) : new SimpleRNN(rnnOpts);
  const layers: Array<[string, Layer]> = [];
  if (c.vocabSize !== null)
    layers.push(['embedding', new Embedding({ numEmbeddings: c.vocabSize, embeddingDim: c.embeddingDim })]);
  layers.push(['rnn', rnn]);
  if (pooling === 'mean' || pooling === 'max') layers.push(['pool', new TimePooling({ mode: pooling })]);
  layers.push(['head', new Linear({ outFeatures: c.outputSize, init: c.init === 'pytorch' ? 'pytorch' : 'glorot' })]);
  const net = new Sequential(layers, c.dtype, undefined, device);
  const input: ActShape = c.vocabSize !== null ? { kind: 'ids', F: c.vocabSize } : { kind: 'seq', F: c.inputSize! };
  net.build(input);
  const spec: Omit<DataSpec, 'level'> = {
    input: c.vocabSize !== null ? { kind: 'ids', vocab: c.vocabSize } : { kind: 'features', F: c.inputSize! },
    task: c.task,
    outSize: c.outputSize,
  };
  return { net, spec, rnn };
}

/** Options of SequenceClassifier: ModelOptions plus how steps are pooled. */
export interface ClassifierOptions extends ModelOptions {
  /** 'last' (final states of the top layer, default), 'mean' or 'max' over valid steps. */
  pooling?: 'last' | 'mean' | 'max';
}
const CLASSIFIER_OPTIONS: Record<string, FieldSpec> = {
  ...COMMON,
  pooling: { type: 'enum', values: ['last', 'mean', 'max'], default: 'last', doc: 'pooling over time' },
};

/** Sequence to class (or to a regression vector): recurrent stack, pooling over time, linear head. */
export class SequenceClassifier extends SequenceModel {
  readonly type = 'SequenceClassifier';
  readonly config: Resolved & { pooling: 'last' | 'mean' | 'max' };
  protected readonly net: Sequential;
  protected readonly spec: DataSpec;
  protected readonly recurrent: Layer[];

  constructor(options: ClassifierOptions) {
    const { device, classes, ...rest } = optionsObject('SequenceClassifier', options);
    super(device, 'SequenceClassifier');
    this.config = withClasses(
      'SequenceClassifier',
      resolveOptions<Resolved & { pooling: 'last' | 'mean' | 'max' }>('SequenceClassifier', CLASSIFIER_OPTIONS, rest),
      classes,
    );
    const { net, spec, rnn } = buildNet(
      'SequenceClassifier',
      this.config,
      this.config.pooling !== 'last',
      this.config.pooling,
      this.device,
    );
    this.net = net;
    this.spec = { ...spec, level: 'sequence' };
    this.recurrent = [rnn];
    this.ready();
  }
  protected override needsWholeSequence(): boolean {
    return this.config.pooling !== 'last';
  }
  /** Class probabilities (or outputs) per sequence. */
  override predict(inputs: SequenceInput, options: Opts = {}): number[][] {
    return super.predict(inputs, options) as number[][];
  }
  override predictAsync(inputs: SequenceInput, options: Opts = {}): Promise<number[][]> {
    return super.predictAsync(inputs, options) as Promise<number[][]>;
  }
  /** The most probable class per sequence: label strings with `classes`, class ids otherwise. */
  override predictClasses(inputs: SequenceInput, options: Opts = {}): string[] | number[] {
    return super.predictClasses(inputs, options) as string[] | number[];
  }
  /** Loads a SequenceClassifier file; a file of another model type is refused. */
  static override async load(path: string, options: { device?: DeviceOption } = {}): Promise<SequenceClassifier> {
    return (await loadModelOf('SequenceClassifier', path, options)) as SequenceClassifier;
  }
  static override loadSync(path: string, options: { device?: DeviceOption } = {}): SequenceClassifier {
    return loadModelOfSync('SequenceClassifier', path, options) as SequenceClassifier;
  }
}

/** Synchronous sequence to sequence: one label (or vector) per step; padding is masked. */
export class SequenceTagger extends SequenceModel {
  readonly type = 'SequenceTagger';
  readonly config: Resolved;
  protected readonly net: Sequential;
  protected readonly spec: DataSpec;
  protected readonly recurrent: Layer[];

  constructor(options: ModelOptions) {
    const { device, classes, ...rest } = optionsObject('SequenceTagger', options);
    super(device, 'SequenceTagger');
    this.config = withClasses('SequenceTagger', resolveOptions<Resolved>('SequenceTagger', COMMON, rest), classes);
    const { net, spec, rnn } = buildNet('SequenceTagger', this.config, true, null, this.device);
    this.net = net;
    this.spec = { ...spec, level: 'step' };
    this.recurrent = [rnn];
    this.ready();
  }
  /** Class probabilities (or outputs) per step of every sequence. */
  override predict(inputs: SequenceInput, options: Opts = {}): number[][][] {
    return super.predict(inputs, options) as number[][][];
  }
  override predictAsync(inputs: SequenceInput, options: Opts = {}): Promise<number[][][]> {
    return super.predictAsync(inputs, options) as Promise<number[][][]>;
  }
  /** The most probable class per step: label strings with `classes`, class ids otherwise. */
  override predictClasses(inputs: SequenceInput, options: Opts = {}): string[][] | number[][] {
    return super.predictClasses(inputs, options) as string[][] | number[][];
  }
  /** Loads a SequenceTagger file; a file of another model type is refused. */
  static override async load(path: string, options: { device?: DeviceOption } = {}): Promise<SequenceTagger> {
    return (await loadModelOf('SequenceTagger', path, options)) as SequenceTagger;
  }
  static override loadSync(path: string, options: { device?: DeviceOption } = {}): SequenceTagger {
    return loadModelOfSync('SequenceTagger', path, options) as SequenceTagger;
  }
}

registerModel('SequenceClassifier', (o, device) => new SequenceClassifier({ ...(o as ClassifierOptions), device }));
registerModel('SequenceTagger', (o, device) => new SequenceTagger({ ...(o as ModelOptions), device }));
