// Encoder–decoder sequence to sequence (Sutskever et al. 2014; Luong et al. 2015): an encoder
// stack (optionally bidirectional) whose final states initialise a unidirectional decoder
// stack; optional Luong attention over the encoder outputs; a linear output layer.
//
// Bridge: with a unidirectional encoder the decoder starts from the encoder's final states
// layer by layer. With a bidirectional encoder, each layer's forward and backward final states
// are concatenated and projected: h0 = tanh(W_h [h_fwd; h_bwd] + b_h) (and, for LSTM,
// c0 = W_c [c_fwd; c_bwd] + b_c), one projection shared by all layers ('bridge.h', 'bridge.c').
//
// Scheduled sampling (Bengio et al. 2015) in two passes: a teacher-forced pass without
// gradients predicts every step; each decoder input after the first is then replaced by the
// previous step's prediction with probability 1 − ratio, and the training pass runs on that
// mixed input. (Predictions come from the gold prefix, not the mixed one; the argmax carries
// no gradient either way.)
import { loadCheckpoint, saveCheckpoint } from '../checkpoint';
import type { Checkpoint, CheckpointTensor } from '../checkpoint';
import { cpu } from '../cpu-backend';
import { Exec, Gen, runAsync, runSync } from '../exec';
import { Scratch, ScratchPool, Tape } from '../graph/tape';
import { WeightsLock } from '../graph/weights-lock';
import type { HostArray } from '../native';
import { FieldSpec, resolveOptions } from '../options';
import { FlatParameters, parameterTensors, stateDictFromTensors } from '../params';
import { Rng } from '../rng';
import { parameterViews, Sequential, stateDictOf, loadStateDictInto } from '../sequential';
import { Embedding } from '../layers/embedding';
import type { Act, Ctx, IdsAct, Layer, RecurrentState, SeqAct, VecAct } from '../layers/layer';
import { allocLike } from '../layers/layer';
import { Linear } from '../layers/linear';
import { GRU, LSTM, RECURRENT_OPTIONS, SimpleRNN } from '../layers/recurrent';
import { LuongAttention } from '../layers/attention';
import { computeLoss, IGNORE } from '../train/losses';
import { Optimizer, OptimizerOptions } from '../train/optimizer';
import { Vocabulary } from '../text/vocab';

export interface Seq2SeqOptions {
  /** Vocabulary of the source side. Required. */
  sourceVocabulary: Vocabulary;
  /** Vocabulary of the target side (default: the source vocabulary). */
  targetVocabulary?: Vocabulary;
  cell?: 'lstm' | 'gru' | 'rnn';
  embeddingDim?: number;
  /** Hidden units of the decoder and of each encoder direction. Required. */
  hiddenSize: number;
  numLayers?: number;
  /** Bidirectional encoder (its states are bridged to the decoder, see above). */
  bidirectional?: boolean;
  /** 'none' (default), 'dot' or 'general' Luong attention. */
  attention?: 'none' | 'dot' | 'general';
  dropout?: number;
  forgetBias?: number;
  seed?: number;
  dtype?: 'float32' | 'float64';
}
const S2S_OPTIONS: Record<string, FieldSpec> = {
  cell: { type: 'enum', values: ['lstm', 'gru', 'rnn'], default: 'lstm', doc: 'cell' },
  embeddingDim: { type: 'int', min: 1, default: 64, doc: 'embedding size' },
  hiddenSize: RECURRENT_OPTIONS.hiddenSize,
  numLayers: RECURRENT_OPTIONS.numLayers,
  bidirectional: RECURRENT_OPTIONS.bidirectional,
  attention: { type: 'enum', values: ['none', 'dot', 'general'], default: 'none', doc: 'attention' },
  dropout: RECURRENT_OPTIONS.dropout,
  forgetBias: RECURRENT_OPTIONS.forgetBias,
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, default: 0, doc: 'seed' },
  dtype: { type: 'enum', values: ['float32', 'float64'], default: 'float32', doc: 'element type' },
};
type Resolved = Required<Omit<Seq2SeqOptions, 'sourceVocabulary' | 'targetVocabulary'>>;

