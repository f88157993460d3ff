// Exact RTRL gives BPTT's gradient (float64, input 3, hidden 5, T = 70, batch 10), for every
// cell and a two-layer stack; truncated BPTT with a window of 10 does not.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import { ExactRtrl } from '../lib/online/exact-rtrl';
import type { RnnSpec } from '../lib/native';
import { gates, randn, relErr, rng } from './helpers';

const be = cpu();
const I = 3,
  H = 5,
  T = 70,
  B = 10;

/** Flat parameters in PyTorch order for a stack, and views per layer. */
function makeParams(cell: RnnSpec['cell'], L: number, seed: number) {
  const G = gates(cell),
    r = rng(seed);
  const layers: Array<{ In: number; off: number }> = [];
  let total = 0;
  for (let l = 0; l < L; l++) {
    const In = l === 0 ? I : H;
    layers.push({ In, off: total });
    total += G * H * (In + H + 2);
  }
  const p = randn(total, r, 0.5);
  const views = (buf: Float64Array) =>
    layers.map(({ In, off }) => ({
      In,
      wIh: buf.subarray(off, off + G * H * In),
      wHh: buf.subarray(off + G * H * In, off + G * H * (In + H)),
      bIh: buf.subarray(off + G * H * (In + H), off + G * H * (In + H + 1)),
      bHh: buf.subarray(off + G * H * (In + H + 1), off + G * H * (In + H + 2)),
    }));
  return { p, total, views };
}

/** Gradient of L = Σ_t <y_top,t, R_t> by BPTT over windows of `window` steps (state carried, gradient cut). */
function bptt(
  cell: RnnSpec['cell'],
  L: number,
  p: Float64Array,
  total: number,
  views: ReturnType<typeof makeParams>['views'],
  x: Float64Array,
  R: Float64Array,
  window: number,
) {
  const grads = new Float64Array(total);
  const pv = views(p),
    gv = views(grads);
  const lstm = cell === 'lstm';
  let h = Array.from({ length: L }, () => new Float64Array(B * H)),
    c = Array.from({ length: L }, () => new Float64Array(B * H));
  for (let t0 = 0; t0 < T; t0 += window) {
    const W = Math.min(window, T - t0);
    const inputs: Float64Array[] = [x.subarray(t0 * B * I, (t0 + W) * B * I)];
    const reserves: Float64Array[] = [],
      specs: RnnSpec[] = [];
    const nh = [],
      nc = [];
    for (let l = 0; l < L; l++) {
      const spec: RnnSpec = { cell, T: W, B, I: pv[l].In, H };
      const y = new Float64Array(W * B * H),
        hN = new Float64Array(B * H),
        cN = new Float64Array(B * H);
      const reserve = new Float64Array(be.rnnReserveSize(spec));
      be.rnnForward({
        ...spec,
        x: inputs[l],
        h0: h[l],
        c0: lstm ? c[l] : null,
        wIh: pv[l].wIh,
        wHh: pv[l].wHh,
        bIh: pv[l].bIh,
        bHh: pv[l].bHh,
        y,
        hN,
        cN: lstm ? cN : null,
        reserve,
      });
      inputs.push(y);
      reserves.push(reserve);
      specs.push(spec);
      nh.push(hN);
      nc.push(cN);
    }
    let dy: Float64Array = Float64Array.from(R.subarray(t0 * B * H, (t0 + W) * B * H));
    for (let l = L - 1; l >= 0; l--) {
      const dx = new Float64Array(W * B * pv[l].In);
      be.rnnBackward({
        ...specs[l],
        x: inputs[l],
        wIh: pv[l].wIh,
        wHh: pv[l].wHh,
        reserve: reserves[l],
        dy,
        dx,
        dwIh: gv[l].wIh,
        dwHh: gv[l].wHh,
        dbIh: gv[l].bIh,
        dbHh: gv[l].bHh,
      });
      dy = dx;
    }
    h = nh;
    c = nc;
  }
  return grads;
}

