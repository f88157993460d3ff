// A language model over characters or tokens: embedding, recurrent stack, output layer
// (optionally tied to the embedding). Trained with truncated BPTT over one long text split into
// batchSize parallel streams, the state carried from window to window; generates with
// temperature, top-k and a seed, synchronously or as an async stream of tokens.
import { inspect } from 'util';
import type { DeviceOption } from '../device/default';
import { inspectText, layerRows, summaryTable } from './summary';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint';
import type { CheckpointTensor } from '../checkpoint';
import { loadDevice, resolveDevice } from '../device/default';
import type { Device } from '../device/device';
import type { CpuDevice, FusedDecoder } from '../device/cpu';
import type { Tensor } from '../device/tensor';
import { runAsync, runSync } from '../exec';
import { modelMemoryInfo, type ModelMemoryInfo } from './memory-info';
import { Scratch, ScratchPool } from '../graph/tape';
import { reading, readingSync, WeightsLock } from '../graph/weights-lock';
import type { HostArray } from '../native';
import { FieldSpec, optionsObject, resolveOptions } from '../options';
import { Rng } from '../rng';
import { Sequential } from '../sequential';
import { Embedding } from '../layers/embedding';
import type { Act, Ctx, Layer, RecurrentState } from '../layers/layer';
import { callContext, copyStates } from '../layers/layer';
import { parameterTensors } from '../params';
import { checkResolved, initializing, ModelFile, readParameters, withoutInit } from './file-checks';
import { MODEL_META_KEYS, modelMeta } from './persistence';
import { Linear } from '../layers/linear';
import { GRU, LSTM, RECURRENT_OPTIONS, SimpleRNN } from '../layers/recurrent';
import type { Recurrent, StepState } from '../layers/recurrent';
import { Dropout } from '../layers/dropout';
import { FIT_OPTIONS, FitOptions, History, Metrics, resolveFit } from '../train/fit-options';
import { computeLoss, countCorrect } from '../train/losses';
import type { Targets } from '../train/losses';
import { isNonFiniteInput } from '../train/pipeline';
import { BatchStats, emptyStats, FitJob, oneUpdate, StepRunner, Trainer } from '../train/trainer';
import { Vocabulary } from '../text/vocab';

/** Options of a LanguageModel. */
export interface LanguageModelOptions {
  /** The vocabulary (Vocabulary.characters(text) or Vocabulary.words(text)). Required. */
  vocabulary: Vocabulary;
  /** 'lstm' (default), 'gru' or 'rnn'. */
  cell?: 'lstm' | 'gru' | 'rnn';
  /** Embedding size (default 64; equal to hiddenSize when tieWeights). */
  embeddingDim?: number;
  hiddenSize: number;
  numLayers?: number;
  /** Dropout between recurrent layers and before the output layer (default 0). */
  dropout?: number;
  /** Share the output layer's weight with the embedding (needs embeddingDim == hiddenSize). */
  tieWeights?: boolean;
  forgetBias?: number;
  seed?: number;
  dtype?: 'float32' | 'float64';
  /** Where tensors live and ops run (default: the CPU device). Not stored in model files. */
  device?: DeviceOption;
}
const LM_OPTIONS: Record<string, FieldSpec> = {
  cell: { type: 'enum', values: ['lstm', 'gru', 'rnn'], default: 'lstm', doc: 'cell' },
  embeddingDim: { type: 'int', min: 1, default: 64, doc: 'embedding size' },
  hiddenSize: RECURRENT_OPTIONS.hiddenSize,
  numLayers: RECURRENT_OPTIONS.numLayers,
  dropout: RECURRENT_OPTIONS.dropout,
  tieWeights: { type: 'bool', default: false, doc: 'tie output and embedding weights' },
  forgetBias: RECURRENT_OPTIONS.forgetBias,
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, default: 0, doc: 'seed' },
  dtype: { type: 'enum', values: ['float32', 'float64'], default: 'float32', doc: 'element type' },
};
type Resolved = Required<Omit<LanguageModelOptions, 'vocabulary' | 'device'>>;