export interface Seq2SeqFitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  optimizer?: OptimizerOptions;
  clipNorm?: number | null;
  /** Probability of feeding the gold previous token (default 1: teacher forcing). */
  teacherForcing?: number;
  /** Multiplies the teacher-forcing ratio after every epoch (scheduled sampling; default 1). */
  teacherForcingDecay?: number;
  onEpochEnd?: (info: { epoch: number; loss: number; teacherForcing: number }) => void | Promise<void>;
  signal?: AbortSignal;
}
const FIT_OPTIONS: Record<string, FieldSpec> = {
  epochs: { type: 'int', min: 0, default: 1, doc: 'epochs' },
  batchSize: { type: 'int', min: 1, default: 32, doc: 'pairs per batch' },
  shuffle: { type: 'bool', default: true, doc: 'shuffle' },
  clipNorm: { type: 'number', min: 0, default: 5, nullable: true, doc: 'clip' },
  teacherForcing: { type: 'number', min: 0, max: 1, default: 1, doc: 'teacher forcing ratio' },
  teacherForcingDecay: { type: 'number', min: 0, max: 1, default: 1, doc: 'ratio decay per epoch' },
};

export interface DecodeOptions {
  /** Most tokens to produce, end symbol included (default 50). */
  maxLength?: number;
}
export interface BeamOptions extends DecodeOptions {
  /** Beam width (default 5). */
  width?: number;
  /** Length normalisation: a hypothesis scores logP / length^alpha (default 0.6; 0 = raw log-probability). */
  lengthPenalty?: number;
}
export interface Decoded {
  /** Target token ids, without the end symbol. */
  tokens: number[];
  /** Decoded text. */
  text: string;
  /** Sum of log-probabilities of the tokens (end symbol included when produced). */
  logProb: number;
  /** Attention weights [step][source position] (empty without attention). */
  attention: number[][];
}

type Src = string | number[];

export class Seq2Seq {
  readonly type = 'Seq2Seq';
  readonly source: Vocabulary;
  readonly target: Vocabulary;
  readonly config: Resolved;
  readonly params: FlatParameters;
  private readonly enc: Sequential;
  private readonly dec: Sequential;
  private readonly encRnn: Layer;
  private readonly decRnn: Layer;
  private readonly bridgeH: Linear | null;
  private readonly bridgeC: Linear | null;
  private readonly attention: LuongAttention | null;
  private readonly head: Linear;
  private rng: Rng;
  private optimizer: Optimizer | null = null;
  private busy = false;
  private readonly scratch = new ScratchPool();
  private readonly weights = new WeightsLock();
  epoch = 0;


  constructor(options: Seq2SeqOptions) {
    if (!options || !(options.sourceVocabulary instanceof Vocabulary)) throw new TypeError('Seq2Seq: sourceVocabulary must be a Vocabulary');
    if (options.targetVocabulary !== undefined && !(options.targetVocabulary instanceof Vocabulary)) throw new TypeError('Seq2Seq: targetVocabulary must be a Vocabulary');
    const { sourceVocabulary, targetVocabulary, ...rest } = options;
    this.source = sourceVocabulary;
    this.target = targetVocabulary ?? sourceVocabulary;
    const c = (this.config = resolveOptions('Seq2Seq', S2S_OPTIONS, rest));
    const H = c.hiddenSize, D = c.bidirectional ? 2 : 1;
    const mk = (bidirectional: boolean) => {
      const o = { hiddenSize: H, numLayers: c.numLayers, bidirectional, dropout: c.dropout, ...(c.cell === 'lstm' ? { forgetBias: c.forgetBias } : {}) };
      return c.cell === 'lstm' ? new LSTM(o) : c.cell === 'gru' ? new GRU(o) : new SimpleRNN(o);
    };
    this.params = new FlatParameters(c.dtype);
    this.encRnn = mk(c.bidirectional);
    this.decRnn = mk(false);
    this.enc = new Sequential([['encoder.embedding', new Embedding({ numEmbeddings: this.source.size, embeddingDim: c.embeddingDim })], ['encoder.rnn', this.encRnn]], c.dtype, this.params);
    this.dec = new Sequential([['decoder.embedding', new Embedding({ numEmbeddings: this.target.size, embeddingDim: c.embeddingDim })], ['decoder.rnn', this.decRnn]], c.dtype, this.params);
    this.enc.build({ kind: 'ids', F: this.source.size });
    this.dec.build({ kind: 'ids', F: this.target.size });
    this.bridgeH = D === 2 ? new Linear({ outFeatures: H }) : null;
    this.bridgeC = D === 2 && c.cell === 'lstm' ? new Linear({ outFeatures: H }) : null;
    if (this.bridgeH) { this.bridgeH.name = 'bridge.h'; this.bridgeH.build({ kind: 'vec', F: 2 * H }, this.params); }
    if (this.bridgeC) { this.bridgeC.name = 'bridge.c'; this.bridgeC.build({ kind: 'vec', F: 2 * H }, this.params); }
    this.attention = c.attention === 'none' ? null : new LuongAttention('attention', c.attention);
    this.attention?.build(this.params, H, D * H);
    this.head = new Linear({ outFeatures: this.target.size });
    this.head.name = 'head';
    this.head.build({ kind: 'seq', F: H }, this.params);
    this.rng = new Rng(c.seed);
    this.enc.initialize(this.rng);
    this.dec.initialize(this.rng);
    this.bridgeH?.initialize(this.params, this.rng);
    this.bridgeC?.initialize(this.params, this.rng);
    this.attention?.initialize(this.params, this.rng);
    this.head.initialize(this.params, this.rng);
  }

