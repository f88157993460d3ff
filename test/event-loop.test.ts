// The main thread is never held up by native work it did not ask for: a synchronous call made
// while another job holds the engine runs at once (in a serial lane, with the same results bit
// for bit), and fit reads a large dataset in slices with event-loop turns between them.
// Structural checks, not latency numbers (npm run bench:eventloop measures those).
import { afterAll, describe, expect, it } from 'vitest';
import { backendInfo, cpu, SequenceClassifier } from '../lib';
import type { RnnSpec } from '../lib/native';
import { randn, rng } from './helpers';

const be = cpu();
const gemms: Array<'openblas' | 'builtin'> = backendInfo().openblasLinked ? ['openblas', 'builtin'] : ['builtin'];
const f32 = (n: number, r: () => number, scale = 1) => Float32Array.from(randn(n, r, scale));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

afterAll(() => {
  if (backendInfo().openblasLinked) be.setGemm('openblas');
});

/** Sync calls that split over the pool (GEMMs in blocks, per-step row splits), with fresh outputs. */
function syncCalls(r: () => number) {
  const N = 1024,
    I = 128,
    O = 192;
  const x = f32(N * I, r),
    weight = f32(O * I, r, 0.1),
    bias = f32(O, r),
    dy = f32(N * O, r);
  const s: RnnSpec = { cell: 'lstm', T: 12, B: 64, I: 32, H: 96 };
  const rx = f32(s.T * s.B * s.I, r),
    wIh = f32(4 * s.H * s.I, r, 0.1),
    wHh = f32(4 * s.H * s.H, r, 0.1);
  return () => {
    const y = new Float32Array(N * O);
    be.linearForward({ N, I, O, x, weight, bias, y });
    const dx = new Float32Array(N * I),
      dWeight = new Float32Array(O * I),
      dBias = new Float32Array(O);
    be.linearBackward({ N, I, O, x, weight, dy, dx, dWeight, dBias });
    const ry = new Float32Array(s.T * s.B * s.H),
      reserve = new Float32Array(be.rnnReserveSize(s));
    be.rnnForward({ ...s, x: rx, wIh, wHh, y: ry, reserve });
    const rdx = new Float32Array(rx.length),
      dwIh = new Float32Array(wIh.length),
      dwHh = new Float32Array(wHh.length);
    be.rnnBackward({ ...s, x: rx, wIh, wHh, reserve, dy: ry, dx: rdx, dwIh, dwHh });
    return { y, dx, dWeight, dBias, ry, rdx, dwIh, dwHh, norm: be.l2Norm(dWeight) };
  };
}

/** An async job long enough to hold the engine for a while (at least ~300 ms here). */
function longJob(r: () => number) {
  const s: RnnSpec = { cell: 'lstm', T: 64, B: 32, I: 64, H: 256 };
  const x = f32(s.T * s.B * s.I, r),
    wIh = f32(4 * s.H * s.I, r, 0.05),
    wHh = f32(4 * s.H * s.H, r, 0.05);
  const y = new Float32Array(s.T * s.B * s.H);
  const once = () => be.rnnForward({ ...s, x, wIh, wHh, y });
  let t = performance.now();
  once();
  const ms = performance.now() - t;
  const reps = Math.max(1, Math.ceil(300 / Math.max(ms, 1)));
  const big: RnnSpec = { ...s, T: s.T * reps };
  const bx = f32(big.T * big.B * big.I, r);
  const by = new Float32Array(big.T * big.B * big.H);
  return () => be.rnnForwardAsync({ ...big, x: bx, wIh, wHh, y: by });
}

