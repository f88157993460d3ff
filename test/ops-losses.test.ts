// sigmoidBce, masked mseLoss, countCorrect and countCorrectMultilabel against ports of
// lib/train/losses.ts (masks as the valid rows of a padded sequence batch).
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import { cast, DTYPES, expectGrad, expectThrows, randn, relErr, rng, TOL } from './helpers';

const be = cpu();
const f64 = (n: number) => new Float64Array(n);
const IGNORE = -100;

/** computeLoss of losses.ts for 'regression' / 'multilabel', with scale on the gradient. */
function refLoss(
  task: 'regression' | 'multilabel',
  N: number,
  F: number,
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  mask: Uint8Array | null,
  scale = 1,
) {
  const grad = f64(N * F);
  const count = mask ? mask.reduce((a, v) => a + v, 0) : N;
  const n = count * F;
  if (n === 0) return { loss: 0, grad };
  let total = 0;
  for (let r = 0; r < N; r++) {
    if (mask && !mask[r]) continue;
    for (let j = 0; j < F; j++) {
      const i = r * F + j,
        zi = z[i],
        t = y[i];
      if (task === 'regression') {
        const d = zi - t;
        total += d * d;
        grad[i] = ((2 * d) / n) * scale;
      } else {
        total += Math.max(zi, 0) - zi * t + Math.log1p(Math.exp(-Math.abs(zi)));
        grad[i] = ((1 / (1 + Math.exp(-zi)) - t) / n) * scale;
      }
    }
  }
  return { loss: total / n, grad };
}
function refCount(
  task: 'classification' | 'multilabel',
  N: number,
  F: number,
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  mask: Uint8Array | null,
) {
  let correct = 0,
    total = 0;
  for (let r = 0; r < N; r++) {
    if (mask && !mask[r]) continue;
    if (task === 'classification') {
      const t = y[r];
      if (t === IGNORE) continue;
      let best = 0;
      for (let j = 1; j < F; j++) if (z[r * F + j] > z[r * F + best]) best = j;
      total++;
      if (best === t) correct++;
    } else {
      total++;
      let ok = true;
      for (let j = 0; j < F; j++)
        if (z[r * F + j] > 0 !== y[r * F + j] > 0.5) {
          ok = false;
          break;
        }
      if (ok) correct++;
    }
  }
  return { correct, total };
}

const N = 6,
  F = 3;
const mask = Uint8Array.from([1, 0, 1, 1, 0, 1]);

describe('sigmoidBce and masked mseLoss', () => {
  const r = rng(51);
  const z = randn(N * F, r, 3),
    tBin = Float64Array.from({ length: N * F }, () => (r() > 0.5 ? 1 : 0)),
    tVal = randn(N * F, r);
  tBin[4] = 0.3; // soft targets are allowed
  for (const m of [mask, null])
    for (const dt of DTYPES) {
      it(`${dt} (mask ${m ? 'yes' : 'no'}): loss and gradient (overwritten, scaled) as losses.ts`, () => {
        const c = (a: ArrayLike<number>) => cast(dt, a);
        const ref = refLoss('multilabel', N, F, z, tBin, m, 0.5);
        const dl = c(new Array(N * F).fill(9));
        const loss = be.sigmoidBce({ N, F, logits: c(z), targets: c(tBin), mask: m, scale: 0.5, dlogits: dl });
        expect(Math.abs(loss - ref.loss) / ref.loss).toBeLessThan(TOL[dt]);
        expect(relErr(dl, ref.grad)).toBeLessThan(TOL[dt]);
        const rm = refLoss('regression', N, F, z, tVal, m, 2);
        const dp = c(new Array(N * F).fill(9));
        const mse = be.mseLoss({ n: N * F, F, pred: c(z), target: c(tVal), mask: m, scale: 2, dpred: dp });
        expect(Math.abs(mse - rm.loss) / rm.loss).toBeLessThan(TOL[dt]);
        expect(relErr(dp, rm.grad)).toBeLessThan(TOL[dt]);
      });
    }
  it('gradients match central differences (masked rows get none)', () => {
    const za = z.slice(),
      dl = f64(N * F),
      dp = f64(N * F);
    be.sigmoidBce({ N, F, logits: za, targets: tBin, mask, dlogits: dl });
    expectGrad(dl, za, () => be.sigmoidBce({ N, F, logits: za, targets: tBin, mask }));
    be.mseLoss({ n: N * F, F, pred: za, target: tVal, mask, dpred: dp });
    expectGrad(dp, za, () => be.mseLoss({ n: N * F, F, pred: za, target: tVal, mask }));
    expect(Array.from(dl.subarray(F, 2 * F))).toEqual([0, 0, 0]);
  });
  it('no counted row gives loss 0 and a zero gradient; mseLoss without mask is unchanged', () => {
    const dl = f64(N * F).fill(1);
    expect(be.sigmoidBce({ N, F, logits: z, targets: tBin, mask: new Uint8Array(N), dlogits: dl })).toBe(0);
    expect(dl.every((v) => v === 0)).toBe(true);
    expect(be.mseLoss({ n: N * F, F, pred: z, target: tVal, mask: new Uint8Array(N) })).toBe(0);
    const plain = be.mseLoss({ n: N * F, pred: z, target: tVal });
    expect(be.mseLoss({ n: N * F, F, pred: z, target: tVal })).toBe(plain);
    expect(plain).toBeCloseTo(z.reduce((s, v, i) => s + (v - tVal[i]) ** 2, 0) / (N * F), 13);
  });
});

