// Luong global attention (Luong, Pham and Manning 2015), without input feeding:
//   score(h_t, s_j) = h_t · s_j ('dot') or h_t · W_a s_j ('general', W_a: [Hd, He])
//   α_t = softmax over the valid source positions j < srcLen
//   c_t = Σ_j α_tj s_j,   h̃_t = tanh(W_c [c_t; h_t])   (W_c: [Hd, He + Hd], no bias)
// Computed for every decoder step at once; the weights α are returned for inspection.
import type { Tensor } from '../device/tensor';
import type { FlatParameters } from '../params';
import type { Rng } from '../rng';
import { glorotUniform } from '../init';
import type { Ctx, SeqAct } from './layer';

export type AttentionScore = 'dot' | 'general';

/** What one decoder step writes: alpha [R,S], context [R,He], cat [R,He+Hd], pre and out [R,Hd]. */
export interface AttentionStepBuffers {
  alpha: Tensor;
  context: Tensor;
  cat: Tensor;
  pre: Tensor;
  out: Tensor;
}

export class LuongAttention {
  private Hd = 0;
  private He = 0;

  constructor(
    readonly name: string,
    readonly score: AttentionScore,
  ) {}

  /** Feature size of the encoder outputs attended to. */
  get encoderSize(): number {
    return this.He;
  }

  build(params: FlatParameters, decoderSize: number, encoderSize: number): void {
    if (this.score === 'dot' && decoderSize !== encoderSize) {
      throw new RangeError(
        `attention 'dot' needs equal encoder output (${encoderSize}) and decoder (${decoderSize}) sizes; use 'general'`,
      );
    }
    this.Hd = decoderSize;
    this.He = encoderSize;
    if (this.score === 'general') params.add(`${this.name}.weight_a`, [decoderSize, encoderSize]);
    params.add(`${this.name}.weight_c`, [decoderSize, encoderSize + decoderSize]);
  }

  initialize(params: FlatParameters, rng: Rng): void {
    if (this.score === 'general') params.init(`${this.name}.weight_a`, (w) => glorotUniform(w, this.Hd, this.He, rng));
    params.init(`${this.name}.weight_c`, (w) => glorotUniform(w, this.Hd, this.He + this.Hd, rng));
  }

  private buf(ctx: Ctx, key: string, n: number, zero = false): Tensor {
    return ctx.tape.scratch.take(this, key, ctx.dtype, n, zero);
  }

  /**
   * The keys of an encoder output: W_a s_j for every source step ('general'), or the outputs
   * themselves ('dot'). Decoding computes them once per source, not once per generated token.
   */
  keys(ctx: Ctx, params: FlatParameters, enc: SeqAct): Tensor {
    if (this.score !== 'general') return enc.data;
    const keys = ctx.device.alloc(enc.data.dtype, [enc.T * enc.B * this.Hd]);
    this.projectKeys(ctx, params, enc, keys);
    return keys;
  }
  private projectKeys(ctx: Ctx, params: FlatParameters, enc: SeqAct, keys: Tensor): void {
    ctx.device.linearForward({
      N: enc.T * enc.B,
      I: this.He,
      O: this.Hd,
      x: enc.data,
      weight: params.param(`${this.name}.weight_a`),
      y: keys,
    });
  }

  /**
   * dec: [T,B,Hd]; enc: [S,B,He] with lengths; keys: from keys(enc), or computed here. Returns
   * h̃ [T,B,Hd] and α [T,B,S].
   */
  forward(
    ctx: Ctx,
    params: FlatParameters,
    dec: SeqAct,
    enc: SeqAct,
    cachedKeys: Tensor | null = null,
  ): { out: SeqAct; alpha: Tensor } {
    const { T, B } = dec,
      S = enc.T,
      Hd = this.Hd,
      He = this.He,
      dev = ctx.device;
    let keys: Tensor = cachedKeys ?? enc.data;
    if (this.score === 'general' && !cachedKeys) {
      keys = this.buf(ctx, 'keys', S * B * Hd);
      this.projectKeys(ctx, params, enc, keys);
    }
    const alpha = this.buf(ctx, 'alpha', T * B * S);
    const context = this.buf(ctx, 'context', T * B * He);
    dev.attentionForward({
      T,
      S,
      B,
      Hd,
      He,
      q: dec.data,
      keys,
      values: enc.data,
      lengths: enc.lengths?.dev ?? null,
      alpha,
      context,
    });
    // [c_t; h_t] rows, then h̃ = tanh(W_c [c; h])
    const cat = this.buf(ctx, 'cat', T * B * (He + Hd));
    dev.copyCols({ N: T * B, srcF: He, srcOffset: 0, width: He, src: context, dstF: He + Hd, dstOffset: 0, dst: cat });
    dev.copyCols({
      N: T * B,
      srcF: Hd,
      srcOffset: 0,
      width: Hd,
      src: dec.data,
      dstF: He + Hd,
      dstOffset: He,
      dst: cat,
    });
    const pre = this.buf(ctx, 'pre', T * B * Hd);
    dev.linearForward({ N: T * B, I: He + Hd, O: Hd, x: cat, weight: params.param(`${this.name}.weight_c`), y: pre });
    const tilde = this.buf(ctx, 'tilde', T * B * Hd);
    dev.activationForward({ kind: 'tanh', n: T * B * Hd, x: pre, y: tilde });
    if (ctx.training) ctx.tape.record(this, { dec, enc, keys, alpha, cat, tilde });
    return { out: { ...dec, data: tilde, F: Hd }, alpha };
  }