  parameters() { return parameterViews(this.params); }
  stateDict() { return stateDictOf(this.params); }
  loadStateDict(sd: Record<string, ArrayLike<number>>, strict = true) { loadStateDictInto(this.params, sd, strict); }

  private ctx(async: boolean, training: boolean, scratch: Scratch): Ctx {
    scratch.reset();
    return {
      exec: new Exec(cpu(), async), training, rng: this.rng, dtype: this.config.dtype,
      initialStates: new Map(), finalStates: new Map(), tape: new Tape(scratch),
    };
  }

  private ids(where: string, v: Vocabulary, s: Src, i: number): number[] {
    const ids = typeof s === 'string' ? v.encode(s) : s;
    if (!Array.isArray(ids)) throw new TypeError(`${where}: sequence ${i} must be a string or an array of token ids, received ${typeof s}`);
    if (ids.length === 0) throw new RangeError(`${where}: sequence ${i} is empty; sources need at least one token`);
    ids.forEach((id, t) => { if (!Number.isInteger(id) || id < 0 || id >= v.size) throw new RangeError(`${where}: token id of sequence ${i} at step ${t} must be an integer in [0, ${v.size - 1}], received ${id}`); });
    return ids;
  }

  /** Padded time-major ids [T,B] with lengths. */
  private batchIds(seqs: number[][]): IdsAct {
    const B = seqs.length, T = Math.max(...seqs.map((s) => s.length));
    const d = new Int32Array(T * B);
    seqs.forEach((s, b) => s.forEach((id, t) => { d[t * B + b] = id; }));
    return { kind: 'ids', data: d, T, B, lengths: Int32Array.from(seqs.map((s) => s.length)) };
  }

  /** Encoder pass and bridge: encoder outputs and the decoder's initial state. */
  private *encode(src: IdsAct, ctx: Ctx): Gen<{ encOut: SeqAct; init: RecurrentState }> {
    const encOut = (yield* this.enc.forward(src, ctx)) as SeqAct;
    const fin = ctx.finalStates.get(this.encRnn)!;
    const L = this.config.numLayers, H = this.config.hiddenSize, B = src.B;
    if (!this.bridgeH) return { encOut, init: { h: fin.h.map((a) => a.slice()), c: fin.c ? fin.c.map((a) => a.slice()) : null } };
    const cat = (arr: HostArray[]) => {
      const x = allocLike(this.config.dtype, L * B * 2 * H);
      for (let l = 0; l < L; l++) for (let b = 0; b < B; b++) {
        x.set(arr[2 * l].subarray(b * H, (b + 1) * H), (l * B + b) * 2 * H);
        x.set(arr[2 * l + 1].subarray(b * H, (b + 1) * H), (l * B + b) * 2 * H + H);
      }
      return { kind: 'vec' as const, data: x, B: L * B, F: 2 * H };
    };
    const split = (a: HostArray) => Array.from({ length: L }, (_, l) => a.slice(l * B * H, (l + 1) * B * H));
    const hv = (yield* this.bridgeH.forward(cat(fin.h), ctx, this.params)) as VecAct;
    const h = hv.data.slice();
    for (let i = 0; i < h.length; i++) h[i] = Math.tanh(h[i]);
    if (ctx.training) ctx.tape.record(this, h);
    let c: HostArray[] | null = null;
    if (this.bridgeC && fin.c) c = split(((yield* this.bridgeC.forward(cat(fin.c), ctx, this.params)) as VecAct).data.slice());
    return { encOut, init: { h: split(h), c } };
  }

