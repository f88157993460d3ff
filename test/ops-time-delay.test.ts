// timeDelayForward / timeDelayBackward against a plain-JS reference, with history and lengths.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import { cast, dot, DTYPES, expectGrad, expectThrows, randn, relErr, rng, TOL } from './helpers';

const be = cpu();
const f64 = (n: number) => new Float64Array(n);

function ref(
  T: number,
  B: number,
  F: number,
  taps: Int32Array,
  x: ArrayLike<number>,
  lengths: Int32Array | null,
  history: ArrayLike<number> | null,
) {
  const K = taps.length,
    D = Math.max(...taps),
    y = f64(T * B * K * F);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      if (lengths && t >= lengths[b]) continue;
      for (let k = 0; k < K; k++)
        for (let f = 0; f < F; f++) {
          const s = t - taps[k];
          y[((t * B + b) * K + k) * F + f] =
            s >= 0 ? x[(s * B + b) * F + f] : history ? history[((D + s) * B + b) * F + f] : 0;
        }
    }
  return y;
}

const T = 5,
  B = 3,
  F = 2;
const taps = Int32Array.from([0, 2, 1, 3]),
  K = 4,
  D = 3;
const lengths = Int32Array.from([5, 0, 2]);

describe('time-delay gather', () => {
  const r = rng(71);
  const x = randn(T * B * F, r),
    hist = randn(D * B * F, r),
    dy = randn(T * B * K * F, r);
  const bx = randn(T * B * F, r),
    bh = randn(D * B * F, r);
  for (const lens of [lengths, null])
    for (const withHist of [true, false])
      for (const dt of DTYPES) {
        it(`${dt} (lengths ${lens ? 'variable' : 'none'}, history ${withHist}): forward and backward (+=) agree`, () => {
          const c = (a: ArrayLike<number>) => cast(dt, a);
          const y = c(new Array(T * B * K * F).fill(8));
          be.timeDelayForward({ T, B, F, K, taps, x: c(x), lengths: lens, history: withHist ? c(hist) : null, y });
          expect(relErr(y, ref(T, B, F, taps, x, lens, withHist ? hist : null))).toBeLessThan(TOL[dt]);
          // backward reference: the transpose, by linearity of the gather (ref applied to unit vectors is slow; build directly)
          const rx = bx.slice(),
            rh = bh.slice();
          for (let t = 0; t < T; t++)
            for (let b = 0; b < B; b++) {
              if (lens && t >= lens[b]) continue;
              for (let k = 0; k < K; k++)
                for (let f = 0; f < F; f++) {
                  const s = t - taps[k],
                    g = dy[((t * B + b) * K + k) * F + f];
                  if (s >= 0) rx[(s * B + b) * F + f] += g;
                  else rh[((D + s) * B + b) * F + f] += g;
                }
            }
          const dx = c(bx),
            dHistory = c(bh);
          be.timeDelayBackward({
            T,
            B,
            F,
            K,
            taps,
            lengths: lens,
            dy: c(dy),
            dx,
            dHistory: withHist ? dHistory : null,
          });
          expect(relErr(dx, rx)).toBeLessThan(TOL[dt]);
          if (withHist) expect(relErr(dHistory, rh)).toBeLessThan(TOL[dt]);
          else expect(Array.from(dHistory)).toEqual(Array.from(c(bh)));
        });
      }
  it('gradients w.r.t. x and history match central differences (variable and zero lengths)', () => {
    const xa = x.slice(),
      ha = hist.slice(),
      y = f64(T * B * K * F);
    const loss = () => {
      be.timeDelayForward({ T, B, F, K, taps, x: xa, lengths, history: ha, y });
      return dot(y, dy);
    };
    const dx = f64(T * B * F),
      dHistory = f64(D * B * F);
    be.timeDelayBackward({ T, B, F, K, taps, lengths, dy, dx, dHistory });
    expectGrad(dx, xa, loss);
    expectGrad(dHistory, ha, loss);
  });
  it('padding steps and taps before the start give 0 without history', () => {
    const y = f64(T * B * K * F).fill(5);
    be.timeDelayForward({ T, B, F, K, taps, x, lengths, y });
    expect(y.subarray((0 * B + 1) * K * F, (0 * B + 2) * K * F).every((v) => v === 0)).toBe(true); // b=1 has length 0
    expect(y[((0 * B + 0) * K + 1) * F]).toBe(0); // t=0, tap 2
    expect(y[((0 * B + 0) * K + 0) * F]).toBe(x[0]); // tap 0
  });
  it('bad input names the field', () => {
    const g = () => ({ T, B, F, K, taps, x: f64(T * B * F), y: f64(T * B * K * F) });
    expectThrows(
      () => be.timeDelayForward({ ...g(), taps: Int32Array.from([0, -1, 1, 2]) }),
      RangeError,
      /timeDelayForward: taps\[1\] must be an integer in \[0, 2147483647\], received number -1/,
    );
    expectThrows(
      () => be.timeDelayForward({ ...g(), taps: Int32Array.from([0, 1]) }),
      RangeError,
      /timeDelayForward: taps must be an Int32Array of length 4 \[K\], received Int32Array of length 2/,
    );
    expectThrows(
      () => be.timeDelayForward({ ...g(), history: f64(2 * B * F) }),
      RangeError,
      /timeDelayForward: history must be a Float64Array of length 18 \[D,B,F\] \(D = max tap\), received Float64Array of length 12/,
    );
    expectThrows(
      () => be.timeDelayForward({ ...g(), lengths: Int32Array.from([1, 6, 0]) }),
      RangeError,
      /timeDelayForward: lengths\[1\] must be an integer in \[0, 5\], received number 6/,
    );
    expectThrows(
      () => be.timeDelayForward({ ...g(), y: new Float32Array(T * B * K * F) }),
      TypeError,
      /timeDelayForward: y must be a Float64Array of length 120 \[T,B,K\*F\], received Float32Array/,
    );
    const buf = f64(200);
    expectThrows(
      () => be.timeDelayForward({ ...g(), x: buf.subarray(0, 30), y: buf.subarray(29, 149) }),
      RangeError,
      /timeDelayForward: y must be a buffer that does not overlap x/,
    );
    expectThrows(
      () =>
        be.timeDelayBackward({
          T,
          B,
          F,
          K,
          taps,
          dy: f64(T * B * K * F),
          dx: f64(T * B * F),
          dHistory: f64(D * B * F - 1),
        }),
      RangeError,
      /timeDelayBackward: dHistory must be a Float64Array of length 18/,
    );
  });
});
