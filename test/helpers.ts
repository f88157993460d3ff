// Shared test utilities: a seeded RNG, a plain-JavaScript reference of the recurrent math
// (straight from docs/conventions.md, no tricks), and central-difference gradient checks.
import { expect } from 'vitest';
import type { HostArray, RnnSpec } from '../lib/native';

export function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(n: number, rand: () => number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

export const gates = (cell: RnnSpec['cell']) => (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1);
const sig = (x: number) => 1 / (1 + Math.exp(-x));

export interface RefInputs {
  x: HostArray;
  h0?: HostArray | null;
  c0?: HostArray | null;
  lengths?: Int32Array | null;
  wIh: HostArray;
  wHh: HostArray;
  bIh?: HostArray | null;
  bHh?: HostArray | null;
}

/** Reference forward of one direction: y [T,B,H], hN, cN. */
export function referenceRnn(s: RnnSpec, p: RefInputs) {
  const { T, B, I, H } = s;
  const G = gates(s.cell);
  const y = new Float64Array(T * B * H);
  const h = new Float64Array(B * H);
  const c = new Float64Array(B * H);
  if (p.h0) h.set(p.h0);
  if (p.c0) c.set(p.c0);
  const act = (v: number) =>
    s.activation === 'relu' ? Math.max(0, v) : s.activation === 'sigmoid' ? sig(v) : Math.tanh(v);
  for (let step = 0; step < T; step++) {
    const t = s.reverse ? T - 1 - step : step;
    for (let b = 0; b < B; b++) {
      if (p.lengths && t >= p.lengths[b]) continue; // state carried, output stays 0
      const xv = (k: number) => {
        // input-side pre-activation of gate row k
        let v = p.bIh ? p.bIh[k] : 0;
        for (let i = 0; i < I; i++) v += p.wIh[k * I + i] * p.x[(t * B + b) * I + i];
        return v;
      };
      const hv = (k: number, hvec: ArrayLike<number>) => {
        let v = p.bHh ? p.bHh[k] : 0;
        for (let j = 0; j < H; j++) v += p.wHh[k * H + j] * hvec[j];
        return v;
      };
      const hPrev = h.slice(b * H, (b + 1) * H);
      const hNew = new Float64Array(H);
      if (s.cell === 'elman') {
        for (let u = 0; u < H; u++) hNew[u] = act(xv(u) + hv(u, hPrev));
      } else if (s.cell === 'lstm') {
        for (let u = 0; u < H; u++) {
          const i = sig(xv(u) + hv(u, hPrev));
          const f = sig(xv(H + u) + hv(H + u, hPrev));
          const g = Math.tanh(xv(2 * H + u) + hv(2 * H + u, hPrev));
          const o = sig(xv(3 * H + u) + hv(3 * H + u, hPrev));
          const cc = f * c[b * H + u] + i * g;
          c[b * H + u] = cc;
          hNew[u] = o * Math.tanh(cc);
        }
      } else {
        const r = new Float64Array(H),
          z = new Float64Array(H);
        for (let u = 0; u < H; u++) {
          r[u] = sig(xv(u) + hv(u, hPrev));
          z[u] = sig(xv(H + u) + hv(H + u, hPrev));
        }
        const rh = hPrev.map((v, u) => r[u] * v);
        for (let u = 0; u < H; u++) {
          const n =
            s.gruVariant === 'original'
              ? Math.tanh(xv(2 * H + u) + hv(2 * H + u, rh))
              : Math.tanh(xv(2 * H + u) + r[u] * hv(2 * H + u, hPrev));
          hNew[u] = (1 - z[u]) * n + z[u] * hPrev[u];
        }
      }
      h.set(hNew, b * H);
      y.set(hNew, (t * B + b) * H);
    }
  }
  void G;
  return { y, hN: h, cN: c };
}

export function maxAbs(a: ArrayLike<number>) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a-b| / max(max|b|, tiny): the scale-aware error used for float agreement. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>) {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / Math.max(maxAbs(b), 1e-30);
}

/** Central-difference gradient of a scalar loss with respect to every element of `param`. */
export function numericGrad(param: Float64Array, loss: () => number, eps = 1e-6): Float64Array {
  const g = new Float64Array(param.length);
  for (let i = 0; i < param.length; i++) {
    const keep = param[i];
    param[i] = keep + eps;
    const lp = loss();
    param[i] = keep - eps;
    const lm = loss();
    param[i] = keep;
    g[i] = (lp - lm) / (2 * eps);
  }
  return g;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// ---- shared by the op tests (test/ops-*.test.ts) ----
export type Dt = 'f64' | 'f32';
export const DTYPES: Dt[] = ['f64', 'f32'];
/** Agreement with a float64 JS reference: float64 to 1e-12, float32 to 1e-5 (relErr). */
export const TOL: Record<Dt, number> = { f64: 1e-12, f32: 1e-5 };
export function cast(dt: Dt, a: ArrayLike<number>): HostArray {
  return dt === 'f64' ? Float64Array.from(a) : Float32Array.from(a);
}
/** The analytic gradient equals the central difference of `loss` w.r.t. every element of param. */
export function expectGrad(analytic: ArrayLike<number>, param: Float64Array, loss: () => number, tol = 1e-6) {
  const num = numericGrad(param, loss);
  expect(maxAbs(num), 'the gradient must not vanish (the check would be vacuous)').toBeGreaterThan(1e-3);
  expect(relErr(analytic, num)).toBeLessThan(tol);
}
/** The call throws an error of `type` whose message matches. */
export function expectThrows(call: () => unknown, type: ErrorConstructor, message: RegExp) {
  let err: unknown;
  try {
    call();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(type);
  expect((err as Error).message).toMatch(message);
}
/** a + b element-wise (the expected value of a buffer that accumulated b onto a). */
export const plus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]);
