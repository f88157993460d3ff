// The CUDA device's side of the tensor contract, and models on it: memory in and out, views,
// freeing (by free(), dispose() and the garbage collector), a fit that matches the CPU's losses
// with the batch as the only transfer per step, and models moving between devices by file and
// by to(). Runs on a GPU or on the emulation build (RNNKIT_CUDA_EMULATION=1); otherwise skipped.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuDevice, cudaDevice, SequenceClassifier, SequenceModel, SequenceTagger } from '../lib';
import { cudaState, relDiff } from './cuda-ops-helpers';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cuda-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function data(n: number, T: number, F: number, classes: number, seed = 1) {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s / 2 ** 31 - 0.5);
  const xs = Array.from({ length: n }, (_, i) =>
    Array.from({ length: 2 + ((i * 7) % (T - 1)) }, () => Array.from({ length: F }, r)),
  );
  const ys = xs.map((x) => (x[0][0] > 0 ? 1 : 0) % classes);
  return { xs, ys };
}

describe.skipIf(!cudaState.available)('CUDA device', () => {
  it('moves data in and out, views share memory, fill and copy work on every dtype', () => {
    const dev = cudaDevice();
    const a = dev.fromHost(Float64Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(Array.from(dev.toHostSync(a))).toEqual([1, 2, 3, 4, 5, 6]);
    const v = dev.view(a, 2, [3]);
    dev.fill(v, 9);
    expect(Array.from(dev.toHostSync(a))).toEqual([1, 2, 9, 9, 9, 6]);
    const b = dev.clone(a);
    dev.write(a, [0, 0, 0, 0, 0, 0]);
    expect(Array.from(dev.toHostSync(b))).toEqual([1, 2, 9, 9, 9, 6]);
    for (const dt of ['float32', 'int32', 'uint8'] as const) {
      const t = dev.alloc(dt, [5]);
      expect(Array.from(dev.toHostSync(t))).toEqual([0, 0, 0, 0, 0]);
      dev.fill(t, 3);
      expect(Array.from(dev.toHostSync(t))).toEqual([3, 3, 3, 3, 3]);
    }
    expect(() => dev.view(a, 5, [3])).toThrow(/elements \[5, 8\) must lie within the tensor's 6/);
    expect(() => cpuDevice().toHostSync(a)).toThrow(/lives on device 'cuda', not 'cpu'/);
  });

  it('frees memory on free(), refuses a freed tensor, and a view never frees its block', () => {
    const dev = cudaDevice();
    const before = dev.memoryInfo().allocatedBytes;
    const t = dev.alloc('float32', [1 << 16]);
    expect(dev.memoryInfo().allocatedBytes - before).toBe(4 << 16);
    const v = dev.view(t, 0, [4]);
    dev.free(v);
    expect(dev.memoryInfo().allocatedBytes - before).toBe(4 << 16);
    expect(() => dev.toHostSync(v)).toThrow(/freed/);
    dev.free(t);
    expect(dev.memoryInfo().allocatedBytes).toBe(before);
    expect(() => dev.toHostSync(t)).toThrow(/freed/);
  });

  it('frees the memory of collected tensors (finalizer) and of disposed models', () => {
    const script = `
      const { cudaDevice, SequenceClassifier } = require(${JSON.stringify(resolve(__dirname, '..', 'dist', 'index.js'))});
      const dev = cudaDevice();
      const base = dev.memoryInfo().allocatedBytes;
      for (let i = 0; i < 50; i++) dev.alloc('float32', [1 << 18]); // 50 MB, unreferenced
      global.gc(); global.gc();
      // Node runs Node-API finalizers after the collection, from the event loop.
      setImmediate(() => setImmediate(() => {
      const afterGc = dev.memoryInfo().allocatedBytes - base;
      const m = new SequenceClassifier({ inputSize: 3, hiddenSize: 64, outputSize: 2, device: 'cuda' });
      const held = dev.memoryInfo().allocatedBytes - base;
      m.dispose();
      console.log(JSON.stringify({ afterGc, held, afterDispose: dev.memoryInfo().allocatedBytes - base }));
      }));`;
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', env: process.env });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.afterGc).toBeLessThan(4 << 20);
    expect(r.held).toBeGreaterThan(0);
    expect(r.afterDispose).toBe(0);
  });

  it("fit on 'cuda' gives the CPU's losses, and a step moves only the batch in and scalars out", async () => {
    const { xs, ys } = data(40, 7, 3, 2);
    const opts = {
      inputSize: 3,
      hiddenSize: 8,
      outputSize: 2,
      cell: 'lstm' as const,
      dtype: 'float64' as const,
      seed: 3,
    };
    const fitOpts = { epochs: 3, batchSize: 8, seed: 2, verbose: 0 as const, clipNorm: 1 };
    const onCpu = new SequenceClassifier(opts);
    const onGpu = new SequenceClassifier({ ...opts, device: 'cuda' });
    const hc = await onCpu.fit(xs, ys, fitOpts);
    const dev = cudaDevice();
    const t0 = { ...dev.transfers };
    const hg = await onGpu.fit(xs, ys, fitOpts);
    const steps = 3 * Math.ceil(40 / 8);
    for (let e = 0; e < 3; e++) expect(Math.abs(hg.epochs[e].loss - hc.epochs[e].loss)).toBeLessThan(1e-9);
    // Per step: the batch (inputs, targets, lengths) in; the loss, norm and flags out.
    expect(dev.transfers.toDevice - t0.toDevice).toBeLessThanOrEqual(steps * 4);
    expect(dev.transfers.toHostCalls - t0.toHostCalls).toBeLessThanOrEqual(3);
    const pc = onCpu.predict(xs) as number[][];
    const pg = onGpu.predict(xs) as number[][];
    expect(relDiff(pg.flat(), pc.flat())).toBeLessThan(1e-9);
  });

  it('a model trained on the GPU loads and predicts on the CPU, and the other way round', async () => {
    const { xs, ys } = data(24, 6, 2, 2, 5);
    const gpu = new SequenceTagger({
      inputSize: 2,
      hiddenSize: 6,
      outputSize: 2,
      cell: 'gru',
      device: 'cuda',
      seed: 4,
    });
    const tags = xs.map((x) => x.map((_, t) => (t + ys[0]) % 2));
    await gpu.fit(xs, tags, { epochs: 2, batchSize: 6, verbose: 0 });
    const file = join(dir, 'tagger.rnnkit');
    await gpu.save(file);
    const cpuModel = await SequenceModel.load(file);
    expect(cpuModel.device.name).toBe('cpu');
    const a = (gpu.predict(xs) as number[][][]).flat(2);
    const b = (cpuModel.predict(xs) as number[][][]).flat(2);
    expect(relDiff(a, b)).toBeLessThan(1e-5);
    const back = await SequenceModel.load(file, { device: 'cuda' });
    expect(back.device.name).toBe('cuda');
    expect(relDiff((back.predict(xs) as number[][][]).flat(2), b)).toBeLessThan(1e-5);
    const moved = cpuModel.to('cuda');
    expect(moved.device.name).toBe('cuda');
    expect(relDiff((moved.predict(xs) as number[][][]).flat(2), b)).toBeLessThan(1e-5);
    expect(moved.to('cuda')).toBe(moved);
  });
});

describe('CUDA device option', () => {
  it.skipIf(cudaState.available)("device: 'cuda' without a usable GPU throws, saying why", () => {
    expect(() => new SequenceClassifier({ inputSize: 2, hiddenSize: 4, outputSize: 2, device: 'cuda' })).toThrow(
      /SequenceClassifier: rnnkit: CUDA device unavailable: .*(driver|not built)/,
    );
  });
  it("device: 'cpu' names the CPU device, and other strings are refused by name", () => {
    const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 4, outputSize: 2, device: 'cpu' });
    expect(m.device).toBe(cpuDevice());
    expect(
      () => new SequenceClassifier({ inputSize: 2, hiddenSize: 4, outputSize: 2, device: 'gpu' as never }),
    ).toThrow(/device must be a Device \(cpuDevice\(\), cudaDevice\(\)\) or 'cpu' or 'cuda', received string "gpu"/);
  });
});