/** Metrics of a text: mean cross-entropy per token (nats), perplexity, next-token accuracy. */
export type TextMetrics = Metrics & { perplexity: number; accuracy: number };

/**
 * fit options of a language model: the FitOptions every model takes (one text split into
 * batchSize parallel streams, trained by truncated BPTT over windows of seqLen tokens), plus
 * seqLen and validationText. validationSplit holds out the end of the text.
 */
export interface TextFitOptions
  extends Omit<FitOptions, 'validationData' | 'classWeights' | 'learning' | 'tbptt' | 'shuffle' | 'bucketByLength'> {
  /** Truncated-BPTT window in tokens (default 100). */
  seqLen?: number;
  /** Held-out text evaluated after every epoch. */
  validationText?: string | null;
}
const TEXT_FIT_OPTIONS: Record<string, FieldSpec> = {
  seqLen: { type: 'int', min: 1, default: 100, doc: 'window' },
  validationText: { type: 'string', default: null, nullable: true, doc: 'validation text' },
};
const TEXT_FIT_OMIT = ['tbptt', 'learning', 'shuffle', 'bucketByLength'];

export interface GenerateOptions {
  /** Tokens to generate (default 100). */
  maxTokens?: number;
  /** Softmax temperature (default 1; 0 = greedy). */
  temperature?: number;
  /** Sample among the k most likely tokens only (default: all). */
  topK?: number | null;
  /** Seed of the sampler (default 0). */
  seed?: number;
  /** Stop at the end symbol (default true). */
  stopAtEos?: boolean;
}
const GEN_OPTIONS: Record<string, FieldSpec> = {
  maxTokens: { type: 'int', min: 0, max: 1e7, default: 100, doc: 'tokens' },
  temperature: { type: 'number', min: 0, max: 100, default: 1, doc: 'temperature' },
  topK: { type: 'int', min: 1, default: null, nullable: true, doc: 'top-k' },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, default: 0, doc: 'seed' },
  stopAtEos: { type: 'bool', default: true, doc: 'stop at <eos>' },
};

export class LanguageModel {
  readonly type = 'LanguageModel';
  readonly vocabulary: Vocabulary;
  readonly config: Resolved;
  private readonly net: Sequential;
  private readonly rnn: Layer;
  private readonly embedding: Embedding;
  private readonly head: Linear;
  private rng: Rng;
  private trainerInstance: Trainer | null = null;
  private get trainer(): Trainer {
    if (!this.trainerInstance)
      this.trainerInstance = new Trainer('LanguageModel', this.device, this.net.params, this.weights, this.scratch);
    return this.trainerInstance;
  }
  private disposed = false;
  private readonly scratch: ScratchPool;
  /** Where this model's tensors live (not stored in model files). */
  readonly device: Device;
  private readonly weights = new WeightsLock();

