// Float64 gradient checks and reference comparisons of the non-recurrent kernels.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import { dot, numericGrad, randn, relErr, rng } from './helpers';

const be = cpu();

describe('linear', () => {
  it('forward equals x W^T + b and backward matches central differences', () => {
    const r = rng(1);
    const N = 4,
      I = 5,
      O = 3;
    const x = randn(N * I, r),
      w = randn(O * I, r),
      b = randn(O, r),
      R = randn(N * O, r);
    const y = new Float64Array(N * O);
    be.linearForward({ N, I, O, x, weight: w, bias: b, y });
    const ref = new Float64Array(N * O);
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++) {
        let s = b[o];
        for (let i = 0; i < I; i++) s += x[n * I + i] * w[o * I + i];
        ref[n * O + o] = s;
      }
    expect(relErr(y, ref)).toBeLessThan(1e-14);
    const loss = () => {
      be.linearForward({ N, I, O, x, weight: w, bias: b, y });
      return dot(y, R);
    };
    const dx = new Float64Array(N * I),
      dw = new Float64Array(O * I),
      db = new Float64Array(O);
    be.linearBackward({ N, I, O, x, weight: w, dy: R, dx, dWeight: dw, dBias: db });
    expect(relErr(dx, numericGrad(x, loss))).toBeLessThan(1e-6);
    expect(relErr(dw, numericGrad(w, loss))).toBeLessThan(1e-6);
    expect(relErr(db, numericGrad(b, loss))).toBeLessThan(1e-6);
  });
  it('works without a bias', () => {
    const r = rng(2);
    const x = randn(6, r),
      w = randn(6, r),
      y = new Float64Array(4);
    be.linearForward({ N: 2, I: 3, O: 2, x, weight: w, y });
    expect(y[0]).toBeCloseTo(x[0] * w[0] + x[1] * w[1] + x[2] * w[2], 14);
  });
});

describe('embedding', () => {
  it('gathers rows and scatter-adds gradients, skipping the padding index', () => {
    const r = rng(3);
    const V = 5,
      E = 3,
      ids = Int32Array.from([1, 4, 1, 0]);
    const w = randn(V * E, r),
      y = new Float64Array(ids.length * E),
      R = randn(ids.length * E, r);
    be.embeddingForward({ N: ids.length, V, E, ids, weight: w, y });
    expect(Array.from(y.subarray(3, 6))).toEqual(Array.from(w.subarray(12, 15)));
    const dw = new Float64Array(V * E);
    be.embeddingBackward({ N: ids.length, V, E, ids, dy: R, dWeight: dw });
    const num = numericGrad(w, () => {
      be.embeddingForward({ N: ids.length, V, E, ids, weight: w, y });
      return dot(y, R);
    });
    expect(relErr(dw, num)).toBeLessThan(1e-6);
    const dwPad = new Float64Array(V * E);
    be.embeddingBackward({ N: ids.length, V, E, ids, dy: R, dWeight: dwPad, paddingIdx: 1 });
    expect(Array.from(dwPad.subarray(3, 6))).toEqual([0, 0, 0]);
    expect(dwPad[12]).toBe(dw[12]);
  });
});

describe('softmax cross-entropy', () => {
  const N = 6,
    C = 4;
  const r = rng(4);
  const logits = randn(N * C, r, 2);
  const targets = Int32Array.from([0, 3, -100, 2, 1, 3]);
  const weights = Float64Array.from([1, 2, 0.5, 1.5]);
  function reference(mask?: Uint8Array, w?: Float64Array) {
    let tot = 0,
      den = 0;
    for (let n = 0; n < N; n++) {
      if (targets[n] === -100 || (mask && !mask[n])) continue;
      const z = logits.subarray(n * C, (n + 1) * C);
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      const wy = w ? w[targets[n]] : 1;
      tot += wy * (lse - z[targets[n]]);
      den += wy;
    }
    return tot / den;
  }
  for (const withWeights of [false, true]) {
    for (const withMask of [false, true]) {
      it(`loss and gradient (weights ${withWeights}, mask ${withMask}) as F.cross_entropy`, () => {
        const mask = withMask ? Uint8Array.from([1, 1, 1, 0, 1, 1]) : null;
        const w = withWeights ? weights : null;
        const dl = new Float64Array(N * C);
        const loss = be.softmaxCrossEntropy({ N, C, logits, targets, weights: w, mask, dlogits: dl });
        expect(loss).toBeCloseTo(reference(mask ?? undefined, w ?? undefined), 12);
        const num = numericGrad(logits, () => be.softmaxCrossEntropy({ N, C, logits, targets, weights: w, mask }));
        expect(relErr(dl, num)).toBeLessThan(1e-6);
        expect(Array.from(dl.subarray(2 * C, 3 * C))).toEqual([0, 0, 0, 0]);
      });
    }
  }
  it('scale multiplies the gradient; no counted row gives loss 0', () => {
    const d1 = new Float64Array(N * C),
      d3 = new Float64Array(N * C);
    be.softmaxCrossEntropy({ N, C, logits, targets, dlogits: d1 });
    be.softmaxCrossEntropy({ N, C, logits, targets, dlogits: d3, scale: 3 });
    expect(
      relErr(
        d3,
        d1.map((v) => 3 * v),
      ),
    ).toBeLessThan(1e-14);
    const none = be.softmaxCrossEntropy({ N: 1, C, logits: logits.subarray(0, C), targets: Int32Array.from([-100]) });
    expect(none).toBe(0);
  });
});

describe('mse', () => {
  it('mean squared error and its gradient', () => {
    const r = rng(5);
    const p = randn(7, r),
      t = randn(7, r),
      d = new Float64Array(7);
    const loss = be.mseLoss({ n: 7, pred: p, target: t, dpred: d });
    expect(loss).toBeCloseTo(p.reduce((s, v, i) => s + (v - t[i]) ** 2, 0) / 7, 14);
    expect(
      relErr(
        d,
        numericGrad(p, () => be.mseLoss({ n: 7, pred: p, target: t })),
      ),
    ).toBeLessThan(1e-6);
  });
});

describe('dropout masks', () => {
  it('are seeded, scaled by 1/(1-p), and drop about p of the elements', () => {
    const a = new Float32Array(100000),
      b = new Float32Array(100000),
      c = new Float32Array(100000);
    be.dropoutMask(0.3, 42, a);
    be.dropoutMask(0.3, 42, b);
    be.dropoutMask(0.3, 43, c);
    expect(Array.from(a.subarray(0, 50))).toEqual(Array.from(b.subarray(0, 50)));
    expect(a.every((v, i) => v === b[i])).toBe(true);
    expect(a.some((v, i) => v !== c[i])).toBe(true);
    const zeros = a.filter((v) => v === 0).length / a.length;
    expect(Math.abs(zeros - 0.3)).toBeLessThan(0.01);
    expect(new Set(a).size).toBe(2);
    expect(a.find((v) => v !== 0)).toBeCloseTo(1 / 0.7, 6);
    const d = new Float64Array(10);
    be.dropoutMask(0, 1, d);
    expect(Array.from(d)).toEqual(new Array(10).fill(1));
  });
});

describe('global gradient norm', () => {
  it('is the l2 norm accumulated in double', () => {
    const g = Float32Array.from([3, 4, 12]);
    expect(be.l2Norm(g)).toBe(13);
    const big = new Float32Array(1 << 20).fill(1e-3);
    expect(be.l2Norm(big)).toBeCloseTo(Math.sqrt((1 << 20) * 1e-6), 6);
  });
});
