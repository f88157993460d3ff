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
import { inspect } from 'util';
import type { DeviceOption } from '../device/default';
import { inspectText, layerRows, paramCount, summaryTable } from './summary';
import type { SummaryRow } from './summary';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint';
import type { CheckpointTensor } from '../checkpoint';
import { loadDevice, resolveDevice } from '../device/default';
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import { Gen, runAsync, runSync } from '../exec';
import { modelMemoryInfo, type ModelMemoryInfo } from './memory-info';
import { Scratch, ScratchPool } from '../graph/tape';
import { reading, readingSync, WeightsLock } from '../graph/weights-lock';
import { FieldSpec, optionsObject, resolveOptions } from '../options';
import { FlatParameters, parameterTensors } from '../params';
import { checkResolved, initializing, ModelFile, readParameters, withoutInit } from './file-checks';
import { MODEL_META_KEYS, modelMeta } from './persistence';
import { Rng } from '../rng';
import { parameterViews, Sequential, stateDictOf, loadStateDictInto } from '../sequential';
import { Embedding } from '../layers/embedding';
import type { Act, Ctx, IdsAct, Layer, RecurrentState, SeqAct, VecAct } from '../layers/layer';
import { callContext, cloneState } from '../layers/layer';
import { Linear } from '../layers/linear';
import { GRU, LSTM, RECURRENT_OPTIONS, SimpleRNN } from '../layers/recurrent';
import type { Recurrent } from '../layers/recurrent';
import { DecoderSteps, rowOf } from './seq2seq-decoder';
import { LuongAttention } from '../layers/attention';
import { FIT_OPTIONS, FitOptions, History, Metrics, resolveFit } from '../train/fit-options';
import { lengthsOn } from '../train/data';
import { computeLoss, countCorrect, IGNORE } from '../train/losses';
import type { Targets } from '../train/losses';
import { isNonFiniteInput } from '../train/pipeline';
import { BatchStats, emptyStats, FitJob, oneUpdate, StepRunner, Trainer } from '../train/trainer';
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
  /** Where tensors live and ops run (default: the CPU device). Not stored in model files. */
  device?: DeviceOption;
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
type Resolved = Required<Omit<Seq2SeqOptions, 'sourceVocabulary' | 'targetVocabulary' | 'device'>>;

/**
 * fit options of a Seq2Seq model: the FitOptions every model takes (validationData holds
 * { inputs: sources, targets }), plus scheduled sampling.
 */
