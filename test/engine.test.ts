// float32 agrees with float64, both GEMM paths agree, larger shapes (threaded GEMM and
// element-wise splits) agree with the reference, async variants, worker threads.
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpu, backendInfo } from '../lib';
import type { RnnSpec } from '../lib/native';
import { gates, randn, referenceRnn, relErr, rng } from './helpers';

const be = cpu();
const info = backendInfo();

function problem(
  cell: RnnSpec['cell'],
  extra: Partial<RnnSpec>,
  dims: { T: number; B: number; I: number; H: number },
  seed: number,
) {
  const r = rng(seed);
  const s: RnnSpec = { cell, ...dims, ...extra };
  const G = gates(cell);
  const sc = 1 / Math.sqrt(dims.H);
  return {
    s,
    x: randn(dims.T * dims.B * dims.I, r),
    wIh: randn(G * dims.H * dims.I, r, sc),
    wHh: randn(G * dims.H * dims.H, r, sc),
    bIh: randn(G * dims.H, r, sc),
    bHh: randn(G * dims.H, r, sc),
    lengths: Int32Array.from({ length: dims.B }, (_, b) => (b % 3 === 0 ? dims.T : 1 + Math.floor(r() * dims.T))),
    dy: randn(dims.T * dims.B * dims.H, r),
  };
}
type Problem = ReturnType<typeof problem>;

function run(p: Problem, dtype: 'float32' | 'float64') {
  const cast = (a: Float64Array) => (dtype === 'float32' ? Float32Array.from(a) : a.slice());
  const { s } = p;
  const { T, B, I, H } = s;
  const G = gates(s.cell);
  const y = be.alloc(dtype, T * B * H),
    reserve = be.alloc(dtype, be.rnnReserveSize(s));
  const x = cast(p.x),
    wIh = cast(p.wIh),
    wHh = cast(p.wHh),
    bIh = cast(p.bIh),
    bHh = cast(p.bHh);
  be.rnnForward({ ...s, x, wIh, wHh, bIh, bHh, lengths: p.lengths, y, reserve });
  const dx = be.alloc(dtype, T * B * I),
    dwIh = be.alloc(dtype, G * H * I),
    dwHh = be.alloc(dtype, G * H * H);
  const dbIh = be.alloc(dtype, G * H),
    dbHh = be.alloc(dtype, G * H);
  be.rnnBackward({ ...s, x, wIh, wHh, lengths: p.lengths, reserve, dy: cast(p.dy), dx, dwIh, dwHh, dbIh, dbHh });
  return { y, dx, dwIh, dwHh, dbIh, dbHh };
}

const cases: Array<[RnnSpec['cell'], Partial<RnnSpec>]> = [
  ['elman', { activation: 'tanh' }],
  ['elman', { activation: 'relu', reverse: true }],
  ['elman', { activation: 'sigmoid' }],
  ['lstm', {}],
  ['lstm', { reverse: true }],
  ['gru', {}],
  ['gru', { gruVariant: 'original', reverse: true }],
];

describe('float32 agrees with float64', () => {
  for (const [cell, extra] of cases) {
    it(`${cell} ${JSON.stringify(extra)}`, () => {
      const p = problem(cell, extra, { T: 12, B: 9, I: 10, H: 33 }, 3);
      const a = run(p, 'float32'),
        b = run(p, 'float64');
      for (const k of ['y', 'dx', 'dwIh', 'dwHh', 'dbIh', 'dbHh'] as const) {
        expect(relErr(a[k], b[k]), k).toBeLessThan(2e-5);
      }
    });
  }
});

describe('larger shapes agree with the reference (threaded GEMM, split element-wise work)', () => {
  for (const cell of ['lstm', 'gru', 'elman'] as const) {
    it(cell, () => {
      const p = problem(cell, {}, { T: 6, B: 40, I: 70, H: 130 }, 8);
      const { s } = p;
      const got = run(p, 'float64');
      const ref = referenceRnn(s, { x: p.x, wIh: p.wIh, wHh: p.wHh, bIh: p.bIh, bHh: p.bHh, lengths: p.lengths });
      expect(relErr(got.y, ref.y)).toBeLessThan(1e-12);
    });
  }
});