  constructor(options: LanguageModelOptions) {
    optionsObject('LanguageModel', options);
    if (!options || !(options.vocabulary instanceof Vocabulary))
      throw new TypeError(
        'LanguageModel: vocabulary must be a Vocabulary (Vocabulary.characters(text) or Vocabulary.words(text))',
      );
    const { vocabulary, device, ...rest } = options;
    this.vocabulary = vocabulary;
    this.device = resolveDevice('LanguageModel', device);
    this.scratch = new ScratchPool(this.device);
    this.config = resolveOptions('LanguageModel', LM_OPTIONS, rest);
    const c = this.config;
    if (c.tieWeights && c.embeddingDim !== c.hiddenSize)
      throw new RangeError(
        `LanguageModel: tieWeights needs embeddingDim == hiddenSize, received ${c.embeddingDim} and ${c.hiddenSize}`,
      );
    const rOpts = {
      hiddenSize: c.hiddenSize,
      numLayers: c.numLayers,
      dropout: c.dropout,
      ...(c.cell === 'lstm' ? { forgetBias: c.forgetBias } : {}),
    };
    this.rnn = c.cell === 'lstm' ? new LSTM(rOpts) : c.cell === 'gru' ? new GRU(rOpts) : new SimpleRNN(rOpts);
    const layers: Array<[string, Layer]> = [
      ['embedding', (this.embedding = new Embedding({ numEmbeddings: vocabulary.size, embeddingDim: c.embeddingDim }))],
      ['rnn', this.rnn],
    ];
    if (c.dropout > 0) layers.push(['drop', new Dropout({ p: c.dropout })]);
    this.head = new Linear({ outFeatures: vocabulary.size, tiedTo: c.tieWeights ? 'embedding.weight' : null });
    layers.push(['head', this.head]);
    this.net = new Sequential(layers, c.dtype, undefined, this.device);
    this.net.build({ kind: 'ids', F: vocabulary.size });
    this.net.params.describe('LanguageModel', { ...c, 'vocabulary size': vocabulary.size });
    this.rng = new Rng(c.seed);
    if (initializing()) this.net.initialize(this.rng);
  }

  private live(what: string) {
    if (this.disposed) throw new Error(`LanguageModel.${what}: the model was disposed`);
  }
  dispose(): void {
    if (this.disposed) return;
    if (this.trainerInstance?.isRunning)
      throw new Error(`LanguageModel.dispose: the model is training; abort or await fit first`);
    this.disposed = true;
    if (this.trainerInstance) this.trainerInstance.free();
    this.trainerInstance = null;
    this.scratch.clear();
    this.net.params.free();
  }
  /** Bytes this model holds: parameters, gradients, optimizer state, idle call scratch. */
  /** A table of the layers (name, type, output shape, parameters), the totals, dtype and device. */
  summary(): string {
    this.live('summary');
    return summaryTable(this.type, layerRows(this.net), this.net.params, this.device);
  }
  /** console.log(model) and util.inspect(model): one line per layer. */
  [inspect.custom](): string {
    if (this.disposed) return `${this.type} (disposed)`;
    return inspectText(this.type, layerRows(this.net), this.net.params, this.device);
  }
  memoryInfo(): ModelMemoryInfo {
    this.live('memoryInfo');
    return modelMemoryInfo(this.net.params, this.trainerInstance, this.scratch);
  }
  parameters() {
    this.live('parameters');
    return this.net.parameters();
  }
  stateDict() {
    return this.net.stateDict();
  }
  loadStateDict(sd: Record<string, ArrayLike<number>>, strict = true) {
    this.net.loadStateDict(sd, strict);
  }

  private ctx(async: boolean, training: boolean, state: Map<Layer, RecurrentState>, scratch: Scratch): Ctx {
    return callContext(this.device, async, training, this.rng, this.config.dtype, scratch, state);
  }

  private encode(where: string, text: string | number[]): number[] {
    if (typeof text === 'string') return this.vocabulary.encode(text);
    if (!Array.isArray(text))
      throw new TypeError(`${where}: text must be a string or an array of token ids, received ${typeof text}`);
    for (let i = 0; i < text.length; i++) {
      const v = text[i]; // a hole reads as undefined and is refused (forEach would skip it)
      if (!Number.isInteger(v) || v < 0 || v >= this.vocabulary.size)
        throw new RangeError(
          `${where}: token ids[${i}] must be an integer in [0, ${this.vocabulary.size - 1}], received ${v}`,
        );
    }
    return text;
  }

