// NARX: float64 gradient checks in open and closed loop (through the feedback), NAR and MIMO,
// several series, learning, forecast rules, conversions, bad input, save/load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, NARX, saveCheckpointSync } from '../lib';
import type { NARXOptions, NARXSeries } from '../lib';
import { expectParamGrads, forEachDevice } from './device-helpers';
import { rng } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-narx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A series of T steps: smooth inputs and targets with I and O features. */
function series(T: number, I: number, O: number, seed: number): NARXSeries {
  const r = rng(seed);
  const inputs = Array.from({ length: T }, (_, t) =>
    Array.from({ length: I }, (_, j) => Math.sin(0.3 * t + j) + 0.3 * (r() - 0.5)),
  );
  const targets = Array.from({ length: T }, (_, t) =>
    Array.from({ length: O }, (_, j) => Math.cos(0.2 * t + 2 * j) + 0.2 * r()),
  );
  return I > 0 ? { inputs, targets } : { targets };
}

function gradCheck(opts: Partial<NARXOptions>, data: NARXSeries | NARXSeries[], mode: 'open' | 'closed') {
  const m = new NARX({ outputSize: 1, hiddenSizes: [4], scaler: null, dtype: 'float64', seed: 3, ...opts });
  const p = Float64Array.from(m.params.hostParams());
  for (let i = 0; i < p.length; i++) p[i] += Math.sin(i) * 0.1; // away from zero biases
  m.params.setHostParams(p);
  m.params.zeroGrad();
  m.lossAndGradient(data, mode);
  const analytic = Float64Array.from(m.params.hostGrads());
  expectParamGrads(m.params, analytic, () => {
    const l = m.lossAndGradient(data, mode);
    m.params.zeroGrad();
    return l;
  });
  m.dispose();
}

