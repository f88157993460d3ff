// attentionForward / attentionBackward against a port of the loops of lib/layers/attention.ts.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import { cast, dot, DTYPES, expectGrad, expectThrows, plus, randn, relErr, rng, TOL } from './helpers';

const be = cpu();
const f64 = (n: number) => new Float64Array(n);
type Arr = ArrayLike<number>;

function refForward(
  T: number,
  S: number,
  B: number,
  Hd: number,
  He: number,
  q: Arr,
  keys: Arr,
  values: Arr,
  lengths: Int32Array | null,
) {
  const alpha = f64(T * B * S),
    ctx = f64(T * B * He);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      const len = lengths ? lengths[b] : S;
      const h = (t * B + b) * Hd,
        a = (t * B + b) * S;
      let m = -Infinity;
      for (let j = 0; j < len; j++) {
        let sc = 0;
        for (let k = 0; k < Hd; k++) sc += q[h + k] * keys[(j * B + b) * Hd + k];
        alpha[a + j] = sc;
        if (sc > m) m = sc;
      }
      let sum = 0;
      for (let j = 0; j < len; j++) {
        alpha[a + j] = Math.exp(alpha[a + j] - m);
        sum += alpha[a + j];
      }
      for (let j = 0; j < len; j++) alpha[a + j] /= sum;
      for (let j = 0; j < len; j++)
        for (let k = 0; k < He; k++) ctx[(t * B + b) * He + k] += alpha[a + j] * values[(j * B + b) * He + k];
    }
  return { alpha, ctx };
}
function refBackward(
  T: number,
  S: number,
  B: number,
  Hd: number,
  He: number,
  q: Arr,
  keys: Arr,
  values: Arr,
  lengths: Int32Array | null,
  alpha: Arr,
  dC: Arr,
) {
  const dq = f64(T * B * Hd),
    dK = f64(S * B * Hd),
    dV = f64(S * B * He),
    dA = f64(S);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      const len = lengths ? lengths[b] : S;
      const h = (t * B + b) * Hd,
        a = (t * B + b) * S,
        c = (t * B + b) * He;
      let s = 0;
      for (let j = 0; j < len; j++) {
        let g = 0;
        for (let k = 0; k < He; k++) {
          g += dC[c + k] * values[(j * B + b) * He + k];
          dV[(j * B + b) * He + k] += alpha[a + j] * dC[c + k];
        }
        dA[j] = g;
        s += alpha[a + j] * g;
      }
      for (let j = 0; j < len; j++) {
        const ds = alpha[a + j] * (dA[j] - s);
        for (let k = 0; k < Hd; k++) {
          dq[h + k] += ds * keys[(j * B + b) * Hd + k];
          dK[(j * B + b) * Hd + k] += ds * q[h + k];
        }
      }
    }
  return { dq, dK, dV };
}

const T = 3,
  S = 4,
  B = 3,
  Hd = 3,
  He = 2;
const lengths = Int32Array.from([4, 1, 3]);

