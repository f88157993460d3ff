// The online-learning kernels (native/kernels/online.h) against the JavaScript they replaced in
// lib/online/exact-rtrl.ts (kept here as the reference, float64), their bad-input errors, and the
// refusal of a backend without the 'online' capability.
import { describe, expect, it } from 'vitest';
import { cpu, Rng } from '../lib';
import type { Backend } from '../lib/backend';
import { ExactRtrl } from '../lib/online/exact-rtrl';
import type { HostArray, RnnSpec } from '../lib/native';
import { loadNative } from '../lib/native';
import { gates, randn, rng, expectThrows } from './helpers';

const be = cpu();
const addon = loadNative() as unknown as Record<string, (a?: unknown) => unknown>;
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

// ---- the JavaScript reference (lib/online/exact-rtrl.ts before the kernels) ----

/** Parameter indices (within a layer's block) owned by unit j: its row in every gate block. */
function ownParams(G: number, I: number, H: number, j: number): number[] {
  const out: number[] = [];
  for (let g = 0; g < G; g++) {
    const r = g * H + j;
    for (let i = 0; i < I; i++) out.push(r * I + i);
    for (let i = 0; i < H; i++) out.push(G * H * I + r * H + i);
    out.push(G * H * (I + H) + r, G * H * (I + H + 1) + r);
  }
  return out;
}
function snapBlock(G: number, I: number, H: number, K: number, j: number) {
  const own = ownParams(G, I, H, j),
    ks = K === 2 ? [j, H + j] : [j];
  return { start: j * ks.length * own.length, ks, own };
}
function matmul(
  M: number,
  N: number,
  Kd: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c: Float64Array,
  beta: number,
) {
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let v = beta ? c[m * N + n] : 0;
      for (let k = 0; k < Kd; k++) v += a[m * Kd + k] * b[k * N + n];
      c[m * N + n] = v;
    }
}
function refRtrlUpdate(
  S: number,
  P: number,
  I: number,
  Pl: number,
  offset: number,
  jss: Float64Array,
  jsx: Float64Array | null,
  prev: Float64Array,
  below: Float64Array | null,
  jth: Float64Array,
) {
  const dst = new Float64Array(S * P);
  matmul(S, P, S, jss, prev, dst, 0);
  if (below) matmul(S, P, I, jsx!, below, dst, 1);
  for (let k = 0; k < S; k++) for (let j = 0; j < Pl; j++) dst[k * P + offset + j] += jth[k * Pl + j];
  return dst;
}
function refSnap1Rows(
  G: number,
  K: number,
  I: number,
  H: number,
  Jss: Float64Array,
  It: Float64Array,
  P: Float64Array,
) {
  const S = K * H,
    Pl = G * H * (I + H + 2);
  for (let j = 0; j < H; j++) {
    const { start, ks, own } = snapBlock(G, I, H, K, j),
      n = own.length;
    const old = P.slice(start, start + ks.length * n);
    ks.forEach((k, i) => {
      for (let q = 0; q < n; q++) {
        let v = It[k * Pl + own[q]];
        ks.forEach((k2, i2) => {
          v += Jss[k * S + k2] * old[i2 * n + q];
        });
        P[start + i * n + q] = v;
      }
    });
  }
}
function refSnap1Local(
  G: number,
  K: number,
  I: number,
  H: number,
  wHh: Float64Array,
  g: Float64Array,
  dh0: Float64Array,
  dc0: Float64Array | null,
  P: Float64Array,
) {
  const Pl = G * H * (I + H + 2),
    lstm = K === 2;
  const loc = Array.from({ length: K }, (_, i) => {
    const gi = g.subarray(i * Pl, (i + 1) * Pl);
    const dbhh = gi.subarray(G * H * (I + H + 1), G * H * (I + H + 2));
    const mixed = new Float64Array(H);
    matmul(1, H, G * H, dbhh, wHh, mixed, 0);
    return {
      g: gi,
      dh0: dh0.subarray(i * H, (i + 1) * H),
      dc0: dc0 ? dc0.subarray(i * H, (i + 1) * H) : null,
      dbhh,
      mixed,
    };
  });
  for (let j = 0; j < H; j++) {
    const { start, ks, own } = snapBlock(G, I, H, K, j),
      n = own.length;
    const D = ks.map((_, i) => {
      const lc = loc[i];
      let self = 0;
      for (let gg = 0; gg < G; gg++) self += lc.dbhh[gg * H + j] * wHh[(gg * H + j) * H + j];
      const dhh = lc.dh0[j] - lc.mixed[j] + self;
      return lstm ? [dhh, lc.dc0![j]] : [dhh];
    });
    const old = P.slice(start, start + ks.length * n);
    ks.forEach((_, i) => {
      for (let q = 0; q < n; q++) {
        let v = loc[i].g[own[q]];
        for (let i2 = 0; i2 < ks.length; i2++) v += D[i][i2] * old[i2 * n + q];
        P[start + i * n + q] = v;
      }
    });
  }
}
function refSnap1Accumulate(
  G: number,
  K: number,
  I: number,
  H: number,
  dh: Float64Array,
  sens: Float64Array,
  grads: Float64Array,
) {
  for (let j = 0; j < H; j++) {
    const d = dh[j];
    if (d === 0) continue;
    const { start, own } = snapBlock(G, I, H, K, j);
    for (let q = 0; q < own.length; q++) grads[own[q]] += d * sens[start + q];
  }
}
function refUoroSigns(r: Rng, S: number) {
  return Float64Array.from({ length: S }, () => (r.next() < 0.5 ? -1 : 1));
}
function refUoroUpdate(js: Float64Array, nu: Float64Array, nuI: Float64Array, s: Float64Array, th: Float64Array) {
  const norm = (a: ArrayLike<number>) => {
    let q = 0;
    for (let i = 0; i < a.length; i++) q += a[i] * a[i];
    return Math.sqrt(q);
  };
  const eps = 1e-7;
  const rho0 = Math.sqrt((norm(th) + eps) / (norm(js) + eps));
  const rho1 = Math.sqrt((norm(nuI) + eps) / (norm(nu) + eps));
  for (let k = 0; k < s.length; k++) s[k] = rho0 * js[k] + rho1 * nu[k];
  for (let p = 0; p < th.length; p++) th[p] = th[p] / rho0 + nuI[p] / rho1;
}
function refUoroAccumulate(
  H: number,
  row: number,
  dh: Float64Array,
  s: Float64Array,
  th: Float64Array,
  grads: Float64Array,
) {
  let k = 0;
  for (let j = 0; j < H; j++) k += dh[j] * s[row + j];
  for (let p = 0; p < th.length; p++) grads[p] += k * th[p];
}