describe('exact RTRL', () => {
  for (const [cell, L, extra] of [
    ['elman', 1, ''],
    ['lstm', 1, ''],
    ['gru', 1, ''],
    ['lstm', 2, ' two-layer stack'],
    ['gru', 2, ' two-layer stack'],
  ] as const) {
    it(`${cell}${extra}: RTRL equals BPTT (max relative difference < 1e-9); TBPTT(10) differs`, () => {
      const { p, total, views } = makeParams(cell, L, 7);
      const r = rng(3);
      const x = randn(T * B * I, r),
        R = randn(T * B * H, r);
      const full = bptt(cell, L, p, total, views, x, R, T);
      const rt = new ExactRtrl(be, { cell, inputSize: I, hiddenSize: H, numLayers: L });
      rt.reset(B);
      const g = new Float64Array(total);
      for (let t = 0; t < T; t++) {
        rt.step(x.subarray(t * B * I, (t + 1) * B * I), p);
        rt.accumulate(R.subarray(t * B * H, (t + 1) * B * H), g);
      }
      expect(relErr(g, full)).toBeLessThan(1e-9);
      const trunc = bptt(cell, L, p, total, views, x, R, 10);
      expect(relErr(trunc, full)).toBeGreaterThan(1e-3);
    });
  }
});

describe('SnAp-1 and UORO', () => {
  for (const cell of ['elman', 'lstm', 'gru'] as const) {
    it(`${cell}: SnAp-1 equals exact RTRL where it is exact (one step)`, () => {
      const { p, total } = makeParams(cell, 1, 11);
      const r = rng(5);
      const x = randn(B * I, r),
        R = randn(B * H, r);
      const grads = (algorithm: 'rtrl' | 'snap1') => {
        const e = new ExactRtrl(be, { cell, inputSize: I, hiddenSize: H, algorithm });
        e.reset(B);
        e.step(x, p);
        const g = new Float64Array(total);
        e.accumulate(R, g);
        return g;
      };
      const exact = grads('rtrl');
      expect(relErr(grads('snap1'), exact)).toBeLessThan(1e-12);
      // and it is an approximation afterwards
      const many = (algorithm: 'rtrl' | 'snap1') => {
        const e = new ExactRtrl(be, { cell, inputSize: I, hiddenSize: H, algorithm });
        e.reset(1);
        const g = new Float64Array(total);
        const rr = rng(9);
        for (let t = 0; t < 6; t++) {
          e.step(randn(I, rr), p);
          e.accumulate(randn(H, rr), g);
        }
        return g;
      };
      expect(relErr(many('snap1'), many('rtrl'))).toBeGreaterThan(1e-4);
    });
  }

  it('UORO is unbiased: its mean over many draws approaches the exact gradient', () => {
    const cell = 'gru',
      h = 4,
      T6 = 5;
    const G = gates(cell),
      total = G * h * (2 + h + 2);
    const p = randn(total, rng(21), 0.5);
    const r = rng(22);
    const xs = Array.from({ length: T6 }, () => randn(2, r)),
      ds = Array.from({ length: T6 }, () => randn(h, r));
    const run = (algorithm: 'rtrl' | 'uoro', seed: number) => {
      const e = new ExactRtrl(be, { cell, inputSize: 2, hiddenSize: h, algorithm, seed });
      e.reset(1);
      const g = new Float64Array(total);
      for (let t = 0; t < T6; t++) {
        e.step(xs[t], p);
        e.accumulate(ds[t], g);
      }
      return g;
    };
    const exact = run('rtrl', 0);
    const mean = (n: number, from: number) => {
      const m = new Float64Array(total);
      for (let s = 0; s < n; s++)
        run('uoro', from + s).forEach((v, i) => {
          m[i] += v / n;
        });
      return m;
    };
    const few = relErr(mean(100, 1), exact),
      lots = relErr(mean(3200, 1000), exact);
    expect(lots).toBeLessThan(few);
    expect(lots).toBeLessThan(0.25);
    const one = run('uoro', 77);
    expect(relErr(one, exact)).toBeGreaterThan(lots); // a single draw is noisy
  });
});

