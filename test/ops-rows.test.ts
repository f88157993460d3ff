// Row ops against plain-JS references, float64 and float32: gather/scatter, column blocks,
// halves, softmax, argmax, top-k.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import { cast, dot, DTYPES, expectGrad, expectThrows, randn, relErr, rng, TOL } from './helpers';

const be = cpu();
const f64 = (n: number) => new Float64Array(n);

describe('gatherRows / scatterAddRows', () => {
  const r = rng(21),
    R = 5,
    N = 7,
    F = 3;
  const src = randn(R * F, r),
    idx = Int32Array.from([4, 0, 0, 2, 4, 4, 1]),
    g = randn(N * F, r),
    base = randn(R * F, r);
  const gatherRef = () => {
    const o = f64(N * F);
    for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) o[n * F + f] = src[idx[n] * F + f];
    return o;
  };
  const scatterRef = () => {
    const o = base.slice();
    for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) o[idx[n] * F + f] += g[n * F + f];
    return o;
  };
  for (const dt of DTYPES) {
    it(`${dt}: gather overwrites, scatter accumulates repeated rows`, () => {
      const dst = cast(dt, new Array(N * F).fill(9));
      be.gatherRows({ R, N, F, src: cast(dt, src), idx, dst });
      expect(relErr(dst, gatherRef())).toBeLessThan(TOL[dt]);
      const acc = cast(dt, base);
      be.scatterAddRows({ R, N, F, src: cast(dt, g), idx, dst: acc });
      expect(relErr(acc, scatterRef())).toBeLessThan(TOL[dt]);
    });
  }
  it('scatterAddRows is the gradient of gatherRows (central differences)', () => {
    const s = src.slice(),
      dst = f64(N * F);
    const loss = () => {
      be.gatherRows({ R, N, F, src: s, idx, dst });
      return dot(dst, g);
    };
    const ds = f64(R * F);
    be.scatterAddRows({ R, N, F, src: g, idx, dst: ds });
    expectGrad(ds, s, loss);
  });
  it('broadcast (idx all 0) and row sums', () => {
    const row = Float64Array.from([1, 2, 3]),
      out = f64(12);
    be.gatherRows({ R: 1, N: 4, F: 3, src: row, idx: new Int32Array(4), dst: out });
    expect(Array.from(out)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    const sum = f64(3);
    be.scatterAddRows({ R: 1, N: 4, F: 3, src: out, idx: new Int32Array(4), dst: sum });
    expect(Array.from(sum)).toEqual([4, 8, 12]);
  });
});

describe('copyCols', () => {
  const r = rng(22),
    N = 4,
    srcF = 6,
    dstF = 5;
  const src = randn(N * srcF, r),
    base = randn(N * dstF, r);
  const ref = (srcOffset: number, width: number, dstOffset: number, acc: boolean) => {
    const o = base.slice();
    for (let n = 0; n < N; n++)
      for (let j = 0; j < width; j++) {
        const v = src[n * srcF + srcOffset + j];
        o[n * dstF + dstOffset + j] = acc ? o[n * dstF + dstOffset + j] + v : v;
      }
    return o;
  };
  for (const dt of DTYPES)
    for (const accumulate of [false, true]) {
      it(`${dt}: copies a column block of every row (accumulate ${accumulate}), the rest untouched`, () => {
        const dst = cast(dt, base);
        be.copyCols({ N, srcF, srcOffset: 2, width: 3, src: cast(dt, src), dstF, dstOffset: 1, dst, accumulate });
        expect(relErr(dst, ref(2, 3, 1, accumulate))).toBeLessThan(TOL[dt]);
      });
    }
  it('its gradient is the reverse copy with accumulate (central differences)', () => {
    const s = src.slice(),
      dst = f64(N * dstF),
      R = randn(N * dstF, r);
    const loss = () => {
      be.copyCols({ N, srcF, srcOffset: 3, width: 2, src: s, dstF, dstOffset: 0, dst });
      return dot(dst, R);
    };
    const ds = f64(N * srcF);
    be.copyCols({ N, srcF: dstF, srcOffset: 0, width: 2, src: R, dstF: srcF, dstOffset: 3, dst: ds, accumulate: true });
    expectGrad(ds, s, loss);
  });
});