  /** Windows of B parallel streams: inputs and next-token targets, time-major [T,B]. */
  private *windows(ids: number[], B: number, T: number): Generator<{ x: Act; y: Targets }> {
    const L = Math.floor((ids.length - 1) / B);
    for (let t0 = 0; t0 < L; t0 += T) {
      const w = Math.min(T, L - t0);
      const x = new Int32Array(w * B),
        y = new Int32Array(w * B);
      for (let t = 0; t < w; t++)
        for (let b = 0; b < B; b++) {
          x[t * B + b] = ids[b * L + t0 + t];
          y[t * B + b] = ids[b * L + t0 + t + 1];
        }
      yield {
        x: { kind: 'ids', data: this.device.fromHost(x, [w, B]), T: w, B, lengths: null },
        y: { kind: 'classes', data: this.device.fromHost(y) },
      };
    }
  }

  /** Trains on one long text with truncated BPTT; returns the History every model's fit returns. */
  async fit(text: string | number[], options: TextFitOptions = {}): Promise<History> {
    this.live('fit');
    return this.trainer.exclusive(() => this.fitWith(text, options));
  }

  /** Forgets the recurrent state carried by stateful training. */
  resetStates(): void {
    this.carried = new Map();
  }
  private carried = new Map<Layer, RecurrentState>();

  private async fitWith(text: string | number[], options: TextFitOptions): Promise<History> {
    const what = 'LanguageModel.fit';
    const o = resolveFit<{ seqLen: number; validationText: string | null }>(
      what,
      options as TextFitOptions & Record<string, unknown>,
      TEXT_FIT_OPTIONS,
      TEXT_FIT_OMIT,
    );
    let ids = this.encode(what, text);
    let valIds: number[] | null =
      o.validationText !== null ? this.encode(`${what} (validationText)`, o.validationText) : null;
    if (o.validationSplit > 0) {
      if (valIds) throw new RangeError(`${what}: give validationText or validationSplit, not both`);
      const n = Math.floor(ids.length * o.validationSplit);
      if (n < 2)
        throw new RangeError(
          `${what}: validationSplit ${o.validationSplit} holds out ${n} tokens; at least 2 are needed`,
        );
      valIds = ids.slice(ids.length - n);
      ids = ids.slice(0, ids.length - n);
    }
    if (ids.length < o.batchSize + 1)
      throw new RangeError(
        `${what}: text must have more than batchSize (${o.batchSize}) tokens, received ${ids.length}`,
      );
    if (valIds && valIds.length < 2)
      throw new RangeError(`${what}: validationText must hold at least 2 tokens, received ${valIds.length}`);
    if (o.seed !== null) this.rng = new Rng(o.seed);
    const job: FitJob<{ x: Act; y: Targets }> = {
      what,
      batches: () => {
        if (!o.stateful) this.carried = new Map(); // every epoch reads the text from its start
        return this.windows(ids, o.batchSize, o.seqLen);
      },
      train: (w, run) => this.trainWindow(w, run),
      metrics: (loss, correct, total) => ({ loss, perplexity: Math.exp(loss), accuracy: total ? correct / total : 0 }),
      validate: valIds ? () => this.evaluateIds(valIds!, o.batchSize, 200) : null,
    };
    return this.trainer.fit(job, o, options as FitOptions);
  }

  private async trainWindow(w: { x: Act; y: Targets }, run: StepRunner): Promise<BatchStats> {
    const s = emptyStats();
    const ctx = this.ctx(true, true, this.carried, run.scratch);
    this.net.params.zeroGrad();
    let out: Act, r: ReturnType<typeof computeLoss>;
    const targets = w.y;
    try {
      out = await runAsync(this.net.forward(w.x, ctx));
      this.carried = copyStates(this.device, ctx.finalStates);
      r = computeLoss(this.device, 'classification', out, targets, null);
      if (!Number.isFinite(r.loss) && run.nonFinite(`loss ${r.loss}`)) return { ...s, skipped: true };
      await runAsync(this.net.backward(r.grad, ctx));
    } catch (e) {
      if (isNonFiniteInput(e) && run.nonFinite(`activations (${e.message})`)) return { ...s, skipped: true };
      throw e;
    }
    const u = await run.update();
    return oneUpdate(
      r.loss,
      r.count,
      u.skipped ? { correct: 0, total: 0 } : countCorrect(this.device, 'classification', out, targets),
      u,
    );
  }

