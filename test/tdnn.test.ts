// The TDNN ready model on every device: sequence classification (mean, max, last pooling),
// per-step labelling and forecasting, float64 gradients of the whole network, save/load round
// trips (predictions bit for bit, training resumed exactly), model-file checks and bad options.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, mackeyGlass, runSync, SequenceModel, TDNN } from '../lib';
import type { Act, Checkpoint } from '../lib';
import { decodeCheckpoint, encodeCheckpoint } from '../lib/checkpoint';
import { ctxOn, expectParamGrads, forEachDevice, host, seqOn } from './device-helpers';
import { dot, expectThrows, randn, rng } from './helpers';

const dir = fs.mkdtempSync(path.join(tmpdir(), 'rnnkit-tdnn-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Class 1 when the sequence holds a rise of more than 1 between steps 2 apart. */
function riseData(n: number, seed: number) {
  const r = rng(seed);
  const xs: number[][][] = [],
    ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = 5 + (i % 5);
    const seq = Array.from({ length: len }, () => [r() - 0.5]);
    if (i % 2) {
      const t = 2 + Math.floor(r() * (len - 2));
      seq[t - 2][0] = -0.8;
      seq[t][0] = 0.8;
    }
    xs.push(seq);
    ys.push(i % 2);
  }
  return { xs, ys };
}

/** One-step-ahead forecasting of the Mackey–Glass series: windows of 20 steps, target x_{t+1}. */
function forecastData(count: number) {
  const s = mackeyGlass({ length: count * 5 + 40 });
  const xs: number[][][] = [],
    ys: number[][][] = [];
  for (let i = 0; i < count; i++) {
    const o = i * 5;
    xs.push(Array.from({ length: 20 }, (_, t) => [s[o + t] - 0.9]));
    ys.push(Array.from({ length: 20 }, (_, t) => [s[o + t + 1] - 0.9]));
  }
  return { xs, ys };
}

forEachDevice((name) => {
  describe(`TDNN (${name})`, () => {
    it('resolves its options and names parameters layers.k / head', () => {
      const m = new TDNN({
        inputSize: 2,
        layers: [
          { units: 4, delays: [0, 1, 3] },
          { units: 3, window: 2, dilation: 2 },
        ],
        outputSize: 3,
        dropout: 0.1,
      });
      expect(m.config).toEqual({
        inputSize: 2,
        outputSize: 3,
        task: 'classification',
        output: 'sequence',
        pooling: 'mean',
        dropout: 0.1,
        seed: 0,
        dtype: 'float32',
        layers: [
          { units: 4, delays: [0, 1, 3], window: null, dilation: null, activation: 'tanh', bias: true, init: 'glorot' },
          { units: 3, delays: null, window: 2, dilation: 2, activation: 'tanh', bias: true, init: 'glorot' },
        ],
      });
      expect(m.parameters().map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual([
        'layers.0.weight:4x2x3',
        'layers.0.bias:4',
        'layers.1.weight:3x4x2',
        'layers.1.bias:3',
        'head.weight:3x3',
        'head.bias:3',
      ]);
      m.dispose();
    });

    for (const pooling of ['mean', 'max', 'last'] as const)
      it(`sequence classification with ${pooling} pooling learns, saves, loads bit for bit and resumes exactly`, async () => {
        const { xs, ys } = riseData(64, 3);
        const m = new TDNN({
          inputSize: 1,
          layers: [
            { units: 8, delays: [0, 2] },
            { units: 8, window: 3, activation: 'relu' },
          ],
          outputSize: 2,
          pooling,
          seed: 5,
        });
        const first = await m.evaluate(xs, ys);
        await m.fit(xs, ys, { epochs: 30, batchSize: 16, optimizer: { type: 'adam', lr: 0.02 } });
        const after = await m.evaluate(xs, ys);
        expect(after.loss).toBeLessThan(first.loss);
        if (pooling === 'max') expect(after.accuracy).toBeGreaterThan(0.9);
        const file = path.join(dir, `cls-${name}-${pooling}.rnnkit`);
        await m.save(file);
        const back = await SequenceModel.load(file);
        expect(back).toBeInstanceOf(TDNN);
        expect(back.predict(xs.slice(0, 6))).toEqual(m.predict(xs.slice(0, 6)));
        const a = await m.fit(xs, ys, { epochs: 2, batchSize: 16 });
        const b = await back.fit(xs, ys, { epochs: 2, batchSize: 16 });
        expect(b.epochs.map((e) => e.loss)).toEqual(a.epochs.map((e) => e.loss));
        expect(back.stateDict()).toEqual(m.stateDict());
        m.dispose();
        back.dispose();
      });

    it('step-level forecasting (regression) of Mackey–Glass beats repeating the last value', async () => {
      const { xs, ys } = forecastData(40);
      const m = new TDNN({
        inputSize: 1,
        layers: [
          { units: 16, delays: [0, 1, 2, 4, 8] },
          { units: 8, delays: [0, 1] },
        ],
        outputSize: 1,
        task: 'regression',
        output: 'step',
        seed: 2,
      });
      await m.fit(xs, ys, { epochs: 60, batchSize: 10, optimizer: { type: 'adam', lr: 0.01 } });
      const { mse } = await m.evaluate(xs, ys);
      let naive = 0,
        n = 0;
      xs.forEach((x, i) =>
        x.forEach((v, t) => {
          naive += (v[0] - ys[i][t][0]) ** 2;
          n++;
        }),
      );
      expect(mse!).toBeLessThan(naive / n);
      const out = m.predict(xs.slice(0, 2)) as number[][][];
      expect(out[0].length).toBe(20);
      expect(out[0][0].length).toBe(1);
      m.dispose();
    });

    it('per-step labelling (classification and multilabel) over variable lengths', async () => {
      const { xs } = riseData(24, 9);
      const labels = xs.map((s) => s.map((v) => (v[0] > 0 ? 1 : 0)));
      const m = new TDNN({ inputSize: 1, layers: [{ units: 6, delays: [0] }], outputSize: 2, output: 'step' });
      await m.fit(xs, labels, { epochs: 40, batchSize: 8, optimizer: { type: 'adam', lr: 0.05 } });
      expect((await m.evaluate(xs, labels)).accuracy).toBeGreaterThan(0.9);
      const p = m.predict(xs.slice(0, 3)) as number[][][];
      expect(p.map((s) => s.length)).toEqual(xs.slice(0, 3).map((s) => s.length));
      const ml = new TDNN({
        inputSize: 1,
        layers: [{ units: 4, delays: [0, 1] }],
        outputSize: 2,
        task: 'multilabel',
        output: 'step',
      });
      const both = xs.map((s) => s.map((v) => [v[0] > 0 ? 1 : 0, v[0] > 0.25 ? 1 : 0]));
      const h = await ml.fit(xs, both, { epochs: 5, batchSize: 8 });
      expect(Number.isFinite(h.epochs[4].loss)).toBe(true);
      m.dispose();
      ml.dispose();
    });

    it('float64 gradients of the whole network (dropout off) match finite differences per parameter', () => {
      const m = new TDNN({
        inputSize: 2,
        layers: [
          { units: 3, delays: [0, 1, 2, 5], activation: 'sigmoid' },
          { units: 3, window: 2, dilation: 2 },
        ],
        outputSize: 2,
        pooling: 'max',
        dtype: 'float64',
        seed: 3,
      });
      const { net } = m.internals();
      const dev = m.device;
      const r = rng(4);
      net.params.setHostParams(Float64Array.from(net.params.hostParams()).map((v) => v + (r() - 0.5) * 0.3));
      const T = 7,
        B = 3;
      const x = seqOn(dev, randn(T * B * 2, r), T, B, 2, [7, 4, 2]);
      const R = randn(B * 2, r);
      const loss = () => dot(host(dev, runSync(net.forward(x, ctxOn(dev, 'float64', false))).data), R);
      net.params.zeroGrad();
      const ctx = ctxOn(dev);
      const y = runSync(net.forward(x, ctx));
      runSync(net.backward({ ...y, data: dev.fromHost(R.slice(), y.data.shape) } as Act, ctx));
      expectParamGrads(net.params, Float64Array.from(net.params.hostGrads()), loss);
      m.dispose();
    });

    it('refuses bad options, tbptt and online learning with clear errors', async () => {
      const base = { inputSize: 1, outputSize: 2 };
      expectThrows(() => new TDNN({ ...base, layers: [] }), TypeError, /TDNN: layers must be a non-empty array/);
      expectThrows(
        () => new TDNN({ ...base, layers: [{ units: 2, delays: [0, 0] }] }),
        RangeError,
        /TDNN: layers\[0\]: delays must be distinct, received 0 twice/,
      );
      expectThrows(
        () => new TDNN({ ...base, layers: [{ units: 2 }, { units: 2, delays: [1], window: 2 }] }),
        TypeError,
        /TDNN: layers\[0\]: give delays/,
      );
      expectThrows(
        () => new TDNN({ ...base, layers: [{ units: 2, delays: [0] }], pooling: 'sum' as never }),
        RangeError,
        /pooling must be one of/,
      );
      expectThrows(
        () => new TDNN({ ...base, layers: [{ units: 2, delays: [0] }], hidden: 3 } as never),
        RangeError,
        /unknown option 'hidden'/,
      );
      const m = new TDNN({ ...base, layers: [{ units: 2, delays: [0, 1] }] });
      const { xs, ys } = riseData(8, 1);
      await expect(m.fit(xs, ys, { tbptt: 2 })).rejects.toThrow(/tbptt and stateful training do not apply to a TDNN/);
      await expect(m.fit(xs, ys, { learning: 'rtrl' })).rejects.toThrow(/a TDNN trains by backpropagation/);
      await expect(m.fit([[[1, 2]]], [0])).rejects.toThrow(/2|feature/);
      m.dispose();
    });

    it('model files are checked field by field on load', async () => {
      const m = new TDNN({ inputSize: 1, layers: [{ units: 3, delays: [0, 2] }], outputSize: 2, seed: 1 });
      const { xs, ys } = riseData(8, 2);
      await m.fit(xs, ys, { epochs: 1, batchSize: 4 });
      const file = path.join(dir, `checked-${name}.rnnkit`);
      await m.save(file);
      m.dispose();
      const edited = (tag: string, edit: (cp: { meta: any; tensors: Checkpoint['tensors'] }) => void) => {
        const cp = decodeCheckpoint(fs.readFileSync(file)) as { meta: any; tensors: Checkpoint['tensors'] };
        edit(cp);
        const out = path.join(dir, `checked-${name}-${tag}.rnnkit`);
        fs.writeFileSync(out, encodeCheckpoint(cp));
        return out;
      };
      const refused = async (f: string, message: RegExp) => {
        const err = await SequenceModel.load(f).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(CheckpointError);
        expect((err as Error).message).toContain(`rnnkit model ${f}: `);
        expect((err as Error).message).toMatch(message);
      };
      await refused(
        edited('dup', (cp) => (cp.meta.options.layers[0].delays = [0, 0])),
        /options: TDNN: layers\[0\]: delays must be distinct/,
      );
      await refused(
        edited('units', (cp) => (cp.meta.options.layers[0].units = 4)),
        /tensor 'param\/layers.0.weight' must be float32 of shape \[4,1,2\]|imply/,
      );
      await refused(
        edited('missing', (cp) => delete cp.meta.options.layers[0].init),
        /options.layers\[0\].init must be "glorot"/,
      );
      await refused(
        edited('extra', (cp) => {
          cp.tensors['param/layers.0.extra'] = { data: new Float32Array(2), shape: [2] };
        }),
        /unexpected tensor 'param\/layers.0.extra'/,
      );
    });
  });
});