describe('mergeHalves / splitHalvesBackward', () => {
  const r = rng(23),
    N = 3,
    H = 4;
  const x = randn(N * 2 * H, r),
    dy = randn(N * H, r),
    base = randn(N * 2 * H, r);
  for (const mode of ['sum', 'mean'] as const) {
    const k = mode === 'mean' ? 0.5 : 1;
    for (const dt of DTYPES) {
      it(`${mode} ${dt}: agrees with the reference`, () => {
        const y = cast(dt, new Array(N * H).fill(3));
        be.mergeHalves({ N, H, mode, x: cast(dt, x), y });
        const yRef = f64(N * H);
        for (let n = 0; n < N; n++)
          for (let j = 0; j < H; j++) yRef[n * H + j] = k * (x[n * 2 * H + j] + x[n * 2 * H + H + j]);
        expect(relErr(y, yRef)).toBeLessThan(TOL[dt]);
        const dx = cast(dt, base);
        be.splitHalvesBackward({ N, H, mode, dy: cast(dt, dy), dx });
        const dRef = base.slice();
        for (let n = 0; n < N; n++)
          for (let j = 0; j < H; j++) {
            dRef[n * 2 * H + j] += k * dy[n * H + j];
            dRef[n * 2 * H + H + j] += k * dy[n * H + j];
          }
        expect(relErr(dx, dRef)).toBeLessThan(TOL[dt]);
      });
    }
    it(`${mode}: splitHalvesBackward matches central differences`, () => {
      const xa = x.slice(),
        y = f64(N * H);
      const loss = () => {
        be.mergeHalves({ N, H, mode, x: xa, y });
        return dot(y, dy);
      };
      const dx = f64(N * 2 * H);
      be.splitHalvesBackward({ N, H, mode, dy, dx });
      expectGrad(dx, xa, loss);
    });
  }
});

describe('softmax, log-softmax, argmax, top-k of rows', () => {
  const r = rng(24),
    N = 4,
    C = 6;
  const x = randn(N * C, r, 4);
  x[C + 2] = 500;
  x[C + 3] = 499; // large values: max subtraction keeps it finite
  const refRows = (log: boolean) => {
    const o = f64(N * C);
    for (let n = 0; n < N; n++) {
      const z = x.subarray(n * C, (n + 1) * C),
        m = Math.max(...z);
      const s = z.reduce((a, v) => a + Math.exp(v - m), 0);
      for (let c = 0; c < C; c++) o[n * C + c] = log ? z[c] - m - Math.log(s) : Math.exp(z[c] - m) / s;
    }
    return o;
  };
  for (const dt of DTYPES) {
    it(`${dt}: softmax and log-softmax are stable and agree`, () => {
      const y = cast(dt, f64(N * C)),
        ly = cast(dt, f64(N * C));
      be.softmaxRows({ N, C, x: cast(dt, x), y });
      be.logSoftmaxRows({ N, C, x: cast(dt, x), y: ly });
      expect(relErr(y, refRows(false))).toBeLessThan(TOL[dt]);
      expect(relErr(ly, refRows(true))).toBeLessThan(TOL[dt]);
      expect(ly.every(Number.isFinite)).toBe(true);
    });
    it(`${dt}: argmax (first max wins) and top-k (value descending, ties by lower index)`, () => {
      const z = Float64Array.from([1, 3, 3, 0, /**/ -1, -1, -1, -1, /**/ 2, 5, 1, 5]);
      const out = new Int32Array(3).fill(-7);
      be.argmaxRows({ N: 3, C: 4, x: cast(dt, z), out });
      expect(Array.from(out)).toEqual([1, 0, 1]);
      const values = cast(dt, f64(9)),
        indices = new Int32Array(9);
      be.topkRows({ N: 3, C: 4, k: 3, x: cast(dt, z), values, indices });
      expect(Array.from(indices)).toEqual([1, 2, 0, 0, 1, 2, 1, 3, 0]);
      expect(Array.from(values)).toEqual([3, 3, 1, -1, -1, -1, 5, 5, 2]);
      // random rows against a sort-based reference, k = 1 .. C
      for (let k = 1; k <= C; k++) {
        const v = cast(dt, f64(N * k)),
          ix = new Int32Array(N * k);
        const xs = cast(dt, x);
        be.topkRows({ N, C, k, x: xs, values: v, indices: ix });
        for (let n = 0; n < N; n++) {
          const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => xs[n * C + b] - xs[n * C + a] || a - b);
          expect(Array.from(ix.subarray(n * k, (n + 1) * k))).toEqual(order.slice(0, k));
          expect(Array.from(v.subarray(n * k, (n + 1) * k))).toEqual(order.slice(0, k).map((c) => xs[n * C + c]));
        }
      }
    });
  }
});