  /** Mean cross-entropy per token (nats), perplexity and next-token accuracy of a text, state carried through. */
  async evaluate(text: string | number[], options: { batchSize?: number; seqLen?: number } = {}): Promise<TextMetrics> {
    this.live('evaluate');
    const o = resolveOptions<{ batchSize: number; seqLen: number }>(
      'LanguageModel.evaluate',
      { batchSize: FIT_OPTIONS.batchSize, seqLen: { ...TEXT_FIT_OPTIONS.seqLen, default: 200 } as FieldSpec },
      options,
    );
    const ids = this.encode('LanguageModel.evaluate', text);
    if (ids.length < 2)
      throw new RangeError(`LanguageModel.evaluate: text must hold at least 2 tokens, received ${ids.length}`);
    return this.evaluateIds(ids, o.batchSize, o.seqLen);
  }

  private evaluateIds(ids: number[], batchSize: number, seqLen: number): Promise<TextMetrics> {
    const B = Math.max(1, Math.min(batchSize, Math.floor((ids.length - 1) / 2)));
    return reading(this.weights, this.scratch, async (scratch) => {
      let state = new Map<Layer, RecurrentState>();
      let sum = 0,
        n = 0,
        correct = 0,
        total = 0;
      for (const w of this.windows(ids, B, seqLen)) {
        const ctx = this.ctx(true, false, state, scratch);
        const out = await runAsync(this.net.forward(w.x, ctx));
        state = copyStates(this.device, ctx.finalStates);
        const targets = w.y;
        const r = computeLoss(this.device, 'classification', out, targets, null);
        const c = countCorrect(this.device, 'classification', out, targets);
        sum += r.loss * r.count;
        n += r.count;
        correct += c.correct;
        total += c.total;
      }
      const loss = sum / Math.max(1, n);
      return { loss, perplexity: Math.exp(loss), accuracy: total ? correct / total : 0 };
    });
  }

  /** Next-token probabilities after `prompt` (for inspection and tests). */
  nextTokenProbabilities(prompt: string | number[]): number[] {
    this.live('nextTokenProbabilities');
    const ids = this.encode('LanguageModel.nextTokenProbabilities', prompt);
    if (ids.length === 0)
      throw new RangeError('LanguageModel.nextTokenProbabilities: prompt must hold at least one token');
    const { logits } = this.step(ids, new Map(), false);
    return softmax(logits, 1);
  }

  private step(
    ids: number[],
    state: Map<Layer, RecurrentState>,
    _async: false,
  ): { logits: number[]; state: Map<Layer, RecurrentState> } {
    return readingSync('LanguageModel.generate', this.weights, this.scratch, (scratch) => {
      const ctx = this.ctx(false, false, state, scratch);
      const x: Act = {
        kind: 'ids',
        data: this.device.fromHost(Int32Array.from(ids), [ids.length, 1]),
        T: ids.length,
        B: 1,
        lengths: null,
      };
      const out = runSync(this.net.forward(x, ctx));
      const V = this.vocabulary.size;
      // the API edge: the last step's logits leave the device
      const last = this.device.toHostSync(this.device.view(out.data, (ids.length - 1) * V, [V]));
      return { logits: Array.from(last), state: copyStates(this.device, ctx.finalStates) };
    });
  }