  /** Gradients w.r.t. the decoder's initial state → w.r.t. the encoder's final states. */
  private *bridgeBackward(g: RecurrentState, ctx: Ctx, B: number): Gen<RecurrentState> {
    if (!this.bridgeH) return g;
    const L = this.config.numLayers, H = this.config.hiddenSize;
    const join = (arr: HostArray[]) => { const x = allocLike(this.config.dtype, L * B * H); arr.forEach((a, l) => x.set(a, l * B * H)); return x; };
    const unpack = (dx: HostArray, out: HostArray[]) => {
      for (let l = 0; l < L; l++) for (let d = 0; d < 2; d++) {
        const a = allocLike(this.config.dtype, B * H);
        for (let b = 0; b < B; b++) a.set(dx.subarray((l * B + b) * 2 * H + d * H, (l * B + b) * 2 * H + d * H + H), b * H);
        out[2 * l + d] = a;
      }
    };
    const dh = join(g.h), t = ctx.tape.take<HostArray>(this, 'Seq2Seq bridge');
    for (let i = 0; i < dh.length; i++) dh[i] *= 1 - t[i] * t[i];
    const out: RecurrentState = { h: [], c: g.c ? [] : null };
    unpack(((yield* this.bridgeH.backward({ kind: 'vec', data: dh, B: L * B, F: H }, ctx, this.params)) as VecAct).data, out.h);
    if (this.bridgeC && g.c) unpack(((yield* this.bridgeC.backward({ kind: 'vec', data: join(g.c), B: L * B, F: H }, ctx, this.params)) as VecAct).data, out.c!);
    return out;
  }

  /** Teacher-forced loss (mean cross-entropy per target token, end symbol included) and gradients. */
  private *step(src: IdsAct, tgtIn: IdsAct, tgtOut: Int32Array, ctx: Ctx, backward: boolean): Gen<{ loss: number; count: number; logits: Act }> {
    const { encOut, init } = yield* this.encode(src, ctx);
    ctx.initialStates.set(this.decRnn, init);
    const decOut = (yield* this.dec.forward(tgtIn, ctx)) as SeqAct;
    const att = this.attention ? this.attention.forward(ctx, this.params, decOut, encOut).out : decOut;
    const logits = yield* this.head.forward(att, ctx, this.params);
    const r = computeLoss(cpu(), 'classification', logits, { kind: 'classes', data: tgtOut }, null);
    if (!backward) return { loss: r.loss, count: r.count, logits };
    const dAtt = (yield* this.head.backward(r.grad, ctx, this.params))!;
    if (dAtt.kind === 'ids') throw new Error('Seq2Seq: unexpected ids gradient');
    let dDec: HostArray = dAtt.data, dEnc: HostArray | null = null;
    if (this.attention) ({ dDec, dEnc } = this.attention.backward(ctx, this.params, dAtt.data));
    ctx.initialStateGrads = new Map();
    yield* this.dec.backward({ ...decOut, data: dDec }, ctx);
    const g0 = ctx.initialStateGrads.get(this.decRnn)!;
    ctx.finalStateGrads = new Map([[this.encRnn, yield* this.bridgeBackward(g0, ctx, src.B)]]);
    yield* this.enc.backward({ ...encOut, data: dEnc ?? allocLike(this.config.dtype, encOut.data.length) }, ctx);
    return { loss: r.loss, count: r.count, logits };
  }

