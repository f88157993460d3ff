// A language model over characters or tokens: embedding, recurrent stack, output layer
// (optionally tied to the embedding). Trained with truncated BPTT over one long text split into
// batchSize parallel streams, the state carried from window to window; generates with
// temperature, top-k and a seed, synchronously or as an async stream of tokens.
import { loadCheckpoint, saveCheckpoint } from '../checkpoint';
import type { Checkpoint, CheckpointTensor } from '../checkpoint';
import { cpu } from '../cpu-backend';
import { Exec, runAsync, runSync } from '../exec';
import { Scratch, ScratchPool, Tape } from '../graph/tape';
import { WeightsLock } from '../graph/weights-lock';
import type { HostArray } from '../native';
import { FieldSpec, resolveOptions } from '../options';
import { Rng } from '../rng';
import { Sequential } from '../sequential';
import { Embedding } from '../layers/embedding';
import type { Act, Ctx, Layer, RecurrentState } from '../layers/layer';
import { copyStates } from '../layers/layer';
import { parameterTensors, stateDictFromTensors } from '../params';
import { Linear } from '../layers/linear';
import { GRU, LSTM, RECURRENT_OPTIONS, SimpleRNN } from '../layers/recurrent';
import { Dropout } from '../layers/dropout';
import { computeLoss } from '../train/losses';
import { Optimizer, OptimizerOptions } from '../train/optimizer';
import { Schedule, ScheduleOptions } from '../train/schedules';
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
type Resolved = Required<Omit<LanguageModelOptions, 'vocabulary'>>;