  /**
   * One token after another from the state after the prompt: the recurrent stack steps (no
   * re-run over what came before), in buffers allocated once per generate call. Each token
   * reads the weights under the lock, as a call of its own (a stream may outlive a fit).
   */
  private stepper(init: RecurrentState): (id: number) => number[] {
    const dev = this.device,
      params = this.net.params,
      rnn = this.rnn as Recurrent;
    const H = this.config.hiddenSize,
      L = this.config.numLayers,
      V = this.vocabulary.size,
      dt = this.config.dtype;
    const alloc = () => Array.from({ length: L }, () => dev.alloc(dt, [H]));
    const lstm = rnn.cell === 'lstm';
    const sets: StepState[] = [0, 1].map(() => ({ h: alloc(), c: lstm ? alloc() : null }));
    const ids = dev.alloc('int32', [1]),
      emb = dev.alloc(dt, [this.config.embeddingDim]),
      logits = dev.alloc(dt, [V]);
    const host = new Int32Array(1);
    let from: StepState = { h: init.h, c: init.c },
      k = 0;
    const fused = this.fusedStepper(init, ids, emb, sets, logits);
    if (fused)
      return (id) =>
        readingSync('LanguageModel.generate', this.weights, this.scratch, () => {
          // a stream may outlive its model: a disposed model's parameters refuse, as unfused
          this.embedding.table(params);
          host[0] = id;
          dev.write(ids, host);
          fused.step(1, false, null, null, null);
          return Array.from(dev.toHostSync(logits));
        });
    return (id) =>
      readingSync('LanguageModel.generate', this.weights, this.scratch, () => {
        host[0] = id;
        dev.write(ids, host);
        this.embedding.lookupInto(params, ids, 1, emb);
        const to = sets[k];
        k ^= 1;
        rnn.stepInto(params, emb, 1, from, to);
        from = to;
        // the API edge: the step's logits leave the device
        this.head.applyInto(params, to.h[L - 1], 1, logits);
        return Array.from(dev.toHostSync(logits));
      });
  }

  /** The CPU device's fused step over the stepper's buffers (one native call per token), or null. */
  private fusedStepper(
    init: RecurrentState,
    ids: Tensor,
    emb: Tensor,
    sets: StepState[],
    logits: Tensor,
  ): FusedDecoder | null {
    const dev = this.device,
      params = this.net.params,
      rnn = this.rnn as Recurrent;
    const fd = (dev as Partial<Pick<CpuDevice, 'fusedDecoder'>>).fusedDecoder;
    if (!fd) return null;
    const H = this.config.hiddenSize,
      E = this.config.embeddingDim,
      V = this.vocabulary.size,
      c = rnn.config;
    const w = rnn.stepWeights(params),
      head = this.head.weights(params);
    if (w.I !== E || head.I !== H) return null;
    const dt = this.config.dtype;
    return fd.call(dev, {
      cell: rnn.cell,
      ...(rnn.cell === 'elman' ? { activation: c.activation } : {}),
      ...(rnn.cell === 'gru' ? { gruVariant: c.gruVariant } : {}),
      L: c.numLayers,
      H,
      E,
      Vin: V,
      V,
      maxRows: 1,
      S: 0,
      He: 0,
      k: 0,
      R0: 1,
      wEmb: this.embedding.table(params),
      wIh: w.wIh,
      wHh: w.wHh,
      bIh: w.bIh,
      bHh: w.bHh,
      h0: init.h,
      c0: init.c,
      wC: null,
      wOut: head.weight,
      bOut: head.bias,
      ids,
      parents: dev.alloc('int32', [1]),
      emb,
      hA: sets[0].h,
      hB: sets[1].h,
      cA: sets[0].c,
      cB: sets[1].c,
      alpha: null,
      context: null,
      cat: null,
      pre: null,
      out: null,
      logits,
      lp: dev.alloc(dt, [V]),
      values: null,
      indices: null,
    });
  }

  /** Generated text after `prompt` (synchronous). */
  generate(prompt: string, options: GenerateOptions = {}): string {
    const ids: number[] = [];
    for (const id of this.sample(prompt, options)) ids.push(id);
    return this.vocabulary.decode(ids);
  }

  /** The same tokens as generate(), yielded one at a time as decoded text (for streaming). */
  async *stream(prompt: string, options: GenerateOptions = {}): AsyncGenerator<string> {
    for (const id of this.sample(prompt, options)) {
      yield this.vocabulary.decode([id]) + (this.vocabulary.kind === 'words' ? ' ' : '');
      await new Promise((r) => setImmediate(r)); // let the server send it
    }
  }