forEachDevice(() => {
  describe('NARX gradients (float64 finite differences, every parameter tensor)', () => {
    for (const mode of ['open', 'closed'] as const) {
      it(`${mode} loop: SISO, input delays [0, 2], feedback [1, 3], two hidden layers`, () => {
        gradCheck(
          { inputSize: 1, inputDelays: [0, 2], feedbackDelays: [1, 3], hiddenSizes: [4, 3] },
          series(9, 1, 1, 1),
          mode,
        );
      });
      it(`${mode} loop: NAR (no inputs), sigmoid`, () => {
        gradCheck({ feedbackDelays: [2, 1], activation: 'sigmoid' }, series(8, 0, 1, 2), mode);
      });
      it(`${mode} loop: MIMO (2 inputs, 3 outputs), several series of different lengths`, () => {
        gradCheck(
          { inputSize: 2, outputSize: 3, inputDelays: [1], feedbackDelays: [1, 2] },
          [series(7, 2, 3, 3), series(5, 2, 3, 4), series(9, 2, 3, 5)],
          mode,
        );
      });
    }
  });

  describe('NARX', () => {
    it('open-loop training lowers the loss; predict returns T − maxDelay rows; closed-loop fine-tuning continues', async () => {
      const m = new NARX({
        inputSize: 1,
        outputSize: 1,
        inputDelays: [1, 2],
        feedbackDelays: [1, 2],
        hiddenSizes: [8],
        seed: 1,
      });
      const s = series(80, 1, 1, 7);
      const h = await m.fit(s, { epochs: 30, batchSize: 16, optimizer: { type: 'adam', lr: 0.01 } });
      expect(h.epochs).toHaveLength(30);
      expect(h.epochs[29].loss).toBeLessThan(h.epochs[0].loss);
      const p = m.predict(s) as number[][];
      expect(p).toHaveLength(78);
      expect(p[0]).toHaveLength(1);
      const c = await m.fit(s, {
        mode: 'closed',
        window: 20,
        epochs: 3,
        batchSize: 2,
        validationData: series(40, 1, 1, 8),
      });
      expect(c.epochs).toHaveLength(3);
      expect(c.epochs[2].valLoss).toBeTypeOf('number');
      expect(m.epoch).toBe(33);
      const f = m.forecast(
        { inputs: s.inputs!.slice(0, 60), targets: s.targets.slice(0, 60) },
        10,
        s.inputs!.slice(60, 69),
      );
      expect(f).toHaveLength(10);
      m.dispose();
    });

    it('forecast of one step equals predict when the history is the true past (closed = open for the first step)', () => {
      const m = new NARX({
        inputSize: 2,
        outputSize: 2,
        inputDelays: [0, 1],
        feedbackDelays: [1, 2],
        scaler: 'standard',
        seed: 4,
        dtype: 'float64',
      });
      const s = series(12, 2, 2, 9);
      const p = m.predict(s) as number[][];
      const f = m.forecast({ inputs: s.inputs!.slice(0, 11), targets: s.targets.slice(0, 11) }, 1, [s.inputs![11]]);
      f[0].forEach((v, j) => expect(v).toBeCloseTo(p[p.length - 1][j], 12));
    });

    it('forecast needs steps − min(inputDelays) future inputs (removedelay: none for one step when min delay >= 1)', () => {
      const m = new NARX({ inputSize: 1, outputSize: 1, inputDelays: [1, 3], feedbackDelays: [1] });
      const h = series(10, 1, 1, 1);
      expect(m.forecast(h, 1)).toHaveLength(1);
      expect(() => m.forecast(h, 3, [[0]])).toThrow(/futureInputs has 1 rows; forecasting 3 steps needs 2/);
      expect(() => m.forecast(h, 3)).toThrow(/futureInputs are missing/);
      expect(m.forecast(h, 3, [[0], [1]])).toHaveLength(3);
      const nar = new NARX({ outputSize: 1, feedbackDelays: [1, 2] });
      expect(nar.forecast({ targets: [[1], [2]] }, 5)).toHaveLength(5);
      expect(() => nar.forecast({ targets: [[1], [2]] }, 2, [[1]])).toThrow(/NAR model/);
    });

    it('closeLoop() and openLoop() return converted copies: same predictions, default fit mode changed', async () => {
      const m = new NARX({ inputSize: 1, outputSize: 1, seed: 2 });
      const s = series(30, 1, 1, 3);
      await m.fit(s, { epochs: 2 });
      const c = m.closeLoop();
      expect(c.config.loop).toBe('closed');
      expect(c).not.toBe(m);
      expect(c.predict(s)).toEqual(m.predict(s));
      expect(c.scalers).toEqual(m.scalers);
      const hc = await c.fit(s, { epochs: 1, window: 10 }); // window applies to closed mode only: the default now
      expect(hc.epochs).toHaveLength(1);
      expect(c.openLoop().config.loop).toBe('open');
      await expect(m.fit(s, { epochs: 1, window: 10 })).rejects.toThrow(/window applies to mode 'closed' only/);
    });

    it('bad input: clear errors', async () => {
      expect(() => new NARX({ inputSize: 1, outputSize: 1, inputDelays: [-1] })).toThrow(
        /inputDelays\[0\] must be an integer in \[0/,
      );
      expect(() => new NARX({ inputSize: 1, outputSize: 1, inputDelays: [1, 1] })).toThrow(
        /inputDelays must be distinct/,
      );
      expect(() => new NARX({ outputSize: 1, feedbackDelays: [0] })).toThrow(
        /feedbackDelays\[0\] must be an integer in \[1/,
      );
      expect(() => new NARX({ outputSize: 1, feedbackDelays: [2, 2] })).toThrow(/distinct/);
      expect(() => new NARX({ outputSize: 1, inputDelays: [1] })).toThrow(/NAR model/);
      expect(() => new NARX({ outputSize: 1, feedbackDelays: [] })).toThrow(/at least one delay/);
      expect(() => new NARX({ outputSize: 1, hiddenSizes: [0] })).toThrow(/hiddenSizes/);
      expect(() => new NARX({ outputSize: 1, scaler: 'robust' as 'standard' })).toThrow(/scaler must be/);
      const m = new NARX({ inputSize: 2, outputSize: 1, inputDelays: [0, 4], feedbackDelays: [1] });
      const s = series(10, 2, 1, 1);
      await expect(m.fit({ inputs: s.inputs!.slice(0, 4), targets: s.targets.slice(0, 4) })).rejects.toThrow(
        /has 4 steps; the delays need 4 steps of history/,
      );
      await expect(m.fit({ targets: s.targets })).rejects.toThrow(/inputs are missing; this model has inputSize 2/);
      await expect(m.fit({ inputs: s.inputs!.map((r) => r.slice(0, 1)), targets: s.targets })).rejects.toThrow(
        /series.inputs\[0\] must have 2 features, received 1/,
      );
      await expect(m.fit({ inputs: s.inputs!.slice(1), targets: s.targets })).rejects.toThrow(
        /one row per target step/,
      );
      await expect(m.fit([s, { ...s, targets: s.targets.map(() => [NaN]) }])).rejects.toThrow(
        /series\[1\].targets\[0\]\[0\] must be a finite number/,
      );
      await expect(m.fit(s, { validationSplit: 0.2 } as never)).rejects.toThrow(/validationSplit does not apply/);
      expect(() => m.forecast({ inputs: s.inputs!.slice(0, 2), targets: s.targets.slice(0, 2) }, 1, [[0, 0]])).toThrow(
        /history has 2 steps; the delays need the last 4/,
      );
      expect(() => m.forecast(s, 0)).toThrow(/steps must be an integer/);
      expect(() => m.forecast(s, 3, [[0, 0]])).toThrow(/futureInputs has 1 rows; forecasting 3 steps needs 3/);
      expect(() => m.predict({ inputs: s.inputs, targets: s.targets.map((r) => [...r, 0]) })).toThrow(
        /targets\[0\] must have 1 features, received 2/,
      );
    });

    it('save/load round trip with scalers: predictions and forecasts equal bit for bit, training resumes exactly', async () => {
      for (const scaler of ['standard', 'minmax', null] as const) {
        const opts: NARXOptions = {
          inputSize: 1,
          outputSize: 2,
          inputDelays: [0, 1],
          feedbackDelays: [1, 2],
          scaler,
          seed: 6,
        };
        const s = series(40, 1, 2, 11);
        const a = new NARX(opts);
        await a.fit(s, { epochs: 2, optimizer: 'adam' });
        const path = join(dir, `narx-${scaler}.rnnkit`);
        await a.save(path);
        const b = await NARX.load(path);
        expect(b.scalers).toEqual(a.scalers);
        expect(b.predict(s)).toEqual(a.predict(s));
        expect(b.forecast(s, 5, s.inputs!.slice(0, 5))).toEqual(a.forecast(s, 5, s.inputs!.slice(0, 5)));
        const ha = await a.fit(s, { epochs: 2, optimizer: 'adam', mode: 'closed', window: 8 });
        const hb = await b.fit(s, { epochs: 2, optimizer: 'adam', mode: 'closed', window: 8 });
        expect(hb.epochs.map((e) => e.loss)).toEqual(ha.epochs.map((e) => e.loss));
        expect(b.stateDict()).toEqual(a.stateDict());
        a.dispose();
        b.dispose();
      }
    });

    it('model files are validated on load: scalers, options, tensors', async () => {
      const m = new NARX({ inputSize: 1, outputSize: 1, scaler: 'standard' });
      await m.fit(series(20, 1, 1, 1), { epochs: 1 });
      const cp = m.checkpoint();
      const bad = (edit: (meta: Record<string, unknown>) => void, re: RegExp) => {
        const c = structuredClone(cp);
        edit(c.meta as Record<string, unknown>);
        const p = join(dir, 'bad.rnnkit');
        saveCheckpointSync(p, c);
        expect(() => NARX.loadSync(p)).toThrow(CheckpointError);
        expect(() => NARX.loadSync(p)).toThrow(re);
      };
      bad(
        (meta) => ((meta.scalers as Record<string, unknown>).targets = { kind: 'standard', mean: [0], scale: [-1] }),
        /scale must be positive/,
      );
      bad(
        (meta) =>
          ((meta.scalers as Record<string, unknown>).targets = {
            kind: 'minmax',
            range: [-1, 1],
            min: [0],
            scale: [1],
          }),
        /must be a standard scaler/,
      );
      bad(
        (meta) =>
          ((meta.scalers as Record<string, unknown>).inputs = { kind: 'standard', mean: [0, 1], scale: [1, 1] }),
        /scale 1 features, found 2/,
      );
      bad((meta) => delete meta.scalers, /missing field 'scalers'/);
      bad((meta) => ((meta.options as Record<string, unknown>).feedbackDelays = [0]), /feedbackDelays\[0\]/);
      bad((meta) => ((meta.options as Record<string, unknown>).hiddenSizes = [11]), /imply \d+ parameters/);
      bad((meta) => (meta.type = 'Seq2Seq'), /not a NARX file/);
    });
  });
});