describe('RTRL in float32', () => {
  it('agrees with float64', () => {
    const { p, total } = makeParams('lstm', 2, 13);
    const r = rng(8);
    const x = randn(20 * 2 * I, r),
      R = randn(20 * 2 * H, r);
    const run = (dtype: 'float32' | 'float64') => {
      const e = new ExactRtrl(be, { cell: 'lstm', inputSize: I, hiddenSize: H, numLayers: 2, dtype });
      e.reset(2);
      const cast = (a: Float64Array) => (dtype === 'float32' ? Float32Array.from(a) : a);
      const g = dtype === 'float32' ? new Float32Array(total) : new Float64Array(total);
      for (let t = 0; t < 20; t++) {
        e.step(cast(x.subarray(t * 2 * I, (t + 1) * 2 * I)), cast(p));
        e.accumulate(cast(R.subarray(t * 2 * H, (t + 1) * 2 * H)), g);
      }
      return g;
    };
    expect(relErr(run('float32'), run('float64'))).toBeLessThan(1e-4);
  });
});

describe('step Jacobian-vector products', () => {
  for (const [cell, extra] of [
    ['elman', { activation: 'tanh' }],
    ['elman', { activation: 'sigmoid' }],
    ['lstm', {}],
    ['gru', { gruVariant: 'pytorch' }],
    ['gru', { gruVariant: 'original' }],
  ] as const) {
    it(`${cell} ${JSON.stringify(extra)}: rnnStepJvp equals the Jacobian rows times the tangent`, () => {
      const G = gates(cell),
        r = rng(31);
      const S = cell === 'lstm' ? 2 * H : H,
        P = G * H * (I + H + 2);
      const a = {
        cell,
        I,
        H,
        ...extra,
        x: randn(I, r),
        h0: randn(H, r, 0.5),
        c0: cell === 'lstm' ? randn(H, r, 0.5) : null,
        wIh: randn(G * H * I, r, 0.6),
        wHh: randn(G * H * H, r, 0.6),
        bIh: randn(G * H, r, 0.3),
        bHh: randn(G * H, r, 0.3),
      };
      const jss = new Float64Array(S * S),
        jsx = new Float64Array(S * I),
        jth = new Float64Array(S * P);
      be.rnnStepJacobians({
        ...a,
        h1: new Float64Array(H),
        c1: cell === 'lstm' ? new Float64Array(H) : null,
        jss,
        jsx,
        jth,
      });
      const u = randn(I, r),
        vh = randn(H, r),
        vc = randn(H, r);
      const th1 = new Float64Array(H),
        tc1 = new Float64Array(H);
      be.rnnStepJvp({
        ...a,
        u,
        vh,
        vc: cell === 'lstm' ? vc : null,
        h1: new Float64Array(H),
        c1: cell === 'lstm' ? new Float64Array(H) : null,
        th1,
        tc1: cell === 'lstm' ? tc1 : null,
      });
      const v = cell === 'lstm' ? [...vh, ...vc] : [...vh];
      const want = new Float64Array(S);
      for (let k = 0; k < S; k++) {
        let s = 0;
        for (let m = 0; m < S; m++) s += jss[k * S + m] * v[m];
        for (let i = 0; i < I; i++) s += jsx[k * I + i] * u[i];
        want[k] = s;
      }
      const got = cell === 'lstm' ? [...th1, ...tc1] : [...th1];
      expect(relErr(got, want)).toBeLessThan(1e-12);
    });
  }
});

describe('SnAp-1 in O(n²)', () => {
  for (const [cell, L] of [
    ['elman', 1],
    ['lstm', 1],
    ['gru', 1],
    ['lstm', 2],
    ['gru', 2],
  ] as const) {
    it(`${cell}${L > 1 ? ' two-layer stack' : ''}: equals SnAp-1 built from the full Jacobian rows`, () => {
      const { p, total } = makeParams(cell, L, 41);
      const r = rng(42);
      const x = randn(12 * 3 * I, r),
        R = randn(12 * 3 * H, r);
      const run = (jacobianRows: boolean) => {
        const e = new ExactRtrl(be, {
          cell,
          inputSize: I,
          hiddenSize: H,
          numLayers: L,
          algorithm: 'snap1',
          jacobianRows,
        });
        e.reset(3);
        const g = new Float64Array(total);
        for (let t = 0; t < 12; t++) {
          e.step(x.subarray(t * 3 * I, (t + 1) * 3 * I), p);
          e.accumulate(R.subarray(t * 3 * H, (t + 1) * 3 * H), g);
        }
        return g;
      };
      expect(relErr(run(false), run(true))).toBeLessThan(1e-11);
    });
  }
});