describe('attention core', () => {
  const r = rng(41);
  const q = randn(T * B * Hd, r),
    keys = randn(S * B * Hd, r),
    values = randn(S * B * He, r),
    dC = randn(T * B * He, r);
  const bq = randn(T * B * Hd, r),
    bk = randn(S * B * Hd, r),
    bv = randn(S * B * He, r);
  for (const lens of [lengths, null])
    for (const dt of DTYPES) {
      it(`${dt} (lengths ${lens ? 'variable' : 'none'}): forward and backward (+=) agree with attention.ts`, () => {
        const ref = refForward(T, S, B, Hd, He, q, keys, values, lens);
        const alpha = cast(dt, new Array(T * B * S).fill(3)),
          context = cast(dt, new Array(T * B * He).fill(3));
        const c = (a: Arr) => cast(dt, a);
        be.attentionForward({
          T,
          S,
          B,
          Hd,
          He,
          q: c(q),
          keys: c(keys),
          values: c(values),
          lengths: lens,
          alpha,
          context,
        });
        expect(relErr(alpha, ref.alpha)).toBeLessThan(TOL[dt]);
        expect(relErr(context, ref.ctx)).toBeLessThan(TOL[dt]);
        if (lens) expect(Array.from(alpha.subarray(S + 1, 2 * S))).toEqual([0, 0, 0]); // beyond length 1
        const g = refBackward(T, S, B, Hd, He, q, keys, values, lens, ref.alpha, dC);
        const dq = c(bq),
          dKeys = c(bk),
          dValues = c(bv);
        be.attentionBackward({
          T,
          S,
          B,
          Hd,
          He,
          q: c(q),
          keys: c(keys),
          values: c(values),
          lengths: lens,
          alpha: c(ref.alpha),
          dContext: c(dC),
          dq,
          dKeys,
          dValues,
        });
        expect(relErr(dq, plus(bq, g.dq))).toBeLessThan(TOL[dt]);
        expect(relErr(dKeys, plus(bk, g.dK))).toBeLessThan(TOL[dt]);
        expect(relErr(dValues, plus(bv, g.dV))).toBeLessThan(TOL[dt]);
      });
    }
  it('gradients w.r.t. q, keys and values match central differences', () => {
    const qa = q.slice(),
      ka = keys.slice(),
      va = values.slice();
    const alpha = f64(T * B * S),
      context = f64(T * B * He);
    const fwd = () => be.attentionForward({ T, S, B, Hd, He, q: qa, keys: ka, values: va, lengths, alpha, context });
    const loss = () => {
      fwd();
      return dot(context, dC);
    };
    fwd();
    const dq = f64(T * B * Hd),
      dKeys = f64(S * B * Hd),
      dValues = f64(S * B * He);
    be.attentionBackward({
      T,
      S,
      B,
      Hd,
      He,
      q: qa,
      keys: ka,
      values: va,
      lengths,
      alpha,
      dContext: dC,
      dq,
      dKeys,
      dValues,
    });
    expectGrad(dq, qa, loss);
    expectGrad(dKeys, ka, loss);
    expectGrad(dValues, va, loss);
  });
  it('dot attention: keys === values and dKeys === dValues (one buffer) gives the summed gradient', () => {
    const H = 3,
      enc = randn(S * B * H, r),
      qa = randn(T * B * H, r),
      dc = randn(T * B * H, r);
    const alpha = f64(T * B * S),
      context = f64(T * B * H);
    const fwd = () =>
      be.attentionForward({ T, S, B, Hd: H, He: H, q: qa, keys: enc, values: enc, lengths, alpha, context });
    fwd();
    const dEnc = f64(S * B * H);
    be.attentionBackward({
      T,
      S,
      B,
      Hd: H,
      He: H,
      q: qa,
      keys: enc,
      values: enc,
      lengths,
      alpha,
      dContext: dc,
      dKeys: dEnc,
      dValues: dEnc,
    });
    expectGrad(dEnc, enc, () => {
      fwd();
      return dot(context, dc);
    });
  });
  it('bad input names the field', () => {
    const g = () => ({
      T,
      S,
      B,
      Hd,
      He,
      q: f64(T * B * Hd),
      keys: f64(S * B * Hd),
      values: f64(S * B * He),
      alpha: f64(T * B * S),
      context: f64(T * B * He),
    });
    expectThrows(
      () => be.attentionForward({ ...g(), lengths: Int32Array.from([4, 0, 3]) }),
      RangeError,
      /attentionForward: lengths\[1\] must be an integer in \[1, 4\], received number 0/,
    );
    expectThrows(
      () => be.attentionForward({ ...g(), lengths: Int32Array.from([4, 5, 3]) }),
      RangeError,
      /attentionForward: lengths\[1\] must be an integer in \[1, 4\], received number 5/,
    );
    expectThrows(
      () => be.attentionForward({ ...g(), values: f64(S * B * Hd) }),
      RangeError,
      /attentionForward: values must be a Float64Array of length 24 \[S,B,He\], received Float64Array of length 36/,
    );
    expectThrows(
      () => be.attentionForward({ ...g(), keys: new Float32Array(S * B * Hd) }),
      TypeError,
      /attentionForward: keys must be a Float64Array of length 36 \[S,B,Hd\], received Float32Array/,
    );
    const buf = f64(100);
    expectThrows(
      () => be.attentionForward({ ...g(), q: buf.subarray(0, 27), alpha: buf.subarray(20, 56) }),
      RangeError,
      /attentionForward: alpha must be a buffer that does not overlap q/,
    );
    const b = () => ({
      T,
      S,
      B,
      Hd,
      He,
      q: f64(T * B * Hd),
      keys: f64(S * B * Hd),
      values: f64(S * B * He),
      alpha: f64(T * B * S),
      dContext: f64(T * B * He),
    });
    const shared = f64(S * B * Hd);
    expectThrows(
      () =>
        be.attentionBackward({
          ...b(),
          He: Hd,
          values: f64(S * B * Hd),
          dContext: f64(T * B * Hd),
          dKeys: shared,
          dValues: shared,
        }),
      RangeError,
      /attentionBackward: dKeys must be a buffer that does not overlap dValues, received an overlapping view/,
    );
    const enc = f64(S * B * Hd);
    expectThrows(
      () =>
        be.attentionBackward({
          ...b(),
          He: Hd,
          keys: enc,
          values: enc,
          dContext: f64(T * B * Hd),
          dKeys: enc,
          dValues: enc,
        }),
      RangeError,
      /attentionBackward: dKeys must be a buffer that does not overlap keys/,
    );
    const dcn = f64(T * B * He);
    dcn[0] = NaN;
    expectThrows(
      () => be.attentionBackward({ ...b(), dContext: dcn, dq: f64(T * B * Hd) }),
      RangeError,
      /attentionBackward: dContext\[0\] must be a finite number, received number NaN/,
    );
  });
});