describe('GEMM paths', () => {
  afterAll(() => {
    if (info.openblasLinked) be.setGemm('openblas');
  });
  it(`reports its configuration (${JSON.stringify(info)})`, () => {
    expect(['openblas', 'builtin']).toContain(info.gemm);
    expect(['avx512', 'avx2', 'generic']).toContain(info.simd);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    if (process.env.RNNKIT_EXPECT_GEMM) expect(info.gemm).toBe(process.env.RNNKIT_EXPECT_GEMM);
  });
  it('the built-in GEMM matches a naive product for every transpose, alpha and beta', () => {
    const r = rng(9);
    for (const [M, N, K] of [
      [1, 1, 1],
      [1, 200, 33],
      [1, 1000, 300],
      [2, 37, 19],
      [3, 50, 70],
      [4, 1030, 257],
      [5, 21, 300],
      [8, 9, 17],
      [7, 13, 5],
      [33, 70, 129],
      [64, 300, 40],
    ]) {
      for (const transA of [false, true])
        for (const transB of [false, true])
          for (const beta of [0, 1, 0.5]) {
            const a = randn(M * K, r),
              b = randn(K * N, r),
              c0 = randn(M * N, r);
            const ref = new Float64Array(M * N);
            for (let i = 0; i < M; i++)
              for (let j = 0; j < N; j++) {
                let s = 0;
                for (let k = 0; k < K; k++)
                  s += (transA ? a[k * M + i] : a[i * K + k]) * (transB ? b[j * K + k] : b[k * N + j]);
                ref[i * N + j] = 1.5 * s + beta * c0[i * N + j];
              }
            for (const gemm of info.openblasLinked ? (['builtin', 'openblas'] as const) : (['builtin'] as const)) {
              if (info.openblasLinked) be.setGemm(gemm);
              const c = beta === 0 ? new Float64Array(M * N).fill(NaN) : c0.slice();
              be.gemm({ M, N, K, a, b, c, transA, transB, alpha: 1.5, beta });
              expect(relErr(c, ref), `${gemm} ${M}x${N}x${K} ${transA} ${transB} ${beta}`).toBeLessThan(1e-13);
              const c32 = beta === 0 ? new Float32Array(M * N).fill(NaN) : Float32Array.from(c0);
              be.gemm({
                M,
                N,
                K,
                a: Float32Array.from(a),
                b: Float32Array.from(b),
                c: c32,
                transA,
                transB,
                alpha: 1.5,
                beta,
              });
              expect(relErr(c32, ref)).toBeLessThan(1e-5);
            }
          }
    }
  });
  it.skipIf(!info.openblasLinked)('an LSTM gives the same result through OpenBLAS and the built-in GEMM', () => {
    const p = problem('lstm', {}, { T: 8, B: 16, I: 20, H: 64 }, 4);
    be.setGemm('builtin');
    const a = run(p, 'float32');
    be.setGemm('openblas');
    const b = run(p, 'float32');
    for (const k of ['y', 'dx', 'dwIh', 'dwHh'] as const) expect(relErr(a[k], b[k]), k).toBeLessThan(1e-5);
  });
});

