// npm run validate: TDNN learning check, and the recurrent reference on the same series.
// Mackey–Glass (tau 17), the classic set-up: x(t-18), x(t-12), x(t-6), x(t) predict x(t+6),
// t = 118 … 1117; the first 500 pairs train, the last 500 test (validate/narx.validate.ts runs
// the same set-up for NARX). For the TDNN each pair is the 19-step window x(t-18) … x(t): at its
// last step a time-delay layer with taps [0, 6, 12, 18] sees exactly the four classic inputs, and
// 'last' pooling reads that step. Standardized with the training pairs' statistics. Test NDEI
// at most 0.05. The LSTM reads the series step by step (no taps given) and is reported only.
import { describe, expect, it } from 'vitest';
import { mackeyGlass, ndei, SequenceTagger, StandardScaler, TDNN } from '../lib';

const raw = Array.from(mackeyGlass({ length: 1200 }));
const scaler = new StandardScaler().fit(raw.slice(118, 624).map((v) => [v]));
const x = scaler.transform(raw.map((v) => [v])).map((v) => v[0]);
const unscale = (p: number[]) => scaler.inverseTransform(p.map((v) => [v])).map((v) => v[0]);

describe('TDNN learning', () => {
  it('Mackey–Glass x(t+6) from x(t-18), x(t-12), x(t-6), x(t): test NDEI <= 0.05', async () => {
    const pairs = (a: number, b: number) => {
      const xs: number[][][] = [],
        ys: number[][] = [];
      for (let t = a; t <= b; t++) {
        xs.push(x.slice(t - 18, t + 1).map((v) => [v]));
        ys.push([x[t + 6]]);
      }
      return { xs, ys };
    };
    const train = pairs(118, 617),
      test = pairs(618, 1117);
    const m = new TDNN({
      inputSize: 1,
      layers: [{ units: 20, delays: [0, 6, 12, 18], activation: 'tanh' }],
      outputSize: 1,
      task: 'regression',
      output: 'sequence',
      pooling: 'last',
      seed: 1,
    });
    const t0 = Date.now();
    await m.fit(train.xs, train.ys, {
      epochs: 600,
      batchSize: 25,
      optimizer: { type: 'adam', lr: 0.005 },
      schedule: { type: 'cosine', tMax: 600 },
    });
    const secs = (Date.now() - t0) / 1000;
    const score = (d: typeof train, a: number) =>
      ndei(unscale((m.predict(d.xs) as number[][]).map((r) => r[0])), raw.slice(a + 6, a + 506));
    const testNdei = score(test, 618);
    console.log(
      `VALIDATE tdnn mackey-glass: train NDEI ${score(train, 118).toFixed(4)}, test NDEI ${testNdei.toFixed(4)} (${secs.toFixed(1)} s)`,
    );
    expect(testNdei).toBeLessThanOrEqual(0.05);
  });

  it('reference: an LSTM reading the series step by step (reported, not checked)', async () => {
    // one stream from t = 100: windows of 50 steps of the training part, then one pass over all
    const xs = x.slice(100, 1118).map((v) => [v]),
      ys = x.slice(106, 1124).map((v) => [v]);
    const wx: number[][][] = [],
      wy: number[][][] = [];
    for (let a = 0; a + 50 <= 518; a += 10) {
      wx.push(xs.slice(a, a + 50));
      wy.push(ys.slice(a, a + 50));
    }
    const m = new SequenceTagger({ inputSize: 1, hiddenSize: 24, outputSize: 1, task: 'regression', seed: 1 });
    const t0 = Date.now();
    await m.fit(wx, wy, {
      epochs: 800,
      batchSize: 8,
      optimizer: { type: 'adam', lr: 0.01 },
      schedule: { type: 'cosine', tMax: 800 },
    });
    const p = unscale(((m.predict([xs]) as number[][][])[0] as number[][]).map((r) => r[0]));
    const testNdei = ndei(p.slice(518), raw.slice(624, 1124));
    console.log(
      `VALIDATE lstm mackey-glass (reference): test NDEI ${testNdei.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    expect(Number.isFinite(testNdei)).toBe(true);
  });
});