  /** Decoder inputs (<bos> + target) and outputs (target + <eos>), time-major. */
  private targets(tgts: number[][]): { tgtIn: IdsAct; tgtOut: Int32Array } {
    const tgtIn = this.batchIds(tgts.map((t) => [this.target.bos, ...t]));
    const out = new Int32Array(tgtIn.T * tgtIn.B).fill(IGNORE);
    tgts.forEach((t, b) => { [...t, this.target.eos].forEach((id, s) => { out[s * tgtIn.B + b] = id; }); });
    return { tgtIn, tgtOut: out };
  }

  /** Teacher-forced loss of pairs and its gradient w.r.t. every parameter (accumulated in params.grads). */
  lossAndGradient(sources: Src[], targets: Src[]): number {
    const s = sources.map((x, i) => this.ids('Seq2Seq.lossAndGradient', this.source, x, i));
    const t = targets.map((x, i) => this.ids('Seq2Seq.lossAndGradient', this.target, x, i));
    const { tgtIn, tgtOut } = this.targets(t);
    return this.weights.readSync('Seq2Seq.lossAndGradient', () => this.scratch.usingSync((scratch) => (
      runSync(this.step(this.batchIds(s), tgtIn, tgtOut, this.ctx(false, true, scratch), true)).loss)));
  }

  async fit(sources: Src[], targets: Src[], options: Seq2SeqFitOptions = {}) {
    if (this.busy) throw new Error('Seq2Seq.fit: the model is already training (another fit is running); one model runs one fit at a time');
    this.busy = true;
    const scratch = this.scratch.acquire();
    try {
      return await this.fitWith(sources, targets, options, scratch);
    } finally {
      this.busy = false;
      this.scratch.release(scratch);
    }
  }