  /**
   * @internal forward for one decoder step of R rows (q [R,Hd] against enc [S,R,He] and its
   * keys) into buffers the caller owns: the same ops as forward, nothing taken from a scratch.
   */
  /** @internal W_c [Hd,He+Hd], for the fused decoder step. */
  combineWeight(params: FlatParameters): Tensor {
    return params.param(`${this.name}.weight_c`);
  }

  stepInto(params: FlatParameters, q: Tensor, R: number, enc: SeqAct, keys: Tensor, b: AttentionStepBuffers): void {
    const S = enc.T,
      Hd = this.Hd,
      He = this.He,
      dev = params.device;
    dev.attentionForward({
      T: 1,
      S,
      B: R,
      Hd,
      He,
      q,
      keys,
      values: enc.data,
      lengths: enc.lengths?.dev ?? null,
      alpha: b.alpha,
      context: b.context,
    });
    dev.copyCols({ N: R, srcF: He, srcOffset: 0, width: He, src: b.context, dstF: He + Hd, dstOffset: 0, dst: b.cat });
    dev.copyCols({ N: R, srcF: Hd, srcOffset: 0, width: Hd, src: q, dstF: He + Hd, dstOffset: He, dst: b.cat });
    dev.linearForward({ N: R, I: He + Hd, O: Hd, x: b.cat, weight: params.param(`${this.name}.weight_c`), y: b.pre });
    dev.activationForward({ kind: 'tanh', n: R * Hd, x: b.pre, y: b.out });
  }

  /** Gradients w.r.t. the decoder and encoder outputs; parameter gradients accumulate. */
  backward(ctx: Ctx, params: FlatParameters, dOut: Tensor): { dDec: Tensor; dEnc: Tensor } {
    const { dec, enc, keys, alpha, cat, tilde } = ctx.tape.take<{
      dec: SeqAct;
      enc: SeqAct;
      keys: Tensor;
      alpha: Tensor;
      cat: Tensor;
      tilde: Tensor;
    }>(this, 'attention');
    const { T, B } = dec,
      S = enc.T,
      Hd = this.Hd,
      He = this.He,
      dev = ctx.device;
    const dPre = this.buf(ctx, 'dPre', T * B * Hd, true);
    dev.activationBackward({ kind: 'tanh', n: T * B * Hd, y: tilde, dy: dOut, dx: dPre });
    const dCat = this.buf(ctx, 'dCat', T * B * (He + Hd), true);
    dev.linearBackward({
      N: T * B,
      I: He + Hd,
      O: Hd,
      x: cat,
      weight: params.param(`${this.name}.weight_c`),
      dy: dPre,
      dx: dCat,
      dWeight: params.gradient(`${this.name}.weight_c`),
    });
    const dContext = this.buf(ctx, 'dContext', T * B * He);
    dev.copyCols({
      N: T * B,
      srcF: He + Hd,
      srcOffset: 0,
      width: He,
      src: dCat,
      dstF: He,
      dstOffset: 0,
      dst: dContext,
    });
    const dDec = this.buf(ctx, 'dDec', T * B * Hd);
    dev.copyCols({ N: T * B, srcF: He + Hd, srcOffset: He, width: Hd, src: dCat, dstF: Hd, dstOffset: 0, dst: dDec });
    const dEnc = this.buf(ctx, 'dEnc', S * B * He, true);
    const dKeys = this.score === 'general' ? this.buf(ctx, 'dKeys', S * B * Hd, true) : dEnc;
    dev.attentionBackward({
      T,
      S,
      B,
      Hd,
      He,
      q: dec.data,
      keys,
      values: enc.data,
      lengths: enc.lengths?.dev ?? null,
      alpha,
      dContext,
      dq: dDec,
      dKeys,
      dValues: dEnc,
    });
    if (this.score === 'general') {
      dev.linearBackward({
        N: S * B,
        I: He,
        O: Hd,
        x: enc.data,
        weight: params.param(`${this.name}.weight_a`),
        dy: dKeys,
        dx: dEnc,
        dWeight: params.gradient(`${this.name}.weight_a`),
      });
    }
    return { dDec, dEnc };
  }
}