export interface TextFitOptions {
  epochs?: number;
  /** Parallel streams the text is split into (default 32). */
  batchSize?: number;
  /** Truncated-BPTT window in tokens (default 100). */
  seqLen?: number;
  optimizer?: OptimizerOptions;
  schedule?: ScheduleOptions;
  clipNorm?: number | null;
  /** Held-out text evaluated after every epoch. */
  validationText?: string | null;
  /** Stop after this many seconds (checked between windows). */
  timeLimit?: number | null;
  onBatchEnd?: (info: { epoch: number; batch: number; step: number; loss: number; gradNorm: number; lr: number }) => void | Promise<void>;
  onEpochEnd?: (info: { epoch: number; loss: number; perplexity: number; valLoss: number | null; valPerplexity: number | null; lr: number }) => void | Promise<void>;
  signal?: AbortSignal;
}
const TEXT_FIT_OPTIONS: Record<string, FieldSpec> = {
  epochs: { type: 'int', min: 0, default: 1, doc: 'epochs' },
  batchSize: { type: 'int', min: 1, default: 32, doc: 'streams' },
  seqLen: { type: 'int', min: 1, default: 100, doc: 'window' },
  clipNorm: { type: 'number', min: 0, default: 5, nullable: true, doc: 'clip' },
  validationText: { type: 'string', default: null, nullable: true, doc: 'validation text' },
  timeLimit: { type: 'number', min: 0, default: null, nullable: true, doc: 'seconds' },
};

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
  private rng: Rng;
  private optimizer: Optimizer | null = null;
  private optimizerOptions: string | null = null;
  private disposed = false;
  private busy = false;
  private readonly scratch = new ScratchPool();
  private readonly weights = new WeightsLock();
  epoch = 0;

  constructor(options: LanguageModelOptions) {
    if (!options || !(options.vocabulary instanceof Vocabulary)) throw new TypeError('LanguageModel: vocabulary must be a Vocabulary (Vocabulary.characters(text) or Vocabulary.words(text))');
    const { vocabulary, ...rest } = options;
    this.vocabulary = vocabulary;
    this.config = resolveOptions('LanguageModel', LM_OPTIONS, rest);
    const c = this.config;
    if (c.tieWeights && c.embeddingDim !== c.hiddenSize) throw new RangeError(`LanguageModel: tieWeights needs embeddingDim == hiddenSize, received ${c.embeddingDim} and ${c.hiddenSize}`);
    const rOpts = { hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: c.dropout, ...(c.cell === 'lstm' ? { forgetBias: c.forgetBias } : {}) };
    this.rnn = c.cell === 'lstm' ? new LSTM(rOpts) : c.cell === 'gru' ? new GRU(rOpts) : new SimpleRNN(rOpts);
    const layers: Array<[string, Layer]> = [
      ['embedding', new Embedding({ numEmbeddings: vocabulary.size, embeddingDim: c.embeddingDim })],
      ['rnn', this.rnn],
    ];
    if (c.dropout > 0) layers.push(['drop', new Dropout({ p: c.dropout })]);
    layers.push(['head', new Linear({ outFeatures: vocabulary.size, tiedTo: c.tieWeights ? 'embedding.weight' : null })]);
    this.net = new Sequential(layers, c.dtype);
    this.net.build({ kind: 'ids', F: vocabulary.size });
    this.rng = new Rng(c.seed);
    this.net.initialize(this.rng);
  }

  private live(what: string) {
    if (this.disposed) throw new Error(`LanguageModel.${what}: the model was disposed`);
  }
  dispose(): void { this.disposed = true; }
  parameters() { this.live('parameters'); return this.net.parameters(); }
  stateDict() { return this.net.stateDict(); }
  loadStateDict(sd: Record<string, ArrayLike<number>>, strict = true) { this.net.loadStateDict(sd, strict); }

  private ctx(async: boolean, training: boolean, state: Map<Layer, RecurrentState>, scratch: Scratch): Ctx {
    scratch.reset();
    return {
      exec: new Exec(cpu(), async), training, rng: this.rng, dtype: this.config.dtype,
      initialStates: state, finalStates: new Map(), tape: new Tape(scratch),
    };
  }

  private encode(where: string, text: string | number[]): number[] {
    if (typeof text === 'string') return this.vocabulary.encode(text);
    if (!Array.isArray(text)) throw new TypeError(`${where}: text must be a string or an array of token ids, received ${typeof text}`);
    text.forEach((v, i) => { if (!Number.isInteger(v) || v < 0 || v >= this.vocabulary.size) throw new RangeError(`${where}: token ids[${i}] must be an integer in [0, ${this.vocabulary.size - 1}], received ${v}`); });
    return text;
  }

  /** Windows of B parallel streams: inputs and next-token targets, time-major [T,B]. */
  private *windows(ids: number[], B: number, T: number): Generator<{ x: Act; y: Int32Array }> {
    const L = Math.floor((ids.length - 1) / B);
    for (let t0 = 0; t0 < L; t0 += T) {
      const w = Math.min(T, L - t0);
      const x = new Int32Array(w * B), y = new Int32Array(w * B);
      for (let t = 0; t < w; t++) for (let b = 0; b < B; b++) { x[t * B + b] = ids[b * L + t0 + t]; y[t * B + b] = ids[b * L + t0 + t + 1]; }
      yield { x: { kind: 'ids', data: x, T: w, B, lengths: null }, y };
    }
  }

  /** Trains on one long text with truncated BPTT; returns per-epoch losses and perplexities. */
  async fit(text: string | number[], options: TextFitOptions = {}) {
    this.live('fit');
    if (this.busy) throw new Error('LanguageModel.fit: the model is already training (another fit is running); one model runs one fit at a time');
    this.busy = true;
    const scratch = this.scratch.acquire();
    try {
      return await this.fitWith(text, options, scratch);
    } finally {
      this.busy = false;
      this.scratch.release(scratch);
    }
  }

  private async fitWith(text: string | number[], options: TextFitOptions, scratch: Scratch) {
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options)) if (!['optimizer', 'schedule', 'onBatchEnd', 'onEpochEnd', 'signal'].includes(k)) plain[k] = v;
    const o = resolveOptions<{ epochs: number; batchSize: number; seqLen: number; clipNorm: number | null; validationText: string | null; timeLimit: number | null }>('LanguageModel.fit', TEXT_FIT_OPTIONS, plain);
    const ids = this.encode('LanguageModel.fit', text);
    if (ids.length < o.batchSize + 1) throw new RangeError(`LanguageModel.fit: text must have more than batchSize (${o.batchSize}) tokens, received ${ids.length}`);
    const key = JSON.stringify(options.optimizer ?? null);
    if (!this.optimizer || key !== this.optimizerOptions) {
      this.optimizer = new Optimizer(options.optimizer, new Exec(cpu(), true), this.net.params.size, this.config.dtype);
      this.optimizerOptions = key;
    }
    const opt = this.optimizer;
    const sched = new Schedule(options.schedule, opt.config.lr);
    const history: Array<{ epoch: number; loss: number; perplexity: number; valLoss: number | null; valPerplexity: number | null; lr: number }> = [];
    const t0 = Date.now();
    let outOfTime = false;
    for (let e = 0; e < o.epochs && !outOfTime; e++) {
      let state = new Map<Layer, RecurrentState>();
      let sum = 0, n = 0, bi = 0;
      for (const w of this.windows(ids, o.batchSize, o.seqLen)) {
        if (options.signal?.aborted) throw options.signal.reason ?? new DOMException('fit was aborted', 'AbortError');
        const ctx = this.ctx(true, true, state, scratch);
        this.net.params.zeroGrad();
        let r: ReturnType<typeof computeLoss>, norm: number;
        try {
          const out = await runAsync(this.net.forward(w.x, ctx));
          state = copyStates(ctx.finalStates);
          r = computeLoss(cpu(), 'classification', out, { kind: 'classes', data: w.y }, null);
          if (!Number.isFinite(r.loss)) throw new Error(`LanguageModel.fit: non-finite loss ${r.loss} at epoch ${this.epoch}, window ${bi}, step ${opt.step + 1}`);
          await runAsync(this.net.backward(r.grad, ctx));
          const g = this.net.params.grads;
          norm = cpu().l2Norm(g);
          if (o.clipNorm !== null && norm > o.clipNorm) { const k = o.clipNorm / (norm + 1e-6); for (let i = 0; i < g.length; i++) g[i] *= k; }
          await this.weights.write(async () => { await opt.update(this.net.params.params, g, sched.lr, 0); });
        } finally {
          ctx.tape.clear();
        }
        sum += r.loss * r.count; n += r.count;
        if (options.onBatchEnd) await options.onBatchEnd({ epoch: this.epoch, batch: bi, step: opt.step, loss: r.loss, gradNorm: norm, lr: sched.lr });
        bi++;
        if (o.timeLimit !== null && (Date.now() - t0) / 1000 > o.timeLimit) { outOfTime = true; break; }
      }
      const loss = sum / Math.max(1, n);
      const val = o.validationText !== null ? await this.evaluate(o.validationText) : null;
      const info = { epoch: this.epoch, loss, perplexity: Math.exp(loss), valLoss: val ? val.loss : null, valPerplexity: val ? val.perplexity : null, lr: sched.lr };
      sched.epochEnd(this.epoch, val ? val.loss : loss);
      this.epoch++;
      history.push(info);
      if (options.onEpochEnd) await options.onEpochEnd(info);
    }
    return history;
  }

  /** Mean cross-entropy per token (nats) and perplexity of a text, state carried through. */
  async evaluate(text: string | number[], options: { batchSize?: number; seqLen?: number } = {}): Promise<{ loss: number; perplexity: number }> {
    this.live('evaluate');
    const o = resolveOptions<{ batchSize: number; seqLen: number }>('LanguageModel.evaluate', { batchSize: TEXT_FIT_OPTIONS.batchSize, seqLen: { ...TEXT_FIT_OPTIONS.seqLen, default: 200 } as FieldSpec }, options);
    const ids = this.encode('LanguageModel.evaluate', text);
    if (ids.length < 2) throw new RangeError(`LanguageModel.evaluate: text must hold at least 2 tokens, received ${ids.length}`);
    const B = Math.max(1, Math.min(o.batchSize, Math.floor((ids.length - 1) / 2)));
    return this.weights.read(() => this.scratch.using(async (scratch) => {
      let state = new Map<Layer, RecurrentState>();
      let sum = 0, n = 0;
      for (const w of this.windows(ids, B, o.seqLen)) {
        const ctx = this.ctx(true, false, state, scratch);
        const out = await runAsync(this.net.forward(w.x, ctx));
        state = copyStates(ctx.finalStates);
        const r = computeLoss(cpu(), 'classification', out, { kind: 'classes', data: w.y }, null);
        sum += r.loss * r.count; n += r.count;
      }
      const loss = sum / Math.max(1, n);
      return { loss, perplexity: Math.exp(loss) };
    }));
  }

  /** Next-token probabilities after `prompt` (for inspection and tests). */
  nextTokenProbabilities(prompt: string | number[]): number[] {
    this.live('nextTokenProbabilities');
    const ids = this.encode('LanguageModel.nextTokenProbabilities', prompt);
    if (ids.length === 0) throw new RangeError('LanguageModel.nextTokenProbabilities: prompt must hold at least one token');
    const { logits } = this.step(ids, new Map(), false);
    return softmax(logits, 1);
  }

  private step(ids: number[], state: Map<Layer, RecurrentState>, _async: false): { logits: number[]; state: Map<Layer, RecurrentState> } {
    return this.weights.readSync('LanguageModel.generate', () => this.scratch.usingSync((scratch) => {
      const ctx = this.ctx(false, false, state, scratch);
      const x: Act = { kind: 'ids', data: Int32Array.from(ids), T: ids.length, B: 1, lengths: null };
      const out = runSync(this.net.forward(x, ctx));
      const V = this.vocabulary.size;
      return { logits: Array.from(out.data.subarray((ids.length - 1) * V, ids.length * V)), state: copyStates(ctx.finalStates) };
    }));
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
    const o = resolveOptions<Required<{ maxTokens: number; temperature: number; topK: number | null; seed: number; stopAtEos: boolean }>>('LanguageModel.generate', GEN_OPTIONS, options);
    const rng = new Rng(o.seed);
    let ids = this.encode('LanguageModel.generate', prompt);
    if (ids.length === 0) ids = [this.vocabulary.bos];
    let { logits, state } = this.step(ids, new Map(), false);
    for (let i = 0; i < o.maxTokens; i++) {
      const next = pick(logits, o.temperature, o.topK, rng);
      if (o.stopAtEos && next === this.vocabulary.eos) return;
      yield next;
      ({ logits, state } = this.step([next], state, false));
    }
  }

  async save(path: string): Promise<void> {
    this.live('save');
    const tensors: Record<string, CheckpointTensor> = parameterTensors(this.net.params);
    this.optimizer?.state.forEach((s, i) => { tensors[`optimizer/state${i}`] = { data: s.slice(), shape: [s.length] }; });
    const meta = { format: 'rnnkit-model', version: 1, type: this.type, options: this.config, vocabulary: this.vocabulary.toJSON(), training: { epoch: this.epoch, rng: this.rng.getState(), optimizer: this.optimizer ? { options: this.optimizerOptions, step: this.optimizer.step } : null } };
    await saveCheckpoint(path, { meta, tensors });
  }

  static async load(path: string): Promise<LanguageModel> { return LanguageModel.fromCheckpoint(await loadCheckpoint(path), path); }

  private static fromCheckpoint(cp: Checkpoint, path: string): LanguageModel {
    const meta = cp.meta as { format?: string; type?: string; options?: Record<string, unknown>; vocabulary?: unknown; training?: { epoch: number; rng: number[]; optimizer: { options: string | null; step: number } | null } };
    if (!meta || meta.format !== 'rnnkit-model' || meta.type !== 'LanguageModel') throw new Error(`rnnkit model ${path}: not a LanguageModel file (type ${JSON.stringify(meta?.type)})`);
    const m = new LanguageModel({ ...(meta.options as object), vocabulary: Vocabulary.fromJSON(meta.vocabulary) } as LanguageModelOptions);
    m.net.loadStateDict(stateDictFromTensors(m.net.params, cp.tensors as Record<string, { data: ArrayLike<number> }>, path));
    const tr = meta.training;
    if (tr) {
      m.epoch = tr.epoch;
      m.rng.setState(tr.rng);
      if (tr.optimizer) {
        const opts = tr.optimizer.options ? JSON.parse(tr.optimizer.options) ?? undefined : undefined;
        m.optimizer = new Optimizer(opts, new Exec(cpu(), true), m.net.params.size, m.config.dtype);
        m.optimizer.step = tr.optimizer.step;
        m.optimizerOptions = tr.optimizer.options;
        m.optimizer.state.forEach((s, i) => { const t = cp.tensors[`optimizer/state${i}`]; if (t && t.data.length === s.length) s.set(t.data as ArrayLike<number>); });
      }
    }
    return m;
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
  const p = softmax(cand.map((i) => logits[i]), temperature);
  let u = rng.next();
  for (let j = 0; j < cand.length; j++) { u -= p[j]; if (u <= 0) return cand[j]; }
  return cand[cand.length - 1];
}

export type { HostArray };