  private async fitWith(sources: Src[], targets: Src[], options: Seq2SeqFitOptions, scratch: Scratch) {
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options)) if (!['optimizer', 'onEpochEnd', 'signal'].includes(k)) plain[k] = v;
    const o = resolveOptions<{ epochs: number; batchSize: number; shuffle: boolean; clipNorm: number | null; teacherForcing: number; teacherForcingDecay: number }>('Seq2Seq.fit', FIT_OPTIONS, plain);
    if (!Array.isArray(sources) || !Array.isArray(targets)) throw new TypeError('Seq2Seq.fit: sources and targets must be arrays');
    if (sources.length === 0) throw new RangeError('Seq2Seq.fit: sources must hold at least one sequence, received 0');
    if (targets.length !== sources.length) throw new RangeError(`Seq2Seq.fit: targets must have one entry per source (${sources.length}), received ${targets.length}`);
    const S = sources.map((x, i) => this.ids('Seq2Seq.fit', this.source, x, i));
    const Tg = targets.map((x, i) => this.ids('Seq2Seq.fit', this.target, x, i));
    if (!this.optimizer) this.optimizer = new Optimizer(options.optimizer, new Exec(cpu(), true), this.params.size, this.config.dtype);
    const opt = this.optimizer;
    const history: Array<{ epoch: number; loss: number; teacherForcing: number }> = [];
    for (let e = 0; e < o.epochs; e++) {
      const ratio = o.teacherForcing * Math.pow(o.teacherForcingDecay, e);
      const idx = S.map((_, i) => i);
      if (o.shuffle) this.rng.shuffle(idx);
      let sum = 0, n = 0;
      for (let i = 0; i < idx.length; i += o.batchSize) {
        if (options.signal?.aborted) throw options.signal.reason ?? new DOMException('fit was aborted', 'AbortError');
        const bi = idx.slice(i, i + o.batchSize);
        const src = this.batchIds(bi.map((k) => S[k]));
        let { tgtIn, tgtOut } = this.targets(bi.map((k) => Tg[k]));
        let r: { loss: number; count: number };
        {
          if (ratio < 1) tgtIn = yield_mix(tgtIn, await runAsync(this.step(src, tgtIn, tgtOut, this.ctx(true, false, scratch), false)), ratio, this.rng);
          this.params.zeroGrad();
          r = await runAsync(this.step(src, tgtIn, tgtOut, this.ctx(true, true, scratch), true));
          if (!Number.isFinite(r.loss)) throw new Error(`Seq2Seq.fit: non-finite loss ${r.loss} at epoch ${this.epoch}, step ${opt.step + 1}`);
          const g = this.params.grads;
          const norm = cpu().l2Norm(g);
          if (o.clipNorm !== null && norm > o.clipNorm) { const k = o.clipNorm / (norm + 1e-6); for (let j = 0; j < g.length; j++) g[j] *= k; }
          await this.weights.write(async () => { await opt.update(this.params.params, g, opt.config.lr, 0); });
        }
        sum += r.loss * r.count; n += r.count;
      }
      const info = { epoch: this.epoch, loss: sum / Math.max(1, n), teacherForcing: ratio };
      this.epoch++;
      history.push(info);
      if (options.onEpochEnd) await options.onEpochEnd(info);
    }
    return history;
  }

  /** One decoder step for a batch: log-probabilities [B][V], attention [B][S], new state. */
  private decodeStep(ctx: Ctx, encOut: SeqAct, tokens: number[], state: RecurrentState) {
    ctx.initialStates = new Map([[this.decRnn, state]]);
    ctx.finalStates = new Map();
    const decOut = runSync(this.dec.forward({ kind: 'ids', data: Int32Array.from(tokens), T: 1, B: tokens.length, lengths: null }, ctx)) as SeqAct;
    let att: SeqAct = decOut, alpha: Float64Array | null = null;
    if (this.attention) ({ out: att, alpha } = this.attention.forward(ctx, this.params, decOut, encOut));
    const logits = runSync(this.head.forward(att, ctx, this.params));
    const V = this.target.size, S = encOut.T;
    const logp = tokens.map((_, b) => {
      const z = Array.from(logits.data.subarray(b * V, (b + 1) * V));
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
      return z.map((v) => v - lse);
    });
    const attention = tokens.map((_, b) => (alpha ? Array.from(alpha.subarray(b * S, (b + 1) * S)) : []));
    const fin = ctx.finalStates.get(this.decRnn)!;
    return { logp, attention, state: { h: fin.h.map((a) => a.slice()), c: fin.c ? fin.c.map((a) => a.slice()) : null } };
  }

  private encodeFor(sources: Src[], where: string, scratch: Scratch, repeat = 1) {
    const s = sources.map((x, i) => this.ids(where, this.source, x, i));
    const ctx = this.ctx(false, false, scratch);
    const rep = s.flatMap((x) => Array.from({ length: repeat }, () => x));
    const { encOut, init } = runSync(this.encode(this.batchIds(rep), ctx));
    return { ctx, encOut, init, src: s };
  }

  /** Greedy decoding of a batch of sources. */
  greedy(sources: Src[], options: DecodeOptions = {}): Decoded[] {
    return this.weights.readSync('Seq2Seq.greedy', () => this.scratch.usingSync((scratch) => this.greedyWith(sources, options, scratch)));
  }

  private greedyWith(sources: Src[], options: DecodeOptions, scratch: Scratch): Decoded[] {
    const maxLength = decodeLength('Seq2Seq.greedy', options.maxLength);
    if (!Array.isArray(sources) || sources.length === 0) throw new RangeError('Seq2Seq.greedy: sources must be a non-empty array');
    const { ctx, encOut, init } = this.encodeFor(sources, 'Seq2Seq.greedy', scratch);
    const B = sources.length;
    const out: Decoded[] = sources.map(() => ({ tokens: [], text: '', logProb: 0, attention: [] }));
    const done = new Array<boolean>(B).fill(false);
    let tokens = new Array<number>(B).fill(this.target.bos), state = init;
    for (let step = 0; step < maxLength && done.some((d) => !d); step++) {
      const r = this.decodeStep(ctx, encOut, tokens, state);
      state = r.state;
      tokens = r.logp.map((lp, b) => {
        const best = lp.indexOf(Math.max(...lp));
        if (!done[b]) {
          out[b].logProb += lp[best];
          if (r.attention[b].length) out[b].attention.push(r.attention[b]);
          if (best === this.target.eos) done[b] = true; else out[b].tokens.push(best);
        }
        return best;
      });
    }
    for (const d of out) d.text = this.target.decode(d.tokens);
    return out;
  }

  /** Beam search for one source: the hypothesis with the best length-normalised score. */
  beamSearch(source: Src, options: BeamOptions = {}): Decoded & { score: number } {
    return this.weights.readSync('Seq2Seq.beamSearch', () => this.scratch.usingSync((scratch) => this.beamSearchWith(source, options, scratch)));
  }

  private beamSearchWith(source: Src, options: BeamOptions, scratch: Scratch): Decoded & { score: number } {
    const maxLength = decodeLength('Seq2Seq.beamSearch', options.maxLength);
    const width = options.width ?? 5, alpha = options.lengthPenalty ?? 0.6;
    if (!Number.isInteger(width) || width < 1) throw new RangeError(`Seq2Seq.beamSearch: width must be an integer >= 1, received ${width}`);
    if (!Number.isFinite(alpha) || alpha < 0) throw new RangeError(`Seq2Seq.beamSearch: lengthPenalty must be a finite number >= 0, received ${alpha}`);
    const { ctx, encOut: enc1, init: init1 } = this.encodeFor([source], 'Seq2Seq.beamSearch', scratch);
    const H = this.config.hiddenSize;
    interface Hyp { tokens: number[]; logProb: number; attention: number[][]; row: number }
    const norm = (h: { logProb: number; tokens: number[] }, ended: boolean) => h.logProb / Math.pow(h.tokens.length + (ended ? 1 : 0), alpha);
    let beams: Hyp[] = [{ tokens: [], logProb: 0, attention: [], row: 0 }];
    let state = init1;
    const finished: Array<Hyp & { score: number }> = [];
    for (let step = 0; step < maxLength && beams.length > 0; step++) {
      const K = beams.length;
      const encOut = repeatEnc(enc1, K);
      const r = this.decodeStep(ctx, encOut, beams.map((b) => (b.tokens.length ? b.tokens[b.tokens.length - 1] : this.target.bos)), gatherState(state, beams.map((b) => b.row), H));
      const cands: Array<{ parent: number; token: number; logProb: number }> = [];
      beams.forEach((b, k) => r.logp[k].forEach((lp, token) => cands.push({ parent: k, token, logProb: b.logProb + lp })));
      cands.sort((a, b) => b.logProb - a.logProb);
      const next: Hyp[] = [];
      for (const c of cands) {
        if (next.length >= width) break;
        const p = beams[c.parent];
        const att = r.attention[c.parent].length ? [...p.attention, r.attention[c.parent]] : p.attention;
        if (c.token === this.target.eos) {
          const h = { tokens: p.tokens, logProb: c.logProb, attention: att, row: 0 };
          finished.push({ ...h, score: norm(h, true) });
        } else next.push({ tokens: [...p.tokens, c.token], logProb: c.logProb, attention: att, row: c.parent });
      }
      state = r.state;
      beams = next;
      // Stop once no live beam can still beat the best finished hypothesis: its log-probability
      // only falls, so its normalised score is at most logP / maxLength^alpha.
      if (finished.length > 0 && beams.length > 0) {
        const bestDone = Math.max(...finished.map((f) => f.score));
        const bestLive = Math.max(...beams.map((b) => b.logProb)) / Math.pow(maxLength, alpha);
        if (bestDone >= bestLive) { beams = []; break; }
      }
    }
    // hypotheses still open after maxLength steps compete as they are
    for (const b of beams) finished.push({ ...b, score: norm(b, false) });
    finished.sort((a, b) => b.score - a.score);
    const best = finished[0];
    return { tokens: best.tokens, text: this.target.decode(best.tokens), logProb: best.logProb, attention: best.attention, score: best.score };
  }

  /** Saves architecture, both vocabularies and weights in one file (atomic write). */
  save(path: string): Promise<void> { return saveSeq2Seq(this, path); }
  static async load(path: string): Promise<Seq2Seq> { return restoreSeq2Seq(await loadCheckpoint(path), path); }

  /**
   * Log-probability of a target given a source: of the complete sequence (end symbol included,
   * default) or of the tokens alone (`end: false`, an unfinished hypothesis).
   */
  scoreTarget(source: Src, target: Src, options: { end?: boolean } = {}): number {
    return this.weights.readSync('Seq2Seq.scoreTarget', () => this.scratch.usingSync((scratch) => this.scoreTargetWith(source, target, options, scratch)));
  }

  private scoreTargetWith(source: Src, target: Src, options: { end?: boolean }, scratch: Scratch): number {
    const t = (typeof target === 'string' ? target.length : target.length) === 0 ? [] : this.ids('Seq2Seq.scoreTarget', this.target, target, 0);
    const { ctx, encOut, init } = this.encodeFor([source], 'Seq2Seq.scoreTarget', scratch);
    let state = init, prev = this.target.bos, total = 0;
    for (const tok of options.end === false ? t : [...t, this.target.eos]) {
      const r = this.decodeStep(ctx, encOut, [prev], state);
      total += r.logp[0][tok];
      state = r.state;
      prev = tok;
    }
    return total;
  }
}

