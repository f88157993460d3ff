// timePoolForward / timePoolBackward against a port of lib/layers/pooling.ts, float64 and
// float32, with variable and zero lengths.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import type { TimePoolMode } from '../lib/native';
import { cast, dot, DTYPES, expectGrad, expectThrows, randn, relErr, rng, TOL } from './helpers';

const be = cpu();
const f64 = (n: number) => new Float64Array(n);

/** The loops of TimePooling.forward/backward (lib/layers/pooling.ts), backward made additive. */
function refForward(
  mode: TimePoolMode,
  T: number,
  B: number,
  F: number,
  x: ArrayLike<number>,
  lengths: Int32Array | null,
) {
  const y = f64(B * F),
    am = new Int32Array(B * F).fill(-1);
  for (let b = 0; b < B; b++) {
    const len = lengths ? lengths[b] : T;
    if (len === 0) continue;
    if (mode === 'last') for (let j = 0; j < F; j++) y[b * F + j] = x[((len - 1) * B + b) * F + j];
    else if (mode === 'mean') {
      for (let t = 0; t < len; t++) for (let j = 0; j < F; j++) y[b * F + j] += x[(t * B + b) * F + j];
      for (let j = 0; j < F; j++) y[b * F + j] /= len;
    } else {
      for (let j = 0; j < F; j++) {
        let best = -Infinity,
          at = 0;
        for (let t = 0; t < len; t++) {
          const v = x[(t * B + b) * F + j];
          if (v > best) {
            best = v;
            at = t;
          }
        }
        y[b * F + j] = best;
        am[b * F + j] = at;
      }
    }
  }
  return { y, am };
}
function refBackward(
  mode: TimePoolMode,
  T: number,
  B: number,
  F: number,
  dy: ArrayLike<number>,
  lengths: Int32Array | null,
  am: Int32Array,
  base: Float64Array,
) {
  const dx = base.slice();
  for (let b = 0; b < B; b++) {
    const len = lengths ? lengths[b] : T;
    if (len === 0) continue;
    for (let j = 0; j < F; j++) {
      const g = dy[b * F + j];
      if (mode === 'last') dx[((len - 1) * B + b) * F + j] += g;
      else if (mode === 'mean') for (let t = 0; t < len; t++) dx[(t * B + b) * F + j] += g / len;
      else dx[(am[b * F + j] * B + b) * F + j] += g;
    }
  }
  return dx;
}

const T = 5,
  B = 4,
  F = 3;
const lengths = Int32Array.from([5, 2, 0, 1]);
const modes: TimePoolMode[] = ['last', 'mean', 'max'];

