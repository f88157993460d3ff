// axpby, mul, scale and the activations against plain-JS references, in float64 and float32.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import type { ActivationKind } from '../lib/native';
import { cast, dot, DTYPES, expectGrad, expectThrows, plus, randn, relErr, rng, TOL } from './helpers';

const be = cpu();
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const ACT: Record<ActivationKind, [(v: number) => number, (y: number) => number]> = {
  tanh: [Math.tanh, (y) => 1 - y * y],
  sigmoid: [sig, (y) => y * (1 - y)],
  relu: [(v) => Math.max(0, v), (y) => (y > 0 ? 1 : 0)],
  identity: [(v) => v, () => 1],
};

describe('axpby, mul, scale', () => {
  const r = rng(11),
    n = 37;
  const x = randn(n, r, 2),
    y0 = randn(n, r, 2);
  for (const dt of DTYPES) {
    it(`${dt}: agree with the reference`, () => {
      const y = cast(dt, y0);
      be.axpby({ n, a: 1.5, x: cast(dt, x), b: -0.25, y });
      expect(
        relErr(
          y,
          y0.map((v, i) => 1.5 * x[i] - 0.25 * v),
        ),
      ).toBeLessThan(TOL[dt]);
      const yn = cast(dt, new Array(n).fill(NaN)); // b = 0 writes y without reading it
      be.axpby({ n, a: 2, x: cast(dt, x), b: 0, y: yn });
      expect(
        relErr(
          yn,
          x.map((v) => 2 * v),
        ),
      ).toBeLessThan(TOL[dt]);
      const out = cast(dt, new Array(n).fill(7));
      be.mul({ n, x: cast(dt, x), y: cast(dt, y0), out });
      expect(
        relErr(
          out,
          x.map((v, i) => v * y0[i]),
        ),
      ).toBeLessThan(TOL[dt]);
      const s = cast(dt, x);
      be.scale({ n, alpha: -3, x: s });
      expect(
        relErr(
          s,
          x.map((v) => -3 * v),
        ),
      ).toBeLessThan(TOL[dt]);
    });
  }
  it('gradients of mul (through mul) and axpby match central differences', () => {
    const xa = x.slice(),
      ya = y0.slice(),
      R = randn(n, r),
      out = new Float64Array(n);
    const loss = () => {
      be.mul({ n, x: xa, y: ya, out });
      return dot(out, R);
    };
    const gx = new Float64Array(n);
    be.mul({ n, x: ya, y: R, out: gx });
    expectGrad(gx, xa, loss);
    const gy = new Float64Array(n);
    be.mul({ n, x: xa, y: R, out: gy });
    expectGrad(gy, ya, loss);
    const lossAx = () => {
      const y = y0.slice();
      be.axpby({ n, a: 0.7, x: xa, b: 1.3, y });
      return dot(y, R);
    };
    expectGrad(
      R.map((v) => 0.7 * v),
      xa,
      lossAx,
    );
  });
});

describe('activations', () => {
  const r = rng(12),
    n = 53;
  const x = randn(n, r, 3);
  for (const kind of Object.keys(ACT) as ActivationKind[]) {
    const [f, fp] = ACT[kind];
    for (const dt of DTYPES) {
      it(`${kind} ${dt}: forward and backward (+=) agree with the reference`, () => {
        const y = cast(dt, new Array(n).fill(5));
        be.activationForward({ kind, n, x: cast(dt, x), y });
        const yRef = x.map(f);
        expect(relErr(y, yRef)).toBeLessThan(TOL[dt]);
        const dy = randn(n, r),
          base = randn(n, r);
        const dx = cast(dt, base);
        be.activationBackward({ kind, n, y: cast(dt, yRef), dy: cast(dt, dy), dx });
        expect(
          relErr(
            dx,
            plus(
              base,
              dy.map((g, i) => g * fp(yRef[i])),
            ),
          ),
        ).toBeLessThan(TOL[dt]);
      });
    }
    it(`${kind}: the backward matches central differences of the forward`, () => {
      const xa = x.slice(),
        R = randn(n, r),
        y = new Float64Array(n);
      const loss = () => {
        be.activationForward({ kind, n, x: xa, y });
        return dot(y, R);
      };
      loss();
      const dx = new Float64Array(n);
      be.activationBackward({ kind, n, y, dy: R, dx });
      expectGrad(dx, xa, loss);
    });
  }
});

describe('element-wise bad input', () => {
  const f64 = (n: number) => new Float64Array(n);
  it('names the field', () => {
    expectThrows(
      () => be.axpby({ n: 3, a: 1, x: f64(2), b: 1, y: f64(3) }),
      RangeError,
      /axpby: x must be a Float64Array of length 3 \[n\], received Float64Array of length 2/,
    );
    expectThrows(
      () => be.axpby({ n: 3, a: 1, x: f64(3), b: 1, y: new Float32Array(3) }),
      TypeError,
      /axpby: y must be a Float64Array of length 3 \[n\], received Float32Array of length 3/,
    );
    expectThrows(
      () => be.axpby({ n: 3, a: NaN, x: f64(3), b: 1, y: f64(3) }),
      RangeError,
      /axpby: a must be a finite number/,
    );
    const buf = f64(10);
    expectThrows(
      () => be.axpby({ n: 4, a: 1, x: buf.subarray(0, 4), b: 1, y: buf.subarray(2, 6) }),
      RangeError,
      /axpby: y must be a buffer that does not overlap x, received an overlapping view/,
    );
    expectThrows(
      () => be.mul({ n: 4, x: buf.subarray(0, 4), y: f64(4), out: buf.subarray(0, 4) }),
      RangeError,
      /mul: out must be a buffer that does not overlap x/,
    );
    expectThrows(
      () => be.activationForward({ kind: 'gelu' as never, n: 1, x: f64(1), y: f64(1) }),
      RangeError,
      /activationForward: kind must be one of 'tanh' 'sigmoid' 'relu' 'identity', received string "gelu"/,
    );
    expectThrows(
      () => be.activationBackward({ kind: 'tanh', n: 2, y: f64(2), dy: f64(2), dx: f64(1) }),
      RangeError,
      /activationBackward: dx must be a Float64Array of length 2/,
    );
    expectThrows(() => be.scale({ n: -1, alpha: 1, x: f64(1) }), RangeError, /scale: n must be an integer/);
  });
});