describe('strided outputs (yStride)', () => {
  it('both directions write into one [T,B,2H] buffer and read their dy from it', () => {
    const p = problem('gru', {}, { T: 7, B: 5, I: 6, H: 9 }, 21);
    const { s } = p;
    const { T, B, H } = s;
    const dirs = [false, true].map((reverse) => ({ ...s, reverse }));
    // separate buffers
    const sep = dirs.map((spec) => {
      const y = new Float64Array(T * B * H),
        reserve = new Float64Array(be.rnnReserveSize(spec));
      be.rnnForward({
        ...spec,
        x: p.x,
        wIh: p.wIh,
        wHh: p.wHh,
        bIh: p.bIh,
        bHh: p.bHh,
        lengths: p.lengths,
        y,
        reserve,
      });
      return { y, reserve };
    });
    // one interleaved buffer
    const y2 = new Float64Array(T * B * 2 * H).fill(NaN);
    const reserves = dirs.map((spec, d) => {
      const reserve = new Float64Array(be.rnnReserveSize(spec));
      be.rnnForward({
        ...spec,
        yStride: 2 * H,
        x: p.x,
        wIh: p.wIh,
        wHh: p.wHh,
        bIh: p.bIh,
        bHh: p.bHh,
        lengths: p.lengths,
        y: y2.subarray(d * H),
        reserve,
      });
      return reserve;
    });
    for (let r = 0; r < T * B; r++)
      for (let d = 0; d < 2; d++)
        for (let j = 0; j < H; j++) expect(y2[r * 2 * H + d * H + j]).toBe(sep[d].y[r * H + j]);
    // backward: dy read with the same stride
    const dy2 = randn(T * B * 2 * H, rng(3));
    dirs.forEach((spec, d) => {
      const dyd = new Float64Array(T * B * H);
      for (let r = 0; r < T * B; r++) dyd.set(dy2.subarray(r * 2 * H + d * H, r * 2 * H + d * H + H), r * H);
      const g1 = new Float64Array(p.wHh.length),
        g2 = new Float64Array(p.wHh.length);
      const dx1 = new Float64Array(p.x.length),
        dx2 = new Float64Array(p.x.length);
      be.rnnBackward({
        ...spec,
        x: p.x,
        wIh: p.wIh,
        wHh: p.wHh,
        lengths: p.lengths,
        reserve: sep[d].reserve,
        dy: dyd,
        dx: dx1,
        dwIh: new Float64Array(p.wIh.length),
        dwHh: g1,
      });
      be.rnnBackward({
        ...spec,
        yStride: 2 * H,
        x: p.x,
        wIh: p.wIh,
        wHh: p.wHh,
        lengths: p.lengths,
        reserve: reserves[d],
        dy: dy2.subarray(d * H),
        dx: dx2,
        dwIh: new Float64Array(p.wIh.length),
        dwHh: g2,
      });
      expect(Array.from(g2)).toEqual(Array.from(g1));
      expect(Array.from(dx2)).toEqual(Array.from(dx1));
    });
  });
  it('refuses a strided y that is too short', () => {
    const p = problem('lstm', {}, { T: 2, B: 2, I: 3, H: 4 }, 1);
    expect(() =>
      be.rnnForward({ ...p.s, yStride: 8, x: p.x, wIh: p.wIh, wHh: p.wHh, y: new Float64Array(20) }),
    ).toThrow(
      /y must be a Float64Array of length at least 28 \[T,B,H\] with rows yStride=8 apart, received Float64Array of length 20/,
    );
  });
});

describe('threads', () => {
  it('results do not depend on the thread count', () => {
    const p = problem('gru', {}, { T: 5, B: 48, I: 30, H: 96 }, 12);
    const n = backendInfo().threads;
    be.setNumThreads(1);
    expect(backendInfo().threads).toBe(1);
    const a = run(p, 'float64');
    be.setNumThreads(3);
    const b = run(p, 'float64');
    be.setNumThreads(n);
    for (const k of ['y', 'dx', 'dwIh'] as const) expect(relErr(a[k], b[k]), k).toBeLessThan(1e-13);
  });
});