/** @internal */
export async function saveSeq2Seq(m: Seq2Seq, path: string): Promise<void> {
  const tensors: Record<string, CheckpointTensor> = parameterTensors(m.params);
  const meta = { format: 'rnnkit-model', version: 1, type: 'Seq2Seq', options: m.config, sourceVocabulary: m.source.toJSON(), targetVocabulary: m.target.toJSON(), training: { epoch: m.epoch } };
  await saveCheckpoint(path, { meta, tensors });
}

function restoreSeq2Seq(cp: Checkpoint, path: string): Seq2Seq {
  const meta = cp.meta as { format?: string; type?: string; options?: object; sourceVocabulary?: unknown; targetVocabulary?: unknown; training?: { epoch?: number } };
  if (!meta || meta.format !== 'rnnkit-model' || meta.type !== 'Seq2Seq') throw new Error(`rnnkit model ${path}: not a Seq2Seq file (type ${JSON.stringify(meta?.type)})`);
  const m = new Seq2Seq({ ...(meta.options as object), sourceVocabulary: Vocabulary.fromJSON(meta.sourceVocabulary), targetVocabulary: Vocabulary.fromJSON(meta.targetVocabulary) } as Seq2SeqOptions);
  m.loadStateDict(stateDictFromTensors(m.params, cp.tensors as Record<string, { data: ArrayLike<number> }>, path));
  m.epoch = meta.training?.epoch ?? 0;
  return m;
}