// ---- agreement, float64 ----

const layerCases: Array<[RnnSpec['cell'], number, number]> = [
  ['elman', 3, 4],
  ['lstm', 2, 3],
  ['gru', 4, 2],
];

describe('online kernels equal the JavaScript they replaced (float64)', () => {
  it('onlineRtrlUpdate: first layer and a layer with one below', () => {
    const r = rng(1);
    for (const withBelow of [false, true]) {
      const S = 6,
        P = 40,
        I = 3,
        Pl = 17,
        offset = 11;
      const jss = randn(S * S, r),
        jsx = randn(S * I, r),
        prev = randn(S * P, r),
        below = randn(I * P, r),
        jth = randn(S * Pl, r);
      const out = new Float64Array(S * P).fill(NaN); // overwritten, not accumulated
      be.onlineRtrlUpdate({ S, P, I, Pl, offset, jss, jth, prev, out, ...(withBelow ? { jsx, below } : {}) });
      expect(
        maxDiff(
          out,
          refRtrlUpdate(S, P, I, Pl, offset, jss, withBelow ? jsx : null, prev, withBelow ? below : null, jth),
        ),
      ).toBeLessThan(1e-13);
    }
  });
  for (const [cell, I, H] of layerCases) {
    const G = gates(cell),
      K = cell === 'lstm' ? 2 : 1,
      S = K * H,
      Pl = G * H * (I + H + 2),
      kept = H * K * G * (I + H + 2);
    it(`${cell}: onlineSnap1Update (Jacobian rows)`, () => {
      const r = rng(2);
      const jss = randn(S * S, r),
        jth = randn(S * Pl, r),
        sens = randn(kept, r),
        want = Float64Array.from(sens);
      be.onlineSnap1Update({ cell, I, H, jss, jth, sens });
      refSnap1Rows(G, K, I, H, jss, jth, want);
      expect(maxDiff(sens, want)).toBeLessThan(1e-13);
    });
    it(`${cell}: onlineSnap1LocalUpdate (O(n²) seeds)`, () => {
      const r = rng(3);
      const wHh = randn(G * H * H, r),
        g = randn(K * Pl, r),
        dh0 = randn(K * H, r),
        dc0 = K === 2 ? randn(K * H, r) : null;
      const sens = randn(kept, r),
        want = Float64Array.from(sens);
      be.onlineSnap1LocalUpdate({ cell, I, H, wHh, g, dh0, dc0, sens });
      refSnap1Local(G, K, I, H, wHh, g, dh0, dc0, want);
      expect(maxDiff(sens, want)).toBeLessThan(1e-13);
    });
    it(`${cell}: onlineSnap1Accumulate (skips zero dh like the JS did)`, () => {
      const r = rng(4);
      const dh = randn(H, r);
      dh[0] = 0;
      const sens = randn(kept, r),
        grads = randn(Pl, r),
        want = Float64Array.from(grads);
      be.onlineSnap1Accumulate({ cell, I, H, dh, sens, grads });
      refSnap1Accumulate(G, K, I, H, dh, sens, want);
      expect(maxDiff(grads, want)).toBeLessThan(1e-13);
    });
  }
  it('onlineUoroSigns draws the same signs as Rng.next() < 0.5 and leaves the same state', () => {
    const ref = new Rng(1234),
      state = Uint32Array.from(new Rng(1234).getState());
    for (const S of [1, 7, 64]) {
      const nu = new Float64Array(S);
      be.onlineUoroSigns({ S, state, nu });
      expect(Array.from(nu)).toEqual(Array.from(refUoroSigns(ref, S)));
      expect(Array.from(state)).toEqual(ref.getState());
    }
    const f = new Float32Array(5);
    be.onlineUoroSigns({ S: 5, state, nu: f });
    expect(Array.from(f)).toEqual(Array.from(refUoroSigns(ref, 5)));
  });
  it('onlineUoroUpdate: rescaling, s̃ and θ̃, and the model-dtype copy of s̃', () => {
    const r = rng(5),
      S = 9,
      P = 31;
    const js = randn(S, r),
      nu = Float64Array.from(randn(S, r), (v) => (v < 0 ? -1 : 1)),
      nuI = randn(P, r);
    const s = randn(S, r),
      th = randn(P, r),
      ws = Float64Array.from(s),
      wth = Float64Array.from(th);
    be.onlineUoroUpdate({ S, P, js, nu, nuI, sTilde: s, thTilde: th });
    refUoroUpdate(js, nu, nuI, ws, wth);
    expect(maxDiff(s, ws)).toBe(0);
    expect(maxDiff(th, wth)).toBe(0);
    const sModel = new Float32Array(S);
    addon.onlineUoroUpdate({
      S,
      P,
      js: Float32Array.from(js),
      nu: Float32Array.from(nu),
      nuI: Float32Array.from(nuI),
      sTilde: s,
      thTilde: th,
      sModel,
    });
    expect(Array.from(sModel)).toEqual(Array.from(Float32Array.from(s)));
  });
  it('onlineUoroAccumulate', () => {
    const r = rng(6),
      S = 10,
      P = 23,
      H = 4,
      row = 6;
    const dh = randn(H, r),
      s = randn(S, r),
      th = randn(P, r),
      grads = randn(P, r),
      want = Float64Array.from(grads);
    be.onlineUoroAccumulate({ S, P, H, row, dh, sTilde: s, thTilde: th, grads });
    refUoroAccumulate(H, row, dh, s, th, want);
    expect(maxDiff(grads, want)).toBeLessThan(1e-14);
  });
});

