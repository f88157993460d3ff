// Luong global attention (Luong, Pham and Manning 2015), without input feeding:
//   score(h_t, s_j) = h_t · s_j ('dot') or h_t · W_a s_j ('general', W_a: [Hd, He])
//   α_t = softmax over the valid source positions j < srcLen
//   c_t = Σ_j α_tj s_j,   h̃_t = tanh(W_c [c_t; h_t])   (W_c: [Hd, He + Hd], no bias)
// Computed for every decoder step at once; the weights α are returned for inspection.
import type { HostArray } from '../native';
import type { FlatParameters } from '../params';
import type { Rng } from '../rng';
import { glorotUniform } from '../init';
import { allocLike, Ctx, SeqAct } from './layer';

export type AttentionScore = 'dot' | 'general';

export class LuongAttention {
  private Hd = 0;
  private He = 0;

  constructor(readonly name: string, readonly score: AttentionScore) {}

  build(params: FlatParameters, decoderSize: number, encoderSize: number): void {
    if (this.score === 'dot' && decoderSize !== encoderSize) {
      throw new RangeError(`attention 'dot' needs equal encoder output (${encoderSize}) and decoder (${decoderSize}) sizes; use 'general'`);
    }
    this.Hd = decoderSize;
    this.He = encoderSize;
    if (this.score === 'general') params.add(`${this.name}.weight_a`, [decoderSize, encoderSize]);
    params.add(`${this.name}.weight_c`, [decoderSize, encoderSize + decoderSize]);
  }

  initialize(params: FlatParameters, rng: Rng): void {
    if (this.score === 'general') glorotUniform(params.param(`${this.name}.weight_a`), this.Hd, this.He, rng);
    glorotUniform(params.param(`${this.name}.weight_c`), this.Hd, this.He + this.Hd, rng);
  }

  /** dec: [T,B,Hd]; enc: [S,B,He] with lengths. Returns h̃ [T,B,Hd] and α [T,B,S]. */
  forward(ctx: Ctx, params: FlatParameters, dec: SeqAct, enc: SeqAct): { out: SeqAct; alpha: Float64Array } {
    const { T, B } = dec, S = enc.T, Hd = this.Hd, He = this.He, be = ctx.exec.be;
    let encA: HostArray = enc.data;
    if (this.score === 'general') {
      encA = allocLike(ctx.dtype, S * B * Hd);
      be.linearForward({ N: S * B, I: He, O: Hd, x: enc.data, weight: params.param(`${this.name}.weight_a`), y: encA });
    }
    const alpha = new Float64Array(T * B * S);
    const cat = allocLike(ctx.dtype, T * B * (He + Hd));
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) {
      const len = enc.lengths ? enc.lengths[b] : S;
      const h = (t * B + b) * Hd, a = (t * B + b) * S;
      let m = -Infinity;
      for (let j = 0; j < len; j++) {
        let sc = 0;
        const e = (j * B + b) * Hd;
        for (let k = 0; k < Hd; k++) sc += dec.data[h + k] * encA[e + k];
        alpha[a + j] = sc;
        if (sc > m) m = sc;
      }
      let sum = 0;
      for (let j = 0; j < len; j++) { alpha[a + j] = Math.exp(alpha[a + j] - m); sum += alpha[a + j]; }
      for (let j = 0; j < len; j++) alpha[a + j] /= sum;
      const c = (t * B + b) * (He + Hd);
      for (let j = 0; j < len; j++) {
        const w = alpha[a + j], e = (j * B + b) * He;
        for (let k = 0; k < He; k++) cat[c + k] += w * enc.data[e + k];
      }
      for (let k = 0; k < Hd; k++) cat[c + He + k] = dec.data[h + k];
    }
    const tilde = allocLike(ctx.dtype, T * B * Hd);
    be.linearForward({ N: T * B, I: He + Hd, O: Hd, x: cat, weight: params.param(`${this.name}.weight_c`), y: tilde });
    for (let i = 0; i < tilde.length; i++) tilde[i] = Math.tanh(tilde[i]);
    if (ctx.training) ctx.tape.record(this, { dec, enc, encA, alpha, cat, tilde });
    return { out: { ...dec, data: tilde, F: Hd }, alpha };
  }

  /** Gradients w.r.t. the decoder and encoder outputs; parameter gradients accumulate. */
  backward(ctx: Ctx, params: FlatParameters, dOut: HostArray): { dDec: HostArray; dEnc: HostArray } {
    const cc = ctx.tape.take<{ dec: SeqAct; enc: SeqAct; encA: HostArray; alpha: Float64Array; cat: HostArray; tilde: HostArray }>(this, 'attention');
    const { dec, enc, encA, alpha, cat, tilde } = cc;
    const { T, B } = dec, S = enc.T, Hd = this.Hd, He = this.He, be = ctx.exec.be;
    const dPre = allocLike(ctx.dtype, T * B * Hd);
    for (let i = 0; i < dPre.length; i++) dPre[i] = dOut[i] * (1 - tilde[i] * tilde[i]);
    const dCat = allocLike(ctx.dtype, T * B * (He + Hd));
    be.linearBackward({ N: T * B, I: He + Hd, O: Hd, x: cat, weight: params.param(`${this.name}.weight_c`), dy: dPre, dx: dCat, dWeight: params.gradient(`${this.name}.weight_c`) });
    const dDec = allocLike(ctx.dtype, T * B * Hd);
    const dEnc = allocLike(ctx.dtype, S * B * He);
    const dEncA = this.score === 'general' ? allocLike(ctx.dtype, S * B * Hd) : dEnc;
    const dAlpha = new Float64Array(S);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) {
      const len = enc.lengths ? enc.lengths[b] : S;
      const h = (t * B + b) * Hd, a = (t * B + b) * S, c = (t * B + b) * (He + Hd);
      for (let k = 0; k < Hd; k++) dDec[h + k] += dCat[c + He + k];
      let dot = 0;
      for (let j = 0; j < len; j++) {
        const e = (j * B + b) * He;
        let g = 0;
        for (let k = 0; k < He; k++) { g += dCat[c + k] * enc.data[e + k]; dEnc[e + k] += alpha[a + j] * dCat[c + k]; }
        dAlpha[j] = g;
        dot += alpha[a + j] * g;
      }
      for (let j = 0; j < len; j++) {
        const ds = alpha[a + j] * (dAlpha[j] - dot), e = (j * B + b) * Hd;
        for (let k = 0; k < Hd; k++) { dDec[h + k] += ds * encA[e + k]; dEncA[e + k] += ds * dec.data[h + k]; }
      }
    }
    if (this.score === 'general') {
      be.linearBackward({ N: S * B, I: He, O: Hd, x: enc.data, weight: params.param(`${this.name}.weight_a`), dy: dEncA, dx: dEnc, dWeight: params.gradient(`${this.name}.weight_a`) });
    }
    return { dDec, dEnc };
  }
}
