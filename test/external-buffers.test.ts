// Electron's V8 memory cage refuses ArrayBuffers over native memory. `npm run build:electron`
// builds with NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED (.ci/run runs the whole suite on that build):
// the addon then creates no external buffer, and CPU tensors live in plain JavaScript memory,
// which async jobs copy. Both builds must train and predict alike.
import { describe, expect, it } from 'vitest';
import { backendInfo, cpuDevice, memoryInfo, SequenceClassifier } from '../lib';
import { loadNative } from '../lib/native';

const external = backendInfo().externalBuffers;
const expected = process.env.RNNKIT_EXPECT_EXTERNAL_BUFFERS;

function data(n: number, T: number) {
  const xs: number[][][] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const s: number[][] = [];
    for (let t = 0; t < T; t++) s.push([Math.sin(i * 0.7 + t), Math.cos(i * 0.3 - t)]);
    xs.push(s);
    ys.push(i % 3);
  }
  return { xs, ys };
}

describe('external buffers', () => {
  it.skipIf(expected === undefined)('the build is the one CI asked for (RNNKIT_EXPECT_EXTERNAL_BUFFERS)', () => {
    expect(String(external)).toBe(expected);
  });

  it('allocExternal succeeds exactly when the build allows external buffers', () => {
    const n = loadNative();
    if (external) expect(n.allocExternal({ bytes: 16 }).byteLength).toBe(16);
    else expect(() => n.allocExternal({ bytes: 16 })).toThrow(/NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED/);
  });

  it('CPU tensors use native blocks only where external buffers are allowed', () => {
    const before = memoryInfo().tensorBytes;
    const t = cpuDevice().alloc('float32', [1024]);
    const grew = memoryInfo().tensorBytes - before;
    expect(grew).toBe(external ? 4096 : 0);
    expect(cpuDevice().hostMemory(t).length).toBe(1024);
  });

  it('async kernels on CPU tensors compute what the synchronous ones do', async () => {
    const dev = cpuDevice();
    const spec = { cell: 'lstm' as const, T: 5, B: 3, I: 4, H: 6 };
    const fill = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k) * 0.5);
    const x = dev.fromHost(fill(spec.T * spec.B * spec.I, 0.37), [spec.T, spec.B, spec.I]);
    const wIh = dev.fromHost(fill(4 * spec.H * spec.I, 0.11));
    const wHh = dev.fromHost(fill(4 * spec.H * spec.H, 0.23));
    const y1 = dev.alloc('float32', [spec.T, spec.B, spec.H]);
    const y2 = dev.alloc('float32', [spec.T, spec.B, spec.H]);
    dev.rnnForward({ ...spec, x, wIh, wHh, y: y1 });
    await dev.rnnForwardAsync({ ...spec, x, wIh, wHh, y: y2 });
    expect(Array.from(dev.toHostSync(y2))).toEqual(Array.from(dev.toHostSync(y1)));
  });

  it('a model trains (async jobs) and predicts alike sync and async', async () => {
    const { xs, ys } = data(48, 6);
    const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 12, outputSize: 3, cell: 'gru', seed: 5 });
    const h = await m.fit(xs, ys, {
      epochs: 3,
      batchSize: 16,
      optimizer: { type: 'adam', lr: 0.05 },
      seed: 1,
      verbose: 0,
    });
    expect(h.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    expect(h.epochs[2].loss).toBeLessThan(h.epochs[0].loss);
    const p = m.predict(xs) as number[][];
    const q = (await m.predictAsync(xs)) as number[][];
    expect(q).toEqual(p);
  });
});