  private *sample(prompt: string, options: GenerateOptions): Generator<number> {
    this.live('generate');
    const o = resolveOptions<
      Required<{ maxTokens: number; temperature: number; topK: number | null; seed: number; stopAtEos: boolean }>
    >('LanguageModel.generate', GEN_OPTIONS, options);
    const rng = new Rng(o.seed);
    let ids = this.encode('LanguageModel.generate', prompt);
    if (ids.length === 0) ids = [this.vocabulary.bos];
    const first = this.step(ids, new Map(), false);
    let logits = first.logits;
    const next = this.stepper(first.state.get(this.rnn)!);
    for (let i = 0; i < o.maxTokens; i++) {
      const id = pick(logits, o.temperature, o.topK, rng);
      if (o.stopAtEos && id === this.vocabulary.eos) return;
      yield id;
      logits = next(id);
    }
  }

  /** Saves architecture, vocabulary, weights and the training state (atomic write). */
  async save(path: string): Promise<void> {
    this.live('save');
    const tr = this.trainer.save();
    const tensors: Record<string, CheckpointTensor> = { ...parameterTensors(this.net.params), ...tr.tensors };
    const meta = {
      format: 'rnnkit-model',
      version: 1,
      type: this.type,
      options: this.config,
      vocabulary: this.vocabulary.toJSON(),
      training: { ...tr.meta, rng: this.rng.getState() },
    };
    await saveCheckpoint(path, { meta, tensors });
  }

  /** Loads a model file; `device` places it (default: the CPU device). */
  static async load(path: string, options: { device?: DeviceOption } = {}): Promise<LanguageModel> {
    const device = loadDevice('LanguageModel.load', options);
    return LanguageModel.fromFile(new ModelFile(path, await loadCheckpoint(path)), device);
  }

  private static fromFile(file: ModelFile, device?: Device): LanguageModel {
    const meta = modelMeta(file, [...MODEL_META_KEYS, 'vocabulary'], 'LanguageModel');
    const options = file.record(meta.options, 'options');
    for (const k of ['vocabulary', 'device'])
      if (Object.hasOwn(options, k)) file.fail(`options has unexpected field '${k}' (not stored there)`);
    const vocabulary = file.validated('vocabulary', () =>
      Vocabulary.fromJSON(file.object(meta.vocabulary, 'vocabulary', ['kind', 'tokens'])),
    );
    const m = file.validated('options', () =>
      withoutInit(() => new LanguageModel({ ...options, vocabulary, device } as unknown as LanguageModelOptions)),
    );
    try {
      checkResolved(file, options, m.config);
      m.net.loadStateDict(readParameters(m.net.params, file, options));
      m.rng.setState(m.trainer.restore(meta.training, file).rng);
      file.done();
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  }

  /** Completed training epochs. */
  get epoch(): number {
    return this.trainerInstance ? this.trainerInstance.epoch : 0;
  }
}

function softmax(z: ArrayLike<number>, temperature: number): number[] {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]);
  const e = Array.from(z, (v) => Math.exp((v - m) / temperature));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Greedy at temperature 0; else a sample from the tempered softmax over the top k. */
function pick(logits: number[], temperature: number, topK: number | null, rng: Rng): number {
  if (temperature === 0) return logits.indexOf(Math.max(...logits));
  let cand = logits.map((v, i) => i);
  if (topK !== null && topK < logits.length) cand = cand.sort((a, b) => logits[b] - logits[a]).slice(0, topK);
  const p = softmax(
    cand.map((i) => logits[i]),
    temperature,
  );
  let u = rng.next();
  for (let j = 0; j < cand.length; j++) {
    u -= p[j];
    if (u <= 0) return cand[j];
  }
  return cand[cand.length - 1];
}

export type { HostArray };