export interface Seq2SeqFitOptions
  extends Omit<FitOptions, 'validationData' | 'classWeights' | 'learning' | 'tbptt' | 'bucketByLength' | 'stateful'> {
  validationData?: { inputs: Src[]; targets: Src[] };
  /** Probability of feeding the gold previous token (default 1: teacher forcing). */
  teacherForcing?: number;
  /** Multiplies the teacher-forcing ratio after every epoch of a fit call (scheduled sampling; default 1). */
  teacherForcingDecay?: number;
}
const S2S_FIT_OPTIONS: Record<string, FieldSpec> = {
  teacherForcing: { type: 'number', min: 0, max: 1, default: 1, doc: 'teacher forcing ratio' },
  teacherForcingDecay: { type: 'number', min: 0, max: 1, default: 1, doc: 'ratio decay per epoch' },
};
const S2S_FIT_OMIT = ['tbptt', 'learning', 'bucketByLength', 'stateful'];

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
  private readonly decEmb: Embedding;
  private readonly bridgeH: Linear | null;
  private readonly bridgeC: Linear | null;
  private readonly attention: LuongAttention | null;
  private readonly head: Linear;
  private rng: Rng;
  private readonly scratch: ScratchPool;
  private readonly weights = new WeightsLock();
  /** Where this model's tensors live (not stored in model files). */
  readonly device: Device;
  private trainerInstance: Trainer | null = null;
  private get trainer(): Trainer {
    if (!this.trainerInstance)
      this.trainerInstance = new Trainer('Seq2Seq', this.device, this.params, this.weights, this.scratch);
    return this.trainerInstance;
  }
  private disposed = false;
  private live(what: string): void {
    if (this.disposed) throw new Error(`Seq2Seq.${what}: the model was disposed`);
  }

  /** A table of the layers (name, type, output shape, parameters), the totals, dtype and device. */
  summary(): string {
    if (this.disposed) throw new Error('Seq2Seq.summary: the model was disposed');
    return summaryTable(this.type, this.summaryRows(), this.params, this.device);
  }
  /** console.log(model) and util.inspect(model): one line per layer. */
  [inspect.custom](): string {
    if (this.disposed) return `${this.type} (disposed)`;
    return inspectText(this.type, this.summaryRows(), this.params, this.device);
  }
  private summaryRows(): SummaryRow[] {
    const H = this.config.hiddenSize as number,
      T = this.target.size;
    const row = (name: string, type: string, output: string) => ({
      name,
      type,
      output,
      params: paramCount(this.params, name),
    });
    return [
      ...layerRows(this.enc),
      ...(this.bridgeH ? [row('bridge.h', 'Linear', `[batch, ${H}]`)] : []),
      ...(this.bridgeC ? [row('bridge.c', 'Linear', `[batch, ${H}]`)] : []),
      ...layerRows(this.dec),
      ...(this.attention ? [row('attention', 'LuongAttention', `[batch, steps, ${H}]`)] : []),
      row('head', 'Linear', `[batch, steps, ${T}]`),
    ];
  }
  /** Bytes this model holds: parameters, gradients, optimizer state, idle call scratch. */
  memoryInfo(): ModelMemoryInfo {
    if (this.disposed) throw new Error('Seq2Seq.memoryInfo: the model was disposed');
    return modelMemoryInfo(this.params, this.trainerInstance, this.scratch);
  }

  /** Frees the model's tensors (weights, optimizer state, scratch); every later call throws. */
  dispose(): void {
    if (this.disposed) return;
    if (this.trainerInstance?.isRunning)
      throw new Error('Seq2Seq.dispose: the model is training; abort or await fit first');
    this.disposed = true;
    if (this.trainerInstance) this.trainerInstance.free();
    this.trainerInstance = null;
    this.scratch.clear();
    this.params.free();
  }

  constructor(options: Seq2SeqOptions) {
    optionsObject('Seq2Seq', options);
    if (!options || !(options.sourceVocabulary instanceof Vocabulary))
      throw new TypeError('Seq2Seq: sourceVocabulary must be a Vocabulary');
    if (options.targetVocabulary !== undefined && !(options.targetVocabulary instanceof Vocabulary))
      throw new TypeError('Seq2Seq: targetVocabulary must be a Vocabulary');
    const { sourceVocabulary, targetVocabulary, device, ...rest } = options;
    this.device = resolveDevice('Seq2Seq', device);
    this.scratch = new ScratchPool(this.device);
    this.source = sourceVocabulary;
    this.target = targetVocabulary ?? sourceVocabulary;
    const c = (this.config = resolveOptions('Seq2Seq', S2S_OPTIONS, rest));
    const H = c.hiddenSize,
      D = c.bidirectional ? 2 : 1;
    const mk = (bidirectional: boolean) => {
      const o = {
        hiddenSize: H,
        numLayers: c.numLayers,
        bidirectional,
        dropout: c.dropout,
        ...(c.cell === 'lstm' ? { forgetBias: c.forgetBias } : {}),
      };
      return c.cell === 'lstm' ? new LSTM(o) : c.cell === 'gru' ? new GRU(o) : new SimpleRNN(o);
    };
    this.params = new FlatParameters(c.dtype, this.device);
    this.encRnn = mk(c.bidirectional);
    this.decRnn = mk(false);
    this.decEmb = new Embedding({ numEmbeddings: this.target.size, embeddingDim: c.embeddingDim });
    this.enc = new Sequential(
      [
        ['encoder.embedding', new Embedding({ numEmbeddings: this.source.size, embeddingDim: c.embeddingDim })],
        ['encoder.rnn', this.encRnn],
      ],
      c.dtype,
      this.params,
    );
    this.dec = new Sequential(
      [
        ['decoder.embedding', this.decEmb],
        ['decoder.rnn', this.decRnn],
      ],
      c.dtype,
      this.params,
    );
    this.enc.build({ kind: 'ids', F: this.source.size });
    this.dec.build({ kind: 'ids', F: this.target.size });
    this.bridgeH = D === 2 ? new Linear({ outFeatures: H }) : null;
    this.bridgeC = D === 2 && c.cell === 'lstm' ? new Linear({ outFeatures: H }) : null;
    if (this.bridgeH) {
      this.bridgeH.name = 'bridge.h';
      this.bridgeH.build({ kind: 'vec', F: 2 * H }, this.params);
    }
    if (this.bridgeC) {
      this.bridgeC.name = 'bridge.c';
      this.bridgeC.build({ kind: 'vec', F: 2 * H }, this.params);
    }
    this.attention = c.attention === 'none' ? null : new LuongAttention('attention', c.attention);
    this.attention?.build(this.params, H, D * H);
    this.head = new Linear({ outFeatures: this.target.size });
    this.head.name = 'head';
    this.head.build({ kind: 'seq', F: H }, this.params);
    this.params.describe('Seq2Seq', {
      ...c,
      'source vocabulary size': this.source.size,
      'target vocabulary size': this.target.size,
    });
    this.rng = new Rng(c.seed);
    if (!initializing()) return; // a load replaces the weights
    this.enc.initialize(this.rng);
    this.dec.initialize(this.rng);
    this.bridgeH?.initialize(this.params, this.rng);
    this.bridgeC?.initialize(this.params, this.rng);
    this.attention?.initialize(this.params, this.rng);
    this.head.initialize(this.params, this.rng);
  }

  parameters() {
    return parameterViews(this.params);
  }
  stateDict() {
    return stateDictOf(this.params);
  }
  loadStateDict(sd: Record<string, ArrayLike<number>>, strict = true) {
    loadStateDictInto(this.params, sd, strict);
  }

  private ctx(async: boolean, training: boolean, scratch: Scratch): Ctx {
    return callContext(this.device, async, training, this.rng, this.config.dtype, scratch);
  }

  private ids(where: string, v: Vocabulary, s: Src, i: number): number[] {
    const ids = typeof s === 'string' ? v.encode(s) : s;
    if (!Array.isArray(ids))
      throw new TypeError(`${where}: sequence ${i} must be a string or an array of token ids, received ${typeof s}`);
    if (ids.length === 0) throw new RangeError(`${where}: sequence ${i} is empty; sources need at least one token`);
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t]; // a hole reads as undefined and is refused (forEach would skip it)
      if (!Number.isInteger(id) || id < 0 || id >= v.size)
        throw new RangeError(
          `${where}: token id of sequence ${i} at step ${t} must be an integer in [0, ${v.size - 1}], received ${id}`,
        );
    }
    return ids;
  }

  /** Padded time-major ids [T,B] with lengths, on the device (the batch in). */
  private batchIds(seqs: number[][]): IdsAct {
    const B = seqs.length,
      T = Math.max(...seqs.map((s) => s.length));
    const d = new Int32Array(T * B);
    seqs.forEach((s, b) =>
      s.forEach((id, t) => {
        d[t * B + b] = id;
      }),
    );
    const lengths = Int32Array.from(seqs.map((s) => s.length));
    return { kind: 'ids', data: this.device.fromHost(d, [T, B]), T, B, lengths: lengthsOn(this.device, lengths) };
  }

  private buf(ctx: Ctx, key: string, n: number, zero = false): Tensor {
    return ctx.tape.scratch.take(this, key, ctx.dtype, n, zero);
  }

  /** Encoder pass and bridge: encoder outputs and the decoder's initial state. */
  private *encode(src: IdsAct, ctx: Ctx): Gen<{ encOut: SeqAct; init: RecurrentState }> {
    const encOut = (yield* this.enc.forward(src, ctx)) as SeqAct;
    const fin = ctx.finalStates.get(this.encRnn)!;
    const L = this.config.numLayers,
      H = this.config.hiddenSize,
      B = src.B,
      dev = ctx.device;
    const own = (t: Tensor) => dev.clone(t);
    if (!this.bridgeH) return { encOut, init: cloneState(dev, fin) };
    // [h_fwd; h_bwd] of every layer as rows (l*B + b) of one [L*B, 2H] batch
    const cat = (arr: Tensor[], key: string): VecAct => {
      const x = this.buf(ctx, key, L * B * 2 * H);
      for (let l = 0; l < L; l++)
        for (let d = 0; d < 2; d++) {
          dev.copyCols({
            N: B,
            srcF: H,
            srcOffset: 0,
            width: H,
            src: arr[2 * l + d],
            dstF: 2 * H,
            dstOffset: d * H,
            dst: dev.view(x, l * B * 2 * H, [B * 2 * H]),
          });
        }
      return { kind: 'vec', data: x, B: L * B, F: 2 * H };
    };
    const split = (a: Tensor) => Array.from({ length: L }, (_, l) => own(dev.view(a, l * B * H, [B * H])));
    const hv = (yield* this.bridgeH.forward(cat(fin.h, 'catH'), ctx, this.params)) as VecAct;
    const h = this.buf(ctx, 'bridgeTanh', L * B * H);
    dev.activationForward({ kind: 'tanh', n: L * B * H, x: hv.data, y: h });
    if (ctx.training) ctx.tape.record(this, h);
    let c: Tensor[] | null = null;
    if (this.bridgeC && fin.c)
      c = split(((yield* this.bridgeC.forward(cat(fin.c, 'catC'), ctx, this.params)) as VecAct).data);
    return { encOut, init: { h: split(h), c } };
  }

  /** Gradients w.r.t. the decoder's initial state → w.r.t. the encoder's final states. */
  private *bridgeBackward(g: RecurrentState, ctx: Ctx, B: number): Gen<RecurrentState> {
    if (!this.bridgeH) return g;
    const L = this.config.numLayers,
      H = this.config.hiddenSize,
      dev = ctx.device;
    const join = (arr: Tensor[], key: string) => {
      const x = this.buf(ctx, key, L * B * H);
      arr.forEach((a, l) => dev.copy(a, dev.view(x, l * B * H, [B * H])));
      return x;
    };
    const unpack = (dx: Tensor, out: Tensor[]) => {
      for (let l = 0; l < L; l++)
        for (let d = 0; d < 2; d++) {
          const a = dev.alloc(dx.dtype, [B * H]);
          dev.copyCols({
            N: B,
            srcF: 2 * H,
            srcOffset: d * H,
            width: H,
            src: dev.view(dx, l * B * 2 * H, [B * 2 * H]),
            dstF: H,
            dstOffset: 0,
            dst: a,
          });
          out[2 * l + d] = a;
        }
    };
    const t = ctx.tape.take<Tensor>(this, 'Seq2Seq bridge');
    const dh = this.buf(ctx, 'dBridge', L * B * H, true);
    dev.activationBackward({ kind: 'tanh', n: L * B * H, y: t, dy: join(g.h, 'joinH'), dx: dh });
    const out: RecurrentState = { h: [], c: g.c ? [] : null };
    unpack(
      ((yield* this.bridgeH.backward({ kind: 'vec', data: dh, B: L * B, F: H }, ctx, this.params)) as VecAct).data,
      out.h,
    );
    if (this.bridgeC && g.c)
      unpack(
        (
          (yield* this.bridgeC.backward(
            { kind: 'vec', data: join(g.c, 'joinC'), B: L * B, F: H },
            ctx,
            this.params,
          )) as VecAct
        ).data,
        out.c!,
      );
    return out;
  }

  /** Teacher-forced loss (mean cross-entropy per target token, end symbol included) and gradients. */
  private *step(
    src: IdsAct,
    tgtIn: IdsAct,
    tgtOut: Targets,
    ctx: Ctx,
    backward: boolean,
  ): Gen<{ loss: number; count: number; logits: Act }> {
    const { encOut, init } = yield* this.encode(src, ctx);
    ctx.initialStates.set(this.decRnn, init);
    const decOut = (yield* this.dec.forward(tgtIn, ctx)) as SeqAct;
    const att = this.attention ? this.attention.forward(ctx, this.params, decOut, encOut).out : decOut;
    const logits = yield* this.head.forward(att, ctx, this.params);
    const r = computeLoss(ctx.device, 'classification', logits, tgtOut, null);
    if (!backward) return { loss: r.loss, count: r.count, logits };
    const dAtt = (yield* this.head.backward(r.grad, ctx, this.params))!;
    if (dAtt.kind === 'ids') throw new Error('Seq2Seq: unexpected ids gradient');
    let dDec: Tensor = dAtt.data,
      dEnc: Tensor | null = null;
    if (this.attention) ({ dDec, dEnc } = this.attention.backward(ctx, this.params, dAtt.data));
    ctx.initialStateGrads = new Map();
    yield* this.dec.backward({ ...decOut, data: dDec }, ctx);
    const g0 = ctx.initialStateGrads.get(this.decRnn)!;
    ctx.finalStateGrads = new Map([[this.encRnn, yield* this.bridgeBackward(g0, ctx, src.B)]]);
    yield* this.enc.backward({ ...encOut, data: dEnc ?? this.buf(ctx, 'dEncZero', encOut.data.size, true) }, ctx);
    return { loss: r.loss, count: r.count, logits };
  }

  /** Decoder inputs (<bos> + target) and outputs (target + <eos>), time-major, on the device. */
  private targets(tgts: number[][]): { tgtIn: IdsAct; tgtOut: Targets; tgtInHost: Int32Array } {
    const seqs = tgts.map((t) => [this.target.bos, ...t]);
    const tgtIn = this.batchIds(seqs);
    const host = new Int32Array(tgtIn.T * tgtIn.B);
    seqs.forEach((s, b) =>
      s.forEach((id, t) => {
        host[t * tgtIn.B + b] = id;
      }),
    );
    const out = new Int32Array(tgtIn.T * tgtIn.B).fill(IGNORE);
    tgts.forEach((t, b) => {
      [...t, this.target.eos].forEach((id, s) => {
        out[s * tgtIn.B + b] = id;
      });
    });
    return { tgtIn, tgtOut: { kind: 'classes', data: this.device.fromHost(out) }, tgtInHost: host };
  }

  /** Teacher-forced loss of pairs and its gradient w.r.t. every parameter (accumulated in params.grads). */
  lossAndGradient(sources: Src[], targets: Src[]): number {
    this.live('lossAndGradient');
    const s = Array.from({ length: sources.length }, (_, i) =>
      this.ids('Seq2Seq.lossAndGradient', this.source, sources[i], i),
    );
    const t = targets.map((x, i) => this.ids('Seq2Seq.lossAndGradient', this.target, x, i));
    const { tgtIn, tgtOut } = this.targets(t);
    return readingSync(
      'Seq2Seq.lossAndGradient',
      this.weights,
      this.scratch,
      (scratch) => runSync(this.step(this.batchIds(s), tgtIn, tgtOut, this.ctx(false, true, scratch), true)).loss,
    );
  }

  /** Teacher-forced training on pairs; returns the History every model's fit returns. */
  async fit(sources: Src[], targets: Src[], options: Seq2SeqFitOptions = {}): Promise<History> {
    this.live('fit');
    return this.trainer.exclusive(() => this.fitWith(sources, targets, options));
  }

  private pairs(where: string, sources: Src[], targets: Src[]): { S: number[][]; T: number[][] } {
    if (!Array.isArray(sources) || !Array.isArray(targets))
      throw new TypeError(`${where}: sources and targets must be arrays`);
    if (sources.length === 0) throw new RangeError(`${where}: sources must hold at least one sequence, received 0`);
    if (targets.length !== sources.length)
      throw new RangeError(
        `${where}: targets must have one entry per source (${sources.length}), received ${targets.length}`,
      );
    // index loops: map would skip the holes of a sparse array and leave them for later code
    return {
      S: Array.from({ length: sources.length }, (_, i) => this.ids(where, this.source, sources[i], i)),
      T: Array.from({ length: targets.length }, (_, i) => this.ids(where, this.target, targets[i], i)),
    };
  }

  private async fitWith(sources: Src[], targets: Src[], options: Seq2SeqFitOptions): Promise<History> {
    const what = 'Seq2Seq.fit';
    const o = resolveFit<{ teacherForcing: number; teacherForcingDecay: number }>(
      what,
      options as FitOptions & Record<string, unknown>,
      S2S_FIT_OPTIONS,
      S2S_FIT_OMIT,
    );
    let { S, T: Tg } = this.pairs(what, sources, targets);
    let val: { S: number[][]; T: number[][] } | null = null;
    if (options.validationData) {
      const v = options.validationData;
      if (v === null || typeof v !== 'object')
        throw new TypeError(
          `${what}: validationData must be { inputs, targets }, received ${v === null ? 'null' : typeof v}`,
        );
      val = this.pairs(`${what} (validationData)`, v.inputs, v.targets);
    } else if (o.validationSplit > 0) {
      const nVal = Math.floor(S.length * o.validationSplit);
      if (nVal < 1 || nVal >= S.length)
        throw new RangeError(
          `${what}: validationSplit ${o.validationSplit} leaves ${S.length - nVal} training and ${nVal} validation pairs; both must be at least 1`,
        );
      val = { S: S.slice(S.length - nVal), T: Tg.slice(S.length - nVal) };
      S = S.slice(0, S.length - nVal);
      Tg = Tg.slice(0, Tg.length - nVal);
    }
    if (o.seed !== null) this.rng = new Rng(o.seed);
    const first = o.resume ? 0 : this.trainer.epoch;
    const ratio = (epoch: number) => o.teacherForcing * Math.pow(o.teacherForcingDecay, epoch - first);
    const job: FitJob<{ src: IdsAct; tgt: number[][]; ratio: number }> = {
      what,
      batches: (epoch) => {
        const idx = S.map((_, i) => i);
        if (o.shuffle) this.rng.shuffle(idx);
        const out = [];
        for (let i = 0; i < idx.length; i += o.batchSize) {
          const bi = idx.slice(i, i + o.batchSize);
          out.push({ src: this.batchIds(bi.map((k) => S[k])), tgt: bi.map((k) => Tg[k]), ratio: ratio(epoch) });
        }
        return out;
      },
      train: (b, run) => this.trainBatch(b.src, b.tgt, b.ratio, run),
      metrics: (loss, correct, total) => ({ loss, perplexity: Math.exp(loss), accuracy: total ? correct / total : 0 }),
      validate: val ? () => this.evaluateIds(val!.S, val!.T, o.batchSize) : null,
      epochExtra: (epoch) => ({ teacherForcing: ratio(epoch) }),
    };
    return this.trainer.fit(job, o, options as FitOptions);
  }

  private async trainBatch(src: IdsAct, tgt: number[][], ratio: number, run: StepRunner): Promise<BatchStats> {
    const t = this.targets(tgt);
    let tgtIn = t.tgtIn;
    const tgtOut = t.tgtOut;
    let r: { loss: number; count: number; logits: Act };
    try {
      if (ratio < 1) {
        const pass = await runAsync(this.step(src, tgtIn, tgtOut, this.ctx(true, false, run.scratch), false));
        tgtIn = this.mix(tgtIn, t.tgtInHost, pass.logits, ratio);
      }
      this.params.zeroGrad();
      r = await runAsync(this.step(src, tgtIn, tgtOut, this.ctx(true, true, run.scratch), true));
      if (!Number.isFinite(r.loss) && run.nonFinite(`loss ${r.loss}`)) return { ...emptyStats(), skipped: true };
    } catch (e) {
      if (isNonFiniteInput(e) && run.nonFinite(`activations (${e.message})`)) return { ...emptyStats(), skipped: true };
      throw e;
    }
    const u = await run.update();
    return oneUpdate(
      r.loss,
      r.count,
      u.skipped ? { correct: 0, total: 0 } : countCorrect(this.device, 'classification', r.logits, tgtOut),
      u,
    );
  }

  /** Teacher-forced loss (per target token, end symbol included), perplexity and token accuracy of pairs. */
  async evaluate(sources: Src[], targets: Src[], options: { batchSize?: number } = {}): Promise<Metrics> {
    this.live('evaluate');
    const bs = resolveOptions<{ batchSize: number }>(
      'Seq2Seq.evaluate',
      { batchSize: FIT_OPTIONS.batchSize },
      options,
    ).batchSize;
    const { S, T } = this.pairs('Seq2Seq.evaluate', sources, targets);
    return this.evaluateIds(S, T, bs);
  }

  private evaluateIds(S: number[][], T: number[][], batchSize: number): Promise<Metrics> {
    return reading(this.weights, this.scratch, async (scratch) => {
      let sum = 0,
        n = 0,
        correct = 0,
        total = 0;
      for (let i = 0; i < S.length; i += batchSize) {
        const src = this.batchIds(S.slice(i, i + batchSize));
        const { tgtIn, tgtOut } = this.targets(T.slice(i, i + batchSize));
        const r = await runAsync(this.step(src, tgtIn, tgtOut, this.ctx(true, false, scratch), false));
        const c = countCorrect(this.device, 'classification', r.logits, tgtOut);
        sum += r.loss * r.count;
        n += r.count;
        correct += c.correct;
        total += c.total;
      }
      const loss = sum / Math.max(1, n);
      return { loss, perplexity: Math.exp(loss), accuracy: total ? correct / total : 0 };
    });
  }

  /** Completed training epochs. */
  get epoch(): number {
    return this.trainerInstance ? this.trainerInstance.epoch : 0;
  }

  /** @internal The training state a model file stores. */
  trainingState() {
    return { ...this.trainer.save(), rng: this.rng.getState() };
  }
  /** @internal Weights and training state of a model file (options already checked). */
  restoreTraining(file: ModelFile, training: unknown): void {
    this.loadStateDict(readParameters(this.params, file, this.config));
    this.rng.setState(this.trainer.restore(training, file).rng);
  }

  /** The decoder, stepped with buffers of `maxRows` rows reused by every step of one decoding call. */
  private decoder(init: RecurrentState, maxRows: number, S: number, top: number | null): DecoderSteps {
    return new DecoderSteps(
      {
        params: this.params,
        embedding: this.decEmb,
        rnn: this.decRnn as Recurrent,
        attention: this.attention,
        head: this.head,
        V: this.target.size,
      },
      init,
      maxRows,
      S,
      top,
    );
  }

  /** Scheduled sampling: each decoder input after the first becomes the previous prediction with probability 1 − ratio. */
  private mix(tgtIn: IdsAct, host: Int32Array, logits: Act, ratio: number): IdsAct {
    if (logits.kind === 'ids') return tgtIn;
    const { T, B } = tgtIn,
      V = logits.F,
      dev = this.device;
    const best = dev.alloc('int32', [T * B]);
    dev.argmaxRows({ N: T * B, C: V, x: logits.data, out: best });
    const pred = dev.toHostSync(best) as Int32Array;
    const d = host.slice();
    for (let t = 1; t < T; t++)
      for (let b = 0; b < B; b++) {
        if (tgtIn.lengths && t >= tgtIn.lengths.host[b]) continue;
        if (this.rng.next() < ratio) continue;
        d[t * B + b] = pred[(t - 1) * B + b];
      }
    return { ...tgtIn, data: dev.fromHost(d, [T, B]) };
  }

  private encodeFor(sources: Src[], where: string, scratch: Scratch, repeat = 1) {
    const s = Array.from({ length: sources.length }, (_, i) => this.ids(where, this.source, sources[i], i));
    const ctx = this.ctx(false, false, scratch);
    const rep = s.flatMap((x) => Array.from({ length: repeat }, () => x));
    const { encOut, init } = runSync(this.encode(this.batchIds(rep), ctx));
    return { ctx, encOut, init, src: s };
  }

  /** Greedy decoding of a batch of sources. */
  greedy(sources: Src[], options: DecodeOptions = {}): Decoded[] {
    this.live('greedy');
    return readingSync('Seq2Seq.greedy', this.weights, this.scratch, (scratch) =>
      this.greedyWith(sources, options, scratch),
    );
  }

  private greedyWith(sources: Src[], options: DecodeOptions, scratch: Scratch): Decoded[] {
    const { maxLength } = decodeOptions('Seq2Seq.greedy', options, false);
    if (!Array.isArray(sources) || sources.length === 0)
      throw new RangeError('Seq2Seq.greedy: sources must be a non-empty array');
    const { ctx, encOut, init } = this.encodeFor(sources, 'Seq2Seq.greedy', scratch);
    const B = sources.length,
      S = encOut.T;
    const out: Decoded[] = sources.map(() => ({ tokens: [], text: '', logProb: 0, attention: [] }));
    const done = new Array<boolean>(B).fill(false);
    let live = B;
    const tokens = new Int32Array(B).fill(this.target.bos);
    const keys = this.attention ? this.attention.keys(ctx, this.params, encOut) : null;
    const dec = this.decoder(init, B, S, 1);
    for (let step = 0; step < maxLength && live > 0; step++) {
      const r = dec.step(tokens, B, null, encOut, keys);
      for (let b = 0; b < B; b++) {
        const best = r.indices![b];
        tokens[b] = best;
        if (done[b]) continue;
        out[b].logProb += r.values![b];
        if (r.alpha) out[b].attention.push(rowOf(r.alpha, b, S));
        if (best === this.target.eos) {
          done[b] = true;
          live--;
        } else out[b].tokens.push(best);
      }
    }
    for (const d of out) d.text = this.target.decode(d.tokens);
    return out;
  }

  /** Beam search for one source: the hypothesis with the best length-normalised score. */
  beamSearch(source: Src, options: BeamOptions = {}): Decoded & { score: number } {
    this.live('beamSearch');
    return readingSync('Seq2Seq.beamSearch', this.weights, this.scratch, (scratch) =>
      this.beamSearchWith('Seq2Seq.beamSearch', [source], options, scratch),
    )[0];
  }

  /**
   * Beam search for many sources at once: every live hypothesis of every source is one row of
   * each decoder step, so a batch costs little more than one source. Same results as
   * beamSearch(source) for each.
   */
  beamSearchBatch(sources: Src[], options: BeamOptions = {}): Array<Decoded & { score: number }> {
    this.live('beamSearchBatch');
    if (!Array.isArray(sources) || sources.length === 0)
      throw new RangeError('Seq2Seq.beamSearchBatch: sources must be a non-empty array');
    return readingSync('Seq2Seq.beamSearchBatch', this.weights, this.scratch, (scratch) =>
      this.beamSearchWith('Seq2Seq.beamSearchBatch', sources, options, scratch),
    );
  }

  private beamSearchWith(
    where: string,
    sources: Src[],
    options: BeamOptions,
    scratch: Scratch,
  ): Array<Decoded & { score: number }> {
    const { maxLength, width, lengthPenalty: alpha } = decodeOptions(where, options, true);
    const { ctx, encOut: enc, init } = this.encodeFor(sources, where, scratch);
    const dev = ctx.device;
    const S = enc.T;
    const keys = this.attention ? this.attention.keys(ctx, this.params, enc) : null;
    // A hypothesis is its last token and a pointer to the one it extends (no token arrays are
    // copied per step); `alpha` is its step's attention row, `row` the row of the step that made it.
    interface Hyp {
      token: number;
      parent: Hyp | null;
      length: number;
      logProb: number;
      alpha: number[] | null;
      row: number;
    }
    interface Done {
      hyp: Hyp; // the tokens (the end symbol not among them)
      endAlpha: number[] | null; // the attention of the step that chose the end symbol
      logProb: number;
      score: number;
    }
    const norm = (logProb: number, length: number) => logProb / Math.pow(length, alpha);
    // Per source: its live beams (a source's first step starts from its own encoder row).
    let beams: Hyp[][] = sources.map((_, n) => [
      { token: this.target.bos, parent: null, length: 0, logProb: 0, alpha: null, row: n },
    ]);
    const finished: Done[][] = sources.map(() => []);
    const dec = this.decoder(init, sources.length * width, S, width + 1); // a row's width best non-end tokens lie within its width + 1 best
    let rows: { layout: string; enc: SeqAct; keys: Tensor | null } | null = null;
    const src: number[] = [],
      parents: number[] = [],
      last: number[] = [];
    for (let step = 0; step < maxLength && beams.some((b) => b.length > 0); step++) {
      src.length = parents.length = last.length = 0;
      beams.forEach((bs, n) =>
        bs.forEach((b) => {
          src.push(n);
          parents.push(b.row);
          last.push(b.token);
        }),
      );
      // The rows' sources change only when a source gains or loses beams: reuse their encoder columns.
      const layout = src.join(',');
      if (rows === null || layout !== (rows as { layout: string }).layout)
        rows = {
          layout,
          enc: selectColumns(dev, enc, src),
          keys: keys ? selectColumns(dev, { ...enc, data: keys, F: keys.size / (enc.T * enc.B) }, src).data : null,
        };
      const r = dec.step(last, src.length, parents, rows.enc, rows.keys);
      const k = r.values!.length / r.R;
      const att: Array<number[] | null> = [];
      const attOf = (row: number) => (r.alpha ? (att[row] ??= rowOf(r.alpha, row, S)) : null);
      let row = 0;
      const next: Hyp[][] = beams.map((bs, n) => {
        const cands: Array<{ parent: Hyp; k: number; token: number; logProb: number }> = [];
        bs.forEach((b) => {
          const kr = row++;
          for (let j = 0; j < k; j++)
            cands.push({ parent: b, k: kr, token: r.indices![kr * k + j], logProb: b.logProb + r.values![kr * k + j] });
        });
        cands.sort((a, b) => b.logProb - a.logProb);
        const out: Hyp[] = [];
        for (const c of cands) {
          if (out.length >= width) break;
          const p = c.parent;
          if (c.token === this.target.eos) {
            finished[n].push({
              hyp: p,
              endAlpha: attOf(c.k),
              logProb: c.logProb,
              score: norm(c.logProb, p.length + 1),
            });
          } else
            out.push({
              token: c.token,
              parent: p,
              length: p.length + 1,
              logProb: c.logProb,
              alpha: attOf(c.k),
              row: c.k,
            });
        }
        // Stop once no live beam can still beat the best finished hypothesis: its log-probability
        // only falls, so its normalised score is at most logP / maxLength^alpha.
        if (finished[n].length > 0 && out.length > 0) {
          const bestDone = Math.max(...finished[n].map((f) => f.score));
          const bestLive = Math.max(...out.map((b) => b.logProb)) / Math.pow(maxLength, alpha);
          if (bestDone >= bestLive) return [];
        }
        return out;
      });
      beams = next;
    }
    return beams.map((bs, n) => {
      // hypotheses still open after maxLength steps compete as they are
      for (const b of bs)
        finished[n].push({ hyp: b, endAlpha: null, logProb: b.logProb, score: norm(b.logProb, b.length) });
      finished[n].sort((a, b) => b.score - a.score);
      const best = finished[n][0];
      const tokens: number[] = [],
        attention: number[][] = [];
      for (let h: Hyp | null = best.hyp; h && h.parent; h = h.parent) {
        tokens.push(h.token);
        if (h.alpha) attention.push(h.alpha);
      }
      tokens.reverse();
      attention.reverse();
      if (best.endAlpha) attention.push(best.endAlpha);
      return { tokens, text: this.target.decode(tokens), logProb: best.logProb, attention, score: best.score };
    });
  }

  /** Saves architecture, both vocabularies and weights in one file (atomic write). */
  save(path: string): Promise<void> {
    this.live('save');
    return saveSeq2Seq(this, path);
  }
  /** Loads a model file; `device` places it (default: the CPU device). */
  static async load(path: string, options: { device?: DeviceOption } = {}): Promise<Seq2Seq> {
    const device = loadDevice('Seq2Seq.load', options);
    return restoreSeq2Seq(new ModelFile(path, await loadCheckpoint(path)), device);
  }

  /**
   * Log-probability of a target given a source: of the complete sequence (end symbol included,
   * default) or of the tokens alone (`end: false`, an unfinished hypothesis).
   */
  scoreTarget(source: Src, target: Src, options: { end?: boolean } = {}): number {
    this.live('scoreTarget');
    return readingSync('Seq2Seq.scoreTarget', this.weights, this.scratch, (scratch) =>
      this.scoreTargetWith(source, target, options, scratch),
    );
  }

  private scoreTargetWith(source: Src, target: Src, options: { end?: boolean }, scratch: Scratch): number {
    if (typeof target !== 'string' && !Array.isArray(target))
      throw new TypeError(
        `Seq2Seq.scoreTarget: target must be a string or an array of token ids, received ${target === null ? 'null' : typeof target}`,
      );
    const t =
      (typeof target === 'string' ? target.length : target.length) === 0
        ? []
        : this.ids('Seq2Seq.scoreTarget', this.target, target, 0);
    const { ctx, encOut, init } = this.encodeFor([source], 'Seq2Seq.scoreTarget', scratch);
    const keys = this.attention ? this.attention.keys(ctx, this.params, encOut) : null;
    const dec = this.decoder(init, 1, encOut.T, null);
    const prev = [this.target.bos];
    let total = 0;
    for (const tok of options.end === false ? t : [...t, this.target.eos]) {
      total += dec.step(prev, 1, null, encOut, keys).logp![tok];
      prev[0] = tok;
    }
    return total;
  }
}