describe('async variants', () => {
  it('give the same result as the sync calls and keep the event loop free', async () => {
    const p = problem('lstm', {}, { T: 64, B: 32, I: 64, H: 256 }, 5);
    const { s } = p;
    const { T, B, H } = s;
    const x = Float32Array.from(p.x),
      wIh = Float32Array.from(p.wIh),
      wHh = Float32Array.from(p.wHh);
    const y1 = new Float32Array(T * B * H),
      y2 = new Float32Array(T * B * H);
    be.rnnForward({ ...s, x, wIh, wHh, y: y1 });
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 1);
    const reserve = new Float32Array(be.rnnReserveSize(s));
    const started = Date.now();
    let rounds = 0;
    while (Date.now() - started < 150 || rounds < 2) {
      await be.rnnForwardAsync({ ...s, x, wIh, wHh, y: y2, reserve });
      rounds++;
    }
    clearInterval(timer);
    expect(Array.from(y2.subarray(0, 100))).toEqual(Array.from(y1.subarray(0, 100)));
    expect(ticks).toBeGreaterThan(10);
    const dwIh = new Float32Array(wIh.length),
      dwHh = new Float32Array(wHh.length);
    await be.rnnBackwardAsync({ ...s, x, wIh, wHh, reserve, dy: Float32Array.from(p.dy), dwIh, dwHh });
    expect(be.l2Norm(dwIh)).toBeGreaterThan(0);
  });
  it('rejects bad arguments synchronously with a clear error', () => {
    expect(() => be.rnnForwardAsync({ cell: 'lstm', T: 1, B: 1, I: 1, H: 1 } as never)).toThrow(
      /x must be a Float32Array or Float64Array, received undefined/,
    );
  });
});

describe('worker threads', () => {
  it('the addon loads and runs in a worker', async () => {
    const w = new Worker(join(__dirname, 'fixtures', 'worker.cjs'));
    const msg = await new Promise<{ ok: boolean; sum: number; info: { gemm: string } }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(msg.ok).toBe(true);
    expect(Number.isFinite(msg.sum)).toBe(true);
    expect(msg.info.gemm).toBe(info.gemm);
  });
});

describe('weights packed once (gemm.h PackedWeights)', () => {
  // Hashes of the bits of float32 forwards and backwards, from a child process with env set.
  const script = join(__dirname, 'fixtures', 'packed-weights-run.cjs');
  const run = (env: Record<string, string>, builtin: boolean) => {
    const args = [script, ...(builtin ? ['builtin'] : [])];
    const r = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, number>;
  };

  // The recurrent products of a forward and of a backward read W_hh packed once per call instead of once per step:
  // the same panels, so the same float32 bits as packing at every step (RNNKIT_PACK_ONCE=off).
  it('a float32 forward and backward give the same bits with W_hh packed once as packed per step', () => {
    // The built-in GEMM, and the GEMM in use where that is the built-in one for these products
    // at any packing: with OpenBLAS on an AVX2 CPU only products whose weights were packed for
    // them go to the built-in kernel, so RNNKIT_PACK_ONCE=off sends them back to OpenBLAS.
    const modes = !info.openblasLinked ? [false] : info.simd === 'avx512' ? [false, true] : [true];
    for (const builtin of modes) {
      const once = run({}, builtin),
        every = run({ RNNKIT_PACK_ONCE: 'off' }, builtin);
      expect(Object.keys(once).length).toBeGreaterThan(300);
      expect(once).toEqual(every);
    }
  });

  // rnn_fused.cpp: a float32 forward's timesteps as one parallel region (the batch's rows split
  // over the threads for the whole sequence, or one step's hidden units at small batch): the
  // same kernels on the same elements as the cells' own product-then-gates steps.
  it('a float32 forward gives the same bits with the fused step as with the cells own steps', () => {
    for (const builtin of info.openblasLinked ? [false, true] : [false])
      for (const threads of ['1', '2', '3']) {
        const env = { RNNKIT_TEST_THREADS: threads };
        const fused = run(env, builtin),
          apart = run({ ...env, RNNKIT_FUSED_STEP: 'off' }, builtin);
        expect(Object.keys(fused).length).toBeGreaterThan(300);
        expect(fused).toEqual(apart);
      }
  });
});
