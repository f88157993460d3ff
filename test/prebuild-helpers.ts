// Shared by test/prebuild.test.ts and test/prebuild-arm64.test.ts: the symbol versions a built
// addon needs (readelf reads any architecture's ELF), and a script that loads an addon through
// node-gyp-build and runs a few recurrent forwards, for comparing builds.
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import { referenceRnn } from './helpers';

/**
 * The newest glibc a prebuild may need, as README.md and docs/engine.md ("Prebuilds") state: what
 * remains after native/compat/glibc_floor.c is __cxa_thread_atexit_impl (thread_local destructors,
 * glibc 2.18). Node 18, the engines floor, itself needs glibc 2.28.
 */
export const GLIBC_FLOOR = '2.18';

export interface VersionNeeds {
  /** Every version the dynamic loader checks (.gnu.version_r), e.g. GLIBC_2.17, GCC_3.0. */
  versions: string[];
  /** The undefined dynamic symbols by the version they are bound to. */
  symbols: Map<string, string[]>;
}

export function versionNeeds(file: string): VersionNeeds {
  const v = execFileSync('readelf', ['--version-info', '--wide', file], { encoding: 'utf8' });
  const versions = [...new Set([...v.matchAll(/Name: (\S+)\s+Flags/g)].map((m) => m[1]))];
  const syms = execFileSync('readelf', ['--dyn-syms', '--wide', file], { encoding: 'utf8' });
  const symbols = new Map<string, string[]>();
  for (const m of syms.matchAll(/\sUND\s+([^@\s]+)@+([A-Za-z]+_[0-9.]+)/g))
    symbols.set(m[2], [...(symbols.get(m[2]) ?? []), m[1]]);
  return { versions, symbols };
}

/** Compares dotted versions numerically: 2.18 < 2.2.5 is false, 2.9 < 2.18 is true. */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number),
    y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The newest `${prefix}_x.y` version in the list ('' when none). */
export function newest(versions: string[], prefix: string): string {
  const nums = versions.filter((v) => v.startsWith(`${prefix}_`)).map((v) => v.slice(prefix.length + 1));
  return nums.sort(compareVersions).at(-1) ?? '';
}

export type Cell = 'elman' | 'lstm' | 'gru';
/** The forwards the script runs: cell and element type. */
export const FORWARDS: [Cell, 'f32' | 'f64'][] = [
  ['elman', 'f32'],
  ['lstm', 'f32'],
  ['gru', 'f64'],
];
/** Sizes large enough for the matrix products to go through the BLAS. */
export const SIZES = { T: 6, B: 4, I: 16, H: 32 };

/** Deterministic inputs of a forward. Self-contained: the script below carries its source. */
export function forwardInputs(cell: Cell, T: number, B: number, I: number, H: number) {
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const fill = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  return {
    x: fill(T * B * I, (i) => Math.sin(0.7 * i)),
    h0: fill(B * H, (i) => 0.5 * Math.cos(0.3 * i)),
    wIh: fill(G * H * I, (i) => 0.3 * Math.cos(1.3 * i)),
    wHh: fill(G * H * H, (i) => 0.2 * Math.sin(0.9 * i)),
    bIh: fill(G * H, (i) => 0.1 * Math.sin(i)),
    bHh: fill(G * H, (i) => 0.1 * Math.cos(i)),
  };
}

/**
 * A script for `node -e`: loads the addon in `dir` through node-gyp-build (the copy at
 * `nodeGypBuild`), prints the file it loaded on the first line and, on the second, JSON with
 * backendInfo() and, for each of FORWARDS, y [T,B,H] followed by hN [B,H].
 */
export function forwardScript(nodeGypBuild: string, dir: string): string {
  return `
    const load = require(${JSON.stringify(nodeGypBuild)});
    console.log(load.path(${JSON.stringify(dir)}));
    const a = load(${JSON.stringify(dir)});
    const forwardInputs = ${forwardInputs.toString()};
    const { T, B, I, H } = ${JSON.stringify(SIZES)};
    const y = {};
    for (const [cell, dt] of ${JSON.stringify(FORWARDS)}) {
      const A = dt === 'f32' ? Float32Array : Float64Array;
      const inp = Object.fromEntries(Object.entries(forwardInputs(cell, T, B, I, H)).map(([k, v]) => [k, A.from(v)]));
      const out = new A(T * B * H), hN = new A(B * H);
      a.rnnForward({ cell, T, B, I, H, ...inp, y: out, hN });
      y[cell + '-' + dt] = Array.from(out).concat(Array.from(hN));
    }
    console.log(JSON.stringify({ info: a.backendInfo(), y }));`;
}

/** What forwardScript prints on its second line. */
export interface ForwardResult {
  info: { backend: string; gemm: string; simd: string; threads: number };
  y: Record<string, number[]>;
}

/** The largest difference of each forward's outputs from the plain-JavaScript reference (test/helpers.ts). */
export function referenceDiffs(res: ForwardResult): Record<string, number> {
  const { T, B, I, H } = SIZES;
  const diffs: Record<string, number> = {};
  for (const [cell, dt] of FORWARDS) {
    const round = dt === 'f32' ? Math.fround : (v: number) => v;
    const inp = Object.fromEntries(
      Object.entries(forwardInputs(cell, T, B, I, H)).map(([k, v]) => [k, Float64Array.from(v, round)]),
    );
    const ref = referenceRnn({ cell, T, B, I, H }, inp as unknown as Parameters<typeof referenceRnn>[1]);
    const want = [...ref.y, ...ref.hN];
    const got = res.y[`${cell}-${dt}`];
    expect(got).toHaveLength(want.length);
    diffs[`${cell}-${dt}`] = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
  }
  return diffs;
}

/** float32 agrees with float64 to about 1e-5 (docs/engine.md); float64 to rounding. */
export const TOLERANCE: Record<'f32' | 'f64', number> = { f32: 1e-5, f64: 1e-12 };