/** @internal */
export async function saveSeq2Seq(m: Seq2Seq, path: string): Promise<void> {
  const tr = m.trainingState();
  const tensors: Record<string, CheckpointTensor> = { ...parameterTensors(m.params), ...tr.tensors };
  const meta = {
    format: 'rnnkit-model',
    version: 1,
    type: 'Seq2Seq',
    options: m.config,
    sourceVocabulary: m.source.toJSON(),
    targetVocabulary: m.target.toJSON(),
    training: { ...tr.meta, rng: tr.rng },
  };
  await saveCheckpoint(path, { meta, tensors });
}

function restoreSeq2Seq(file: ModelFile, device?: Device): Seq2Seq {
  const meta = modelMeta(file, [...MODEL_META_KEYS, 'sourceVocabulary', 'targetVocabulary'], 'Seq2Seq');
  const options = file.record(meta.options, 'options');
  for (const k of ['sourceVocabulary', 'targetVocabulary', 'device'])
    if (Object.hasOwn(options, k)) file.fail(`options has unexpected field '${k}' (not stored there)`);
  const vocab = (field: string) =>
    file.validated(field, () => Vocabulary.fromJSON(file.object(meta[field], field, ['kind', 'tokens'])));
  const sourceVocabulary = vocab('sourceVocabulary'),
    targetVocabulary = vocab('targetVocabulary');
  const m = file.validated('options', () =>
    withoutInit(
      () => new Seq2Seq({ ...options, sourceVocabulary, targetVocabulary, device } as unknown as Seq2SeqOptions),
    ),
  );
  try {
    checkResolved(file, options, m.config);
    m.restoreTraining(file, meta.training);
    file.done();
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}

const DECODE_OPTIONS: Record<string, FieldSpec> = {
  maxLength: { type: 'int', min: 1, max: 1e6, default: 50, doc: 'most tokens' },
};
const BEAM_OPTIONS: Record<string, FieldSpec> = {
  ...DECODE_OPTIONS,
  width: { type: 'int', min: 1, max: 1e4, default: 5, doc: 'beam width' },
  lengthPenalty: { type: 'number', min: 0, max: 100, default: 0.6, doc: 'length normalisation exponent' },
};

/** Decoding options, checked by one schema (a misspelled key such as beamWidth is refused). */
function decodeOptions(where: string, options: DecodeOptions | BeamOptions, beam: boolean) {
  return resolveOptions<Required<BeamOptions>>(where, beam ? BEAM_OPTIONS : DECODE_OPTIONS, options);
}

/** The one-source encoder output [S,1,F] repeated for K beams: [S,K,F]. */
/** The encoder output's columns (sequences) src[r] for each row r: [S, R, F] with their lengths. */
function selectColumns(dev: Device, e: SeqAct, src: number[]): SeqAct {
  const { T, B, F } = e,
    R = src.length;
  if (R === B && src.every((n, r) => n === r)) return e;
  const idx = new Int32Array(T * R);
  for (let t = 0; t < T; t++) for (let r = 0; r < R; r++) idx[t * R + r] = t * B + src[r];
  const d = dev.alloc(e.data.dtype, [T * R * F]);
  dev.gatherRows({ R: T * B, N: T * R, F, src: e.data, idx: dev.fromHost(idx), dst: d });
  const lengths = e.lengths
    ? lengthsOn(
        dev,
        Int32Array.from(src, (n) => e.lengths!.host[n]),
      )
    : null;
  return { kind: 'seq', data: d, T, B: R, F, lengths };
}
