// clipByValue, clipByNorm, allFinite and addSign against plain-JS references.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import { cast, DTYPES, expectThrows, plus, randn, relErr, rng, TOL } from './helpers';

const be = cpu();
const f64 = (n: number) => new Float64Array(n);
const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

describe('gradient tools', () => {
  const r = rng(61),
    n = 29;
  const g = randn(n, r, 3);
  g[5] = 0;
  for (const dt of DTYPES) {
    it(`${dt}: clipByValue clamps in place`, () => {
      const x = cast(dt, g);
      be.clipByValue({ n, x, value: 1.25 });
      expect(
        relErr(
          x,
          g.map((v) => Math.min(1.25, Math.max(-1.25, v))),
        ),
      ).toBeLessThan(TOL[dt]);
      expect(x.some((v) => v === 1.25) && x.some((v) => v === -1.25)).toBe(true);
    });
    it(`${dt}: clipByNorm follows clip_grad_norm_ and returns the norm before clipping`, () => {
      const ref = norm(g);
      const x = cast(dt, g);
      const got = be.clipByNorm({ n, x, maxNorm: 2 });
      expect(Math.abs(got - ref) / ref).toBeLessThan(TOL[dt]);
      const coef = 2 / (ref + 1e-6);
      expect(
        relErr(
          x,
          g.map((v) => v * coef),
        ),
      ).toBeLessThan(TOL[dt]);
      const y = cast(dt, g); // coef >= 1: untouched
      expect(Math.abs(be.clipByNorm({ n, x: y, maxNorm: ref + 1 }) - ref) / ref).toBeLessThan(TOL[dt]);
      expect(Array.from(y)).toEqual(Array.from(cast(dt, g)));
    });
    it(`${dt}: allFinite flags NaN and ±Infinity anywhere`, () => {
      expect(be.allFinite({ x: cast(dt, g) })).toBe(true);
      expect(be.allFinite({ x: cast(dt, []) })).toBe(true);
      for (const bad of [NaN, Infinity, -Infinity])
        for (const at of [0, 7, 8, n - 1]) {
          const x = cast(dt, g);
          x[at] = bad;
          expect(be.allFinite({ x }), `${bad} at ${at}`).toBe(false);
        }
      const big = cast(dt, [dt === 'f32' ? 3e38 : 1.7e308, -1e-300]);
      expect(be.allFinite({ x: big })).toBe(true);
    });
    it(`${dt}: addSign adds alpha*sign(p) (0 at 0)`, () => {
      const base = randn(n, r),
        gg = cast(dt, base);
      be.addSign({ n, alpha: 0.3, p: cast(dt, g), g: gg });
      expect(
        relErr(
          gg,
          plus(
            base,
            g.map((v) => 0.3 * Math.sign(v)),
          ),
        ),
      ).toBeLessThan(TOL[dt]);
      expect(gg[5]).toBe(cast(dt, base)[5]);
    });
  }
  it('clipByNorm leaves non-finite gradients alone and reports the non-finite norm', () => {
    const x = Float64Array.from([1, NaN, 2]);
    expect(be.clipByNorm({ n: 3, x, maxNorm: 1 })).toBeNaN();
    expect(x[0]).toBe(1);
  });
  it('bad input names the field', () => {
    expectThrows(
      () => be.clipByValue({ n: 2, x: f64(2), value: -1 }),
      RangeError,
      /clipByValue: value must be a finite number in \[0, 1e\+30\], received number -1/,
    );
    expectThrows(
      () => be.clipByNorm({ n: 2, x: f64(2), maxNorm: NaN }),
      RangeError,
      /clipByNorm: maxNorm must be a finite number in \[0, 1e\+30\], received number NaN/,
    );
    expectThrows(
      () => be.clipByNorm({ n: 3, x: f64(2), maxNorm: 1 }),
      RangeError,
      /clipByNorm: x must be a Float64Array of length 3 \[n\], received Float64Array of length 2/,
    );
    expectThrows(
      () => be.allFinite({ x: new Int32Array(2) as never }),
      TypeError,
      /allFinite: x must be a Float32Array or Float64Array, received Int32Array of length 2/,
    );
    expectThrows(
      () => be.addSign({ n: 2, alpha: 1, p: f64(2), g: new Float32Array(2) }),
      TypeError,
      /addSign: g must be a Float64Array of length 2 \[n\], received Float32Array of length 2/,
    );
    const buf = f64(4);
    expectThrows(
      () => be.addSign({ n: 3, alpha: 1, p: buf.subarray(0, 3), g: buf.subarray(1, 4) }),
      RangeError,
      /addSign: g must be a buffer that does not overlap p/,
    );
  });
});