function decodeLength(where: string, v: number | undefined): number {
  const n = v ?? 50;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${where}: maxLength must be an integer >= 1, received ${v}`);
  return n;
}

function repeatEnc(e: SeqAct, K: number): SeqAct {
  if (K === 1) return e;
  const { T, F } = e;
  const d = e.data instanceof Float64Array ? new Float64Array(T * K * F) : new Float32Array(T * K * F);
  for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) d.set(e.data.subarray(t * F, (t + 1) * F), (t * K + k) * F);
  return { kind: 'seq', data: d, T, B: K, F, lengths: e.lengths ? new Int32Array(K).fill(e.lengths[0]) : null };
}

function gatherState(s: RecurrentState, rows: number[], H: number): RecurrentState {
  const g = (a: HostArray) => { const o = a instanceof Float64Array ? new Float64Array(rows.length * H) : new Float32Array(rows.length * H); rows.forEach((r, i) => o.set(a.subarray(r * H, (r + 1) * H), i * H)); return o; };
  return { h: s.h.map(g), c: s.c ? s.c.map(g) : null };
}

/** Scheduled sampling: each decoder input after the first becomes the previous prediction with probability 1 − ratio. */
function yield_mix(tgtIn: IdsAct, pass: { logits: Act }, ratio: number, rng: Rng): IdsAct {
  const { T, B } = tgtIn, L = pass.logits;
  if (L.kind === 'ids') return tgtIn;
  const V = L.F, d = tgtIn.data.slice();
  for (let t = 1; t < T; t++) for (let b = 0; b < B; b++) {
    if (tgtIn.lengths && t >= tgtIn.lengths[b]) continue;
    if (rng.next() < ratio) continue;
    const row = L.data.subarray(((t - 1) * B + b) * V, ((t - 1) * B + b + 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
    d[t * B + b] = best;
  }
  return { ...tgtIn, data: d };
}