// ---- bad input ----

const f64 = (n: number) => new Float64Array(n).fill(0.1);
const rtrlGood = () => ({ S: 2, P: 6, I: 3, Pl: 4, offset: 1, jss: f64(4), prev: f64(12), jth: f64(8), out: f64(12) });
const snapGood = () => ({ cell: 'lstm', I: 2, H: 3, jss: f64(36), jth: f64(6 * 84), sens: f64(3 * 2 * 4 * 7) });
const localGood = () => ({ cell: 'gru', I: 2, H: 3, wHh: f64(27), g: f64(63), dh0: f64(3), sens: f64(3 * 3 * 7) });
const accGood = () => ({ cell: 'elman', I: 2, H: 3, dh: f64(3), sens: f64(3 * 7), grads: f64(21) });
const uoroGood = () => ({ S: 3, P: 5, js: f64(3), nu: f64(3), nuI: f64(5), sTilde: f64(3), thTilde: f64(5) });
const uaccGood = () => ({ S: 6, P: 5, H: 3, row: 3, dh: f64(3), sTilde: f64(6), thTilde: f64(5), grads: f64(5) });

const cases: Array<[string, () => unknown, ErrorConstructor, RegExp]> = [
  [
    'onlineRtrlUpdate without options',
    () => addon.onlineRtrlUpdate(),
    TypeError,
    /^onlineRtrlUpdate: argument must be an options object, received undefined$/,
  ],
  [
    'onlineRtrlUpdate with an offset past the stack',
    () => addon.onlineRtrlUpdate({ ...rtrlGood(), offset: 3 }),
    RangeError,
    /^onlineRtrlUpdate: offset must be an integer in \[0, 2\], received number 3$/,
  ],
  [
    'onlineRtrlUpdate with prev of the wrong length',
    () => addon.onlineRtrlUpdate({ ...rtrlGood(), prev: f64(11) }),
    RangeError,
    /^onlineRtrlUpdate: prev must be a Float64Array of length 12 \[S,P\], received Float64Array of length 11$/,
  ],
  [
    'onlineRtrlUpdate with below but no jsx',
    () => addon.onlineRtrlUpdate({ ...rtrlGood(), below: f64(18) }),
    TypeError,
    /^onlineRtrlUpdate: jsx must be a Float64Array of length 6 \[S,I\], received undefined$/,
  ],
  [
    'onlineRtrlUpdate writing over prev',
    () => {
      const buf = f64(24);
      return addon.onlineRtrlUpdate({ ...rtrlGood(), prev: buf.subarray(0, 12), out: buf.subarray(6, 18) });
    },
    RangeError,
    /^onlineRtrlUpdate: out must be a buffer that does not overlap prev, received an overlapping view$/,
  ],
  [
    'onlineRtrlUpdate with sizes whose product overflows',
    () => addon.onlineRtrlUpdate({ ...rtrlGood(), S: 2147483647, P: 2147483647 }),
    RangeError,
    /^onlineRtrlUpdate: S\*P must be at most 2\^40 elements, received a size that overflows$/,
  ],
  [
    'onlineSnap1Update with an unknown cell',
    () => addon.onlineSnap1Update({ ...snapGood(), cell: 'mgu' }),
    RangeError,
    /^onlineSnap1Update: cell must be one of 'elman' 'lstm' 'gru', received string "mgu"$/,
  ],
  [
    'onlineSnap1Update with sens of the wrong length',
    () => addon.onlineSnap1Update({ ...snapGood(), sens: f64(10) }),
    RangeError,
    /^onlineSnap1Update: sens must be a Float64Array of length 168 \[H,K,n\], received Float64Array of length 10$/,
  ],
  [
    'onlineSnap1Update with mixed dtypes',
    () => addon.onlineSnap1Update({ ...snapGood(), jth: new Float32Array(504) }),
    TypeError,
    /^onlineSnap1Update: jth must be a Float64Array of length 504 \[S,Pl\], received Float32Array of length 504$/,
  ],
  [
    'onlineSnap1LocalUpdate with a fractional H',
    () => addon.onlineSnap1LocalUpdate({ ...localGood(), H: 2.5 }),
    RangeError,
    /^onlineSnap1LocalUpdate: H must be an integer in \[1, 2147483647\], received number 2.5$/,
  ],
  [
    'onlineSnap1LocalUpdate for LSTM without dc0',
    () =>
      addon.onlineSnap1LocalUpdate({
        ...localGood(),
        cell: 'lstm',
        wHh: f64(36),
        g: f64(2 * 84),
        dh0: f64(6),
        sens: f64(168),
      }),
    TypeError,
    /^onlineSnap1LocalUpdate: dc0 must be a Float64Array of length 6 \[K,H\], received undefined$/,
  ],
  [
    'onlineSnap1LocalUpdate with g as a plain Array',
    () => addon.onlineSnap1LocalUpdate({ ...localGood(), g: [1, 2] }),
    TypeError,
    /^onlineSnap1LocalUpdate: g must be a Float64Array of length 63 \[K,Pl\], received Array of length 2$/,
  ],
  [
    'onlineSnap1Accumulate with NaN in dh',
    () => {
      const dh = f64(3);
      dh[2] = NaN;
      return addon.onlineSnap1Accumulate({ ...accGood(), dh });
    },
    RangeError,
    /^onlineSnap1Accumulate: dh\[2\] must be a finite number, received number NaN$/,
  ],
  [
    'onlineSnap1Accumulate with grads over sens',
    () => {
      const buf = f64(42);
      return addon.onlineSnap1Accumulate({ ...accGood(), sens: buf.subarray(0, 21), grads: buf.subarray(20, 41) });
    },
    RangeError,
    /^onlineSnap1Accumulate: grads must be a buffer that does not overlap sens, received an overlapping view$/,
  ],
  [
    'onlineSnap1Accumulate with grads of the wrong length',
    () => addon.onlineSnap1Accumulate({ ...accGood(), grads: f64(20) }),
    RangeError,
    /^onlineSnap1Accumulate: grads must be a Float64Array of length 21 \[Pl\], received Float64Array of length 20$/,
  ],
  [
    'onlineUoroSigns with an all-zero state',
    () => addon.onlineUoroSigns({ S: 2, state: new Uint32Array(4), nu: f64(2) }),
    RangeError,
    /^onlineUoroSigns: state must be a xoshiro128\*\* state with a nonzero word, received four zeros$/,
  ],
  [
    'onlineUoroSigns with a state of the wrong type',
    () => addon.onlineUoroSigns({ S: 2, state: new Int32Array(4), nu: f64(2) }),
    TypeError,
    /^onlineUoroSigns: state must be a Uint32Array of length 4 \[4\] \(xoshiro128\*\* state\), received Int32Array of length 4$/,
  ],
  [
    'onlineUoroSigns with S = 0',
    () => addon.onlineUoroSigns({ S: 0, state: Uint32Array.of(1, 2, 3, 4), nu: f64(0) }),
    RangeError,
    /^onlineUoroSigns: S must be an integer in \[1, 2147483647\], received number 0$/,
  ],
  [
    'onlineUoroUpdate with a float32 s~',
    () => addon.onlineUoroUpdate({ ...uoroGood(), sTilde: new Float32Array(3) }),
    TypeError,
    /^onlineUoroUpdate: sTilde must be a Float64Array of length 3 \[S\], received Float32Array of length 3$/,
  ],
  [
    'onlineUoroUpdate with theta~ over nuI',
    () => {
      const buf = f64(10);
      return addon.onlineUoroUpdate({ ...uoroGood(), nuI: buf.subarray(0, 5), thTilde: buf.subarray(4, 9) });
    },
    RangeError,
    /^onlineUoroUpdate: thTilde must be a buffer that does not overlap nuI, received an overlapping view$/,
  ],
  [
    'onlineUoroUpdate with js missing',
    () => addon.onlineUoroUpdate({ ...uoroGood(), js: undefined }),
    TypeError,
    /^onlineUoroUpdate: js must be a Float32Array or Float64Array, received undefined$/,
  ],
  [
    'onlineUoroAccumulate with a row past the state',
    () => addon.onlineUoroAccumulate({ ...uaccGood(), row: 4 }),
    RangeError,
    /^onlineUoroAccumulate: row must be an integer in \[0, 3\], received number 4$/,
  ],
  [
    'onlineUoroAccumulate with Infinity in dh',
    () => {
      const dh = f64(3);
      dh[0] = Infinity;
      return addon.onlineUoroAccumulate({ ...uaccGood(), dh });
    },
    RangeError,
    /^onlineUoroAccumulate: dh\[0\] must be a finite number, received number Infinity$/,
  ],
  [
    'onlineUoroAccumulate with H larger than S',
    () => addon.onlineUoroAccumulate({ ...uaccGood(), H: 7 }),
    RangeError,
    /^onlineUoroAccumulate: H must be an integer in \[1, 6\], received number 7$/,
  ],
];

describe('online kernels: bad input throws a clear error', () => {
  for (const [name, call, type, message] of cases) {
    it(name, () => expectThrows(call, type, message));
  }
});

describe('backends without the online capability', () => {
  it('ExactRtrl refuses them with a clear error', () => {
    const fake = { ...be, name: 'cuda', capabilities: { online: false } } as unknown as Backend<HostArray>;
    expect(() => new ExactRtrl(fake, { cell: 'gru', inputSize: 2, hiddenSize: 3 })).toThrow(
      /^Exact RTRL: needs a backend with the 'online' capability \(CPU\); backend 'cuda' has none$/,
    );
    expect(() => new ExactRtrl(fake, { cell: 'gru', inputSize: 2, hiddenSize: 3, algorithm: 'snap1' })).toThrow(
      /^SnAp-1: needs a backend with the 'online' capability/,
    );
    expect(() => new ExactRtrl(fake, { cell: 'gru', inputSize: 2, hiddenSize: 3, algorithm: 'uoro' })).toThrow(
      /^UORO: needs a backend with the 'online' capability/,
    );
    expect(be.capabilities.online).toBe(true);
  });
});