describe('countCorrect and countCorrectMultilabel', () => {
  const r = rng(52);
  const z = randn(N * F, r);
  z[3] = z[4] = 2;
  z[5] = 1; // a tie in row 1: the first max wins
  const targets = Int32Array.from([0, 0, IGNORE, 2, 1, 1]);
  for (let n = 0; n < N; n++)
    if (n !== 2 && n % 2 === 0) {
      // make a few rows right
      let best = 0;
      for (let j = 1; j < F; j++) if (z[n * F + j] > z[n * F + best]) best = j;
      targets[n] = best;
    }
  const yBin = Float64Array.from(z, (v, i) => (i % 4 === 0 ? (v > 0 ? 0.2 : 0.9) : v > 0 ? 0.7 : 0.1));
  for (const m of [mask, null])
    for (const dt of DTYPES) {
      it(`${dt} (mask ${m ? 'yes' : 'no'}): counts as losses.ts`, () => {
        const got = be.countCorrect({ N, C: F, logits: cast(dt, z), targets, mask: m });
        const ref = refCount('classification', N, F, z, targets, m);
        expect(got).toEqual(ref);
        expect(ref.correct).toBeGreaterThan(0);
        expect(ref.correct).toBeLessThan(ref.total);
        const gotM = be.countCorrectMultilabel({ N, F, logits: cast(dt, z), targets: cast(dt, yBin), mask: m });
        const refM = refCount('multilabel', N, F, z, yBin, m);
        expect(gotM).toEqual(refM);
        expect(refM.correct).toBeLessThan(refM.total);
      });
    }
  it('bad input names the field', () => {
    expectThrows(
      () => be.countCorrect({ N: 2, C: 3, logits: f64(6), targets: Int32Array.from([0, 3]) }),
      RangeError,
      /countCorrect: targets\[1\] must be an integer in \[0, 2\] or -100, received number 3/,
    );
    expectThrows(
      () => be.countCorrect({ N: 2, C: 3, logits: f64(6), targets: Int32Array.from([0, 1]), mask: new Uint8Array(3) }),
      RangeError,
      /countCorrect: mask must be a Uint8Array of length 2 \[N\], received Uint8Array of length 3/,
    );
    expectThrows(
      () => be.countCorrectMultilabel({ N: 2, F: 3, logits: f64(6), targets: new Float32Array(6) }),
      TypeError,
      /countCorrectMultilabel: targets must be a Float64Array of length 6 \[N,F\], received Float32Array/,
    );
    expectThrows(
      () => be.sigmoidBce({ N: 2, F: 3, logits: f64(6), targets: f64(6), mask: Int8Array.from([1, 1]) as never }),
      TypeError,
      /sigmoidBce: mask must be a Uint8Array of length 2 \[N\], received Int8Array of length 2/,
    );
    const tn = f64(6);
    tn[2] = NaN;
    expectThrows(
      () => be.sigmoidBce({ N: 2, F: 3, logits: f64(6), targets: tn }),
      RangeError,
      /sigmoidBce: targets\[2\] must be a finite number, received number NaN/,
    );
    const buf = f64(12);
    expectThrows(
      () => be.sigmoidBce({ N: 2, F: 3, logits: buf.subarray(0, 6), targets: f64(6), dlogits: buf.subarray(3, 9) }),
      RangeError,
      /sigmoidBce: dlogits must be a buffer that does not overlap logits/,
    );
    expectThrows(
      () => be.mseLoss({ n: 6, F: 4, pred: f64(6), target: f64(6), mask: new Uint8Array(1) }),
      RangeError,
      /mseLoss: F must be a divisor of n = 6, received number 4/,
    );
    expectThrows(
      () => be.mseLoss({ n: 6, F: 3, pred: f64(6), target: f64(6), mask: new Uint8Array(3) }),
      RangeError,
      /mseLoss: mask must be a Uint8Array of length 2 \[N\] \(N = n\/F\), received Uint8Array of length 3/,
    );
  });
});