describe('time pooling', () => {
  const r = rng(31);
  const x = randn(T * B * F, r, 2),
    dy = randn(B * F, r),
    base = randn(T * B * F, r);
  for (const mode of modes)
    for (const lens of [lengths, null])
      for (const dt of DTYPES) {
        it(`${mode} ${dt} (lengths ${lens ? 'variable' : 'none'}): forward and backward (+=) agree with pooling.ts`, () => {
          const ref = refForward(mode, T, B, F, x, lens);
          const y = cast(dt, new Array(B * F).fill(4)),
            argmax = new Int32Array(B * F).fill(9);
          be.timePoolForward({ T, B, F, mode, x: cast(dt, x), lengths: lens, y, argmax });
          expect(relErr(y, ref.y)).toBeLessThan(TOL[dt]);
          expect(Array.from(argmax)).toEqual(Array.from(ref.am));
          if (lens) expect(Array.from(y.subarray(2 * F, 3 * F))).toEqual([0, 0, 0]); // zero-length row
          const dx = cast(dt, base);
          be.timePoolBackward({
            T,
            B,
            F,
            mode,
            dy: cast(dt, dy),
            lengths: lens,
            argmax: mode === 'max' ? argmax : null,
            dx,
          });
          expect(relErr(dx, refBackward(mode, T, B, F, dy, lens, ref.am, base))).toBeLessThan(TOL[dt]);
        });
      }
  for (const mode of modes) {
    it(`${mode}: the backward matches central differences (variable and zero lengths)`, () => {
      const xa = x.slice(),
        y = f64(B * F),
        argmax = new Int32Array(B * F);
      const loss = () => {
        be.timePoolForward({ T, B, F, mode, x: xa, lengths, y, argmax });
        return dot(y, dy);
      };
      loss();
      const dx = f64(T * B * F);
      be.timePoolBackward({ T, B, F, mode, dy, lengths, argmax: mode === 'max' ? argmax : null, dx });
      expectGrad(dx, xa, loss);
    });
  }
  it('max ties pick the earliest step; argmax is optional except for max', () => {
    const xt = Float64Array.from([1, 3, 3, 2]); // T=4, B=1, F=1
    const y = f64(1),
      argmax = new Int32Array(1);
    be.timePoolForward({ T: 4, B: 1, F: 1, mode: 'max', x: xt, y, argmax });
    expect([y[0], argmax[0]]).toEqual([3, 1]);
    be.timePoolForward({ T: 4, B: 1, F: 1, mode: 'mean', x: xt, y });
    expect(y[0]).toBe(2.25);
  });
  it('bad input names the field', () => {
    const g = () => ({
      T,
      B,
      F,
      mode: 'max' as TimePoolMode,
      x: f64(T * B * F),
      y: f64(B * F),
      argmax: new Int32Array(B * F),
    });
    expectThrows(
      () => be.timePoolForward({ ...g(), lengths: Int32Array.from([1, 2, 6, 0]) }),
      RangeError,
      /timePoolForward: lengths\[2\] must be an integer in \[0, 5\], received number 6/,
    );
    expectThrows(
      () => be.timePoolForward({ ...g(), argmax: null }),
      TypeError,
      /timePoolForward: argmax must be an Int32Array of length 12 \[B,F\], received null/,
    );
    expectThrows(
      () => be.timePoolForward({ ...g(), x: new Float32Array(T * B * F) }),
      TypeError,
      /timePoolForward: y must be a Float32Array of length 12 \[B,F\], received Float64Array/,
    );
    expectThrows(
      () => be.timePoolForward({ ...g(), mode: 'min' as never }),
      RangeError,
      /timePoolForward: mode must be one of 'last' 'mean' 'max', received string "min"/,
    );
    const xn = f64(T * B * F);
    xn[4] = Infinity;
    expectThrows(
      () => be.timePoolForward({ ...g(), x: xn }),
      RangeError,
      /timePoolForward: x\[4\] must be a finite number, received number Infinity/,
    );
    const ints = new Int32Array(16);
    expectThrows(
      () => be.timePoolForward({ ...g(), lengths: ints.subarray(0, 4), argmax: ints.subarray(2, 14) }),
      RangeError,
      /timePoolForward: argmax must be a buffer that does not overlap lengths/,
    );
    const buf = f64(T * B * F + B * F);
    expectThrows(
      () =>
        be.timePoolForward({
          ...g(),
          x: buf.subarray(0, T * B * F),
          y: buf.subarray(T * B * F - 1, T * B * F + B * F - 1),
        }),
      RangeError,
      /timePoolForward: y must be a buffer that does not overlap x/,
    );
    const am = new Int32Array(B * F);
    am[5] = 5;
    expectThrows(
      () => be.timePoolBackward({ T, B, F, mode: 'max', dy: f64(B * F), argmax: am, dx: f64(T * B * F) }),
      RangeError,
      /timePoolBackward: argmax\[5\] must be an integer in \[0, 4\] or -1, received number 5/,
    );
    expectThrows(
      () => be.timePoolBackward({ T, B, F, mode: 'mean', dy: f64(B * F), dx: f64(T * B * F - 1) }),
      RangeError,
      /timePoolBackward: dx must be a Float64Array of length 60 \[T,B,F\], received Float64Array of length 59/,
    );
  });
});