describe('event loop', () => {
  for (const gemm of gemms) {
    it(`a synchronous call does not wait for another thread's job on the engine, and computes the same (${gemm})`, async () => {
      be.setGemm(gemm);
      const r = rng(11);
      const calls = syncCalls(r);
      const alone = calls();
      const start = longJob(r);
      let settled = 0;
      const job = start().then(() => {
        settled = performance.now();
      });
      await sleep(30); // the worker thread takes the engine
      const t0 = performance.now();
      const busy = calls();
      const t1 = performance.now();
      await job;
      // before: the calls waited for the whole job and returned just before it settled
      expect(settled - t1).toBeGreaterThan(t1 - t0);
      for (const k of Object.keys(alone) as Array<keyof typeof alone>) expect(busy[k], k).toEqual(alone[k]);
    });
  }

  it('two models trained at once give the losses each gives alone, bit for bit', async () => {
    const r = rng(5);
    const x = Array.from({ length: 48 }, () =>
      Array.from({ length: 12 }, () => Array.from({ length: 16 }, () => r() * 2 - 1)),
    );
    const y = x.map((_, i) => i % 3);
    const make = (seed: number) =>
      new SequenceClassifier({ inputSize: 16, hiddenSize: 64, outputSize: 3, numLayers: 2, seed });
    const fit = (m: SequenceClassifier) => m.fit(x, y, { epochs: 2, batchSize: 8, seed: 1 });
    const losses = (h: Awaited<ReturnType<typeof fit>>) => h.epochs.map((e) => e.loss);
    const aloneA = losses(await fit(make(1))),
      aloneB = losses(await fit(make(2)));
    const [a, b] = await Promise.all([fit(make(1)), fit(make(2))]);
    expect(losses(a)).toEqual(aloneA);
    expect(losses(b)).toEqual(aloneB);
  });

  describe("fit's validation of a large dataset", () => {
    const N = 8000,
      T = 40,
      F = 10;
    const r = rng(3);
    const seqs = Array.from({ length: N }, () =>
      Array.from({ length: T }, () => Array.from({ length: F }, () => r() * 2 - 1)),
    );
    const labels = seqs.map((_, i) => i % 3);
    /** The inputs, with a flag that turns true when fit reads the last step of the last sequence. */
    const watched = () => {
      const xs = seqs.slice();
      const last = { read: false };
      const seq = seqs[N - 1].slice();
      const step = seq[T - 1];
      Object.defineProperty(seq, T - 1, {
        get: () => {
          last.read = true;
          return step;
        },
      });
      xs[N - 1] = seq;
      return { xs, last };
    };

    it('yields to the event loop: fit returns and a setImmediate callback runs before the last step is read', async () => {
      const m = new SequenceClassifier({ inputSize: F, hiddenSize: 8, outputSize: 3 });
      const { xs, last } = watched();
      let readWhenImmediateRan: boolean | null = null;
      setImmediate(() => {
        readWhenImmediateRan = last.read;
      });
      const ac = new AbortController();
      const p = m.fit(xs, labels, { epochs: 1, batchSize: 500, signal: ac.signal, onBatchEnd: () => ac.abort() });
      const readWhenFitReturned = last.read;
      await expect(p).rejects.toThrow(/abort/);
      expect(readWhenFitReturned).toBe(false);
      expect(readWhenImmediateRan).toBe(false);
      expect(last.read).toBe(true);
      m.dispose();
    });

    it('still names the sequence and step of a bad value late in the data', async () => {
      const m = new SequenceClassifier({ inputSize: F, hiddenSize: 8, outputSize: 3 });
      const xs = seqs.slice();
      xs[N - 2] = seqs[N - 2].map((s, t) => (t === 7 ? s.map((v, j) => (j === 3 ? NaN : v)) : s));
      await expect(m.fit(xs, labels)).rejects.toThrow(
        new RangeError(
          `SequenceClassifier.fit: input of sequence ${N - 2} at step 7 must be finite numbers, received NaN`,
        ),
      );
      await expect(m.fit(seqs, [...labels.slice(0, -1), 7])).rejects.toThrow(
        `SequenceClassifier.fit: target of sequence ${N - 1} must be a class id in [0, 2], received 7`,
      );
      const valBad = seqs.slice(0, 100);
      valBad[99] = [[1, 2]];
      await expect(
        m.fit(seqs.slice(0, 10), labels.slice(0, 10), {
          validationData: { inputs: valBad, targets: labels.slice(0, 100) },
        }),
      ).rejects.toThrow(
        'SequenceClassifier.fit (validationData): step 0 of sequence 99 must have 10 features, received 2',
      );
      m.dispose();
    });

    it('one buffer for all sequences: nested, batch-first and time-major inputs read the same; bad lengths named', () => {
      const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 4, outputSize: 3, seed: 4 });
      const nested = [
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        [[7, 8]],
        [
          [9, 10],
          [11, 12],
        ],
      ];
      const lengths = [3, 1, 2];
      const bf = new Float64Array(3 * 3 * 2),
        tm = new Float64Array(3 * 3 * 2);
      nested.forEach((seq, n) =>
        seq.forEach((step, t) =>
          step.forEach((v, f) => {
            bf[(n * 3 + t) * 2 + f] = v;
            tm[(t * 3 + n) * 2 + f] = v;
          }),
        ),
      );
      const want = m.predict(nested);
      expect(m.predict({ data: bf, shape: [3, 3, 2], lengths })).toEqual(want);
      expect(m.predict({ data: tm, shape: [3, 3, 2], lengths, batchFirst: false })).toEqual(want);
      expect(() => m.predict({ data: bf, shape: [3, 3, 2], lengths: [3, 5, 2] })).toThrow(
        'SequenceClassifier.predict: length of sequence 1 must be an integer in [1, 3], received 5',
      );
      m.dispose();
    });
  });
});