describe('row ops bad input', () => {
  it('names the field', () => {
    expectThrows(
      () => be.gatherRows({ R: 3, N: 2, F: 2, src: f64(6), idx: Int32Array.from([0, 3]), dst: f64(4) }),
      RangeError,
      /gatherRows: idx\[1\] must be an integer in \[0, 2\], received number 3/,
    );
    expectThrows(
      () => be.scatterAddRows({ R: 3, N: 2, F: 2, src: f64(4), idx: Int32Array.from([-1, 0]), dst: f64(6) }),
      RangeError,
      /scatterAddRows: idx\[0\] must be an integer in \[0, 2\], received number -1/,
    );
    expectThrows(
      () => be.gatherRows({ R: 3, N: 2, F: 2, src: f64(6), idx: Float64Array.from([0, 1]) as never, dst: f64(4) }),
      TypeError,
      /gatherRows: idx must be an Int32Array of length 2 \[N\], received Float64Array of length 2/,
    );
    expectThrows(
      () => be.scatterAddRows({ R: 3, N: 2, F: 2, src: f64(4), idx: new Int32Array(2), dst: new Float32Array(6) }),
      TypeError,
      /scatterAddRows: dst must be a Float64Array of length 6 \[R,F\], received Float32Array/,
    );
    expectThrows(
      () => be.copyCols({ N: 2, srcF: 4, srcOffset: 2, width: 3, src: f64(8), dstF: 4, dstOffset: 0, dst: f64(8) }),
      RangeError,
      /copyCols: width must be an integer in \[1, 2\], received number 3/,
    );
    expectThrows(
      () => be.copyCols({ N: 2, srcF: 4, srcOffset: 4, width: 1, src: f64(8), dstF: 4, dstOffset: 0, dst: f64(8) }),
      RangeError,
      /copyCols: srcOffset must be an integer in \[0, 3\], received number 4/,
    );
    const buf = f64(16);
    expectThrows(
      () =>
        be.copyCols({
          N: 2,
          srcF: 4,
          srcOffset: 0,
          width: 1,
          src: buf.subarray(0, 8),
          dstF: 4,
          dstOffset: 1,
          dst: buf.subarray(4, 12),
        }),
      RangeError,
      /copyCols: dst must be a buffer that does not overlap src/,
    );
    expectThrows(
      () => be.mergeHalves({ N: 2, H: 2, mode: 'sum', x: f64(4), y: f64(4) }),
      RangeError,
      /mergeHalves: x must be a Float64Array of length 8 \[N,2H\], received Float64Array of length 4/,
    );
    expectThrows(
      () => be.splitHalvesBackward({ N: 2, H: 2, mode: 'max' as never, dy: f64(4), dx: f64(8) }),
      RangeError,
      /splitHalvesBackward: mode must be one of 'sum' 'mean', received string "max"/,
    );
    expectThrows(
      () => be.topkRows({ N: 1, C: 3, k: 4, x: f64(3), values: f64(4), indices: new Int32Array(4) }),
      RangeError,
      /topkRows: k must be an integer in \[1, 3\], received number 4/,
    );
    expectThrows(
      () =>
        be.topkRows({
          N: 1,
          C: 3,
          k: 2,
          x: Float64Array.from([1, NaN, 2]),
          values: f64(2),
          indices: new Int32Array(2),
        }),
      RangeError,
      /topkRows: x\[1\] must be a finite number, received number NaN/,
    );
    expectThrows(
      () => be.argmaxRows({ N: 2, C: 3, x: f64(6), out: new Int32Array(3) }),
      RangeError,
      /argmaxRows: out must be an Int32Array of length 2 \[N\], received Int32Array of length 3/,
    );
    expectThrows(
      () => be.softmaxRows({ N: 2, C: 3, x: buf.subarray(0, 6), y: buf.subarray(5, 11) }),
      RangeError,
      /softmaxRows: y must be a buffer that does not overlap x/,
    );
  });
});
