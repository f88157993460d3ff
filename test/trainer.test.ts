// The one trainer every model shares: the same options, History, callbacks, validation, early
// stopping, schedules, abort, time limit and exact resume for SequenceClassifier, SequenceTagger,
// LanguageModel and Seq2Seq; the gradient pipeline's handling of non-finite updates; stateful
// truncated BPTT over one long stream; schedules in the online learner.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LanguageModel,
  OnlineLearner,
  Rng,
  Seq2Seq,
  SequenceClassifier,
  SequenceModel,
  SequenceTagger,
  Vocabulary,
} from '../lib';
import type { BatchInfo, EpochInfo, History } from '../lib';
import { forEachDevice } from './device-helpers';

const tmp = (name: string) => join(mkdtempSync(join(tmpdir(), 'rnnkit-trainer-')), name);

function toy(n: number, seed: number) {
  const r = new Rng(seed);
  const xs = Array.from({ length: n }, () =>
    Array.from({ length: 3 + r.int(5) }, () => [r.uniform(-1, 1), r.uniform(-1, 1)]),
  );
  return { xs, ys: xs.map((s) => (s[0][0] > 0 ? 1 : 0)), tags: xs.map((s) => s.map((v) => (v[1] > 0 ? 1 : 0))) };
}
const text = 'the quick brown fox jumps over the lazy dog. '.repeat(6);
const v = Vocabulary.characters('abcd');
const pairs = {
  src: ['abc', 'bcd', 'dab', 'cab', 'ad', 'bbc', 'dca', 'acd'],
  tgt: ['cba', 'dcb', 'bad', 'bac', 'da', 'cbb', 'acd', 'dca'],
};

/** Each model behind one shape of call: fit(data, options) → History. */
const models = {
  classifier: () => {
    const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 5, outputSize: 2, dtype: 'float64', seed: 2 });
    const d = toy(24, 1);
    return {
      m,
      fit: (o: object) => m.fit(d.xs, d.ys, { batchSize: 8, ...o }),
      val: { validationData: { inputs: d.xs.slice(0, 6), targets: d.ys.slice(0, 6) } },
    };
  },
  tagger: () => {
    const m = new SequenceTagger({ inputSize: 2, hiddenSize: 5, outputSize: 2, dtype: 'float64', seed: 2 });
    const d = toy(24, 1);
    return {
      m,
      fit: (o: object) => m.fit(d.xs, d.tags, { batchSize: 8, ...o }),
      val: { validationData: { inputs: d.xs.slice(0, 6), targets: d.tags.slice(0, 6) } },
    };
  },
  languageModel: () => {
    const m = new LanguageModel({
      vocabulary: Vocabulary.characters(text),
      hiddenSize: 8,
      embeddingDim: 4,
      dtype: 'float64',
      seed: 2,
    });
    return {
      m,
      fit: (o: object) => m.fit(text, { batchSize: 4, seqLen: 8, ...o }),
      val: { validationText: text.slice(0, 60) },
    };
  },
  seq2seq: () => {
    const m = new Seq2Seq({
      sourceVocabulary: v,
      hiddenSize: 6,
      embeddingDim: 4,
      attention: 'dot',
      dtype: 'float64',
      seed: 2,
    });
    return {
      m,
      fit: (o: object) => m.fit(pairs.src, pairs.tgt, { batchSize: 4, ...o }),
      val: { validationData: { inputs: pairs.src.slice(0, 3), targets: pairs.tgt.slice(0, 3) } },
    };
  },
};
type Made = ReturnType<(typeof models)[keyof typeof models]>;

function shapeOf(h: History) {
  return {
    keys: Object.keys(h).sort(),
    epoch: Object.keys(h.epochs[0])
      .filter((k) => k !== 'teacherForcing')
      .sort(),
  };
}

forEachDevice(() => {
  describe('one trainer for every model', () => {
    const reference = shapeOf({
      epochs: [{ epoch: 0, loss: 0, metrics: { loss: 0 }, valLoss: null, valMetrics: null, gradNorm: 0, lr: 0 }],
      stoppedEarly: false,
      outOfTime: false,
    });

    for (const [name, make] of Object.entries(models)) {
      it(`${name}: History, callbacks, validation, schedule and early stopping with restoreBest`, async () => {
        const { m, fit, val } = make() as Made;
        const batches: BatchInfo[] = [],
          epochs: EpochInfo[] = [];
        const h = await fit({
          epochs: 3,
          optimizer: { type: 'sgd', lr: 0.05 },
          schedule: { type: 'step', stepSize: 1, gamma: 0.5 },
          ...val,
          onBatchEnd: (b: BatchInfo) => {
            batches.push(b);
          },
          onEpochEnd: (e: EpochInfo) => {
            epochs.push(e);
          },
        });
        expect(shapeOf(h)).toEqual(reference);
        expect(h.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
        expect(h.epochs.map((e) => e.lr)).toEqual([0.05, 0.025, 0.0125]);
        expect(epochs).toEqual(h.epochs);
        expect(batches.length).toBeGreaterThan(3);
        expect(Object.keys(batches[0]).sort()).toEqual(['batch', 'epoch', 'gradNorm', 'loss', 'lr', 'skipped', 'step']);
        expect(batches.at(-1)!.step).toBe(batches.length);
        for (const e of h.epochs) {
          expect(Number.isFinite(e.loss) && Number.isFinite(e.valLoss!) && e.gradNorm > 0).toBe(true);
          expect(e.valMetrics!.loss).toBe(e.valLoss);
        }
        expect(m.epoch).toBe(3);
        // early stopping: a learning rate of 0 never improves; restoreBest puts back the best epoch's weights
        const before = JSON.stringify(m.stateDict());
        const es = await fit({
          epochs: 10,
          optimizer: { type: 'sgd', lr: 0 },
          earlyStopping: { monitor: 'loss', patience: 2, minDelta: 1e-9, restoreBest: true },
        });
        expect(es.stoppedEarly).toBe(true);
        expect(es.epochs).toHaveLength(3);
        expect(JSON.stringify(m.stateDict())).toBe(before);
        await expect(fit({ earlyStopping: { restoreBestWeights: true } })).rejects.toThrow(
          /earlyStopping has unknown option 'restoreBestWeights'/,
        );
        await expect(fit({ epochs: 1, lenghts: 3 })).rejects.toThrow(/unknown option 'lenghts'/);
        await expect(fit({ onBatchEnd: 'no' })).rejects.toThrow(/onBatchEnd must be a function, received string/);
      });

      it(`${name}: a saved model resumes training exactly (weights, optimizer, schedule, RNG)`, async () => {
        const opts = { optimizer: { type: 'adam', lr: 0.01 }, schedule: { type: 'exponential', gamma: 0.9 } };
        const a = make() as Made;
        await a.fit({ ...opts, epochs: 2 });
        const b = make() as Made;
        await b.fit({ ...opts, epochs: 1 });
        const file = tmp(`${name}.rnnkit`);
        await (b.m as { save(p: string): Promise<void> }).save(file);
        const loaded =
          name === 'languageModel'
            ? await LanguageModel.load(file)
            : name === 'seq2seq'
              ? await Seq2Seq.load(file)
              : await SequenceModel.load(file);
        expect(loaded.epoch).toBe(1);
        const c = make() as Made;
        const fitLoaded = (o: object) =>
          name === 'languageModel'
            ? (loaded as LanguageModel).fit(text, { batchSize: 4, seqLen: 8, ...o })
            : name === 'seq2seq'
              ? (loaded as Seq2Seq).fit(pairs.src, pairs.tgt, { batchSize: 4, ...o })
              : c.fit.call(null, o);
        if (name === 'classifier' || name === 'tagger') {
          const d = toy(24, 1);
          const target = name === 'classifier' ? d.ys : d.tags;
          await (loaded as SequenceModel).fit(d.xs, target as number[], { batchSize: 8, ...opts, epochs: 1 } as object);
        } else await fitLoaded({ ...opts, epochs: 1 });
        expect(loaded.stateDict()).toEqual(a.m.stateDict());
      });

      it(`${name}: abort before or during training; timeLimit ends the run`, async () => {
        const { m, fit } = make() as Made;
        const ac = new AbortController();
        ac.abort();
        const w = JSON.stringify(m.stateDict());
        await expect(fit({ signal: ac.signal })).rejects.toThrow(/aborted/);
        expect(JSON.stringify(m.stateDict())).toBe(w);
        const ac2 = new AbortController();
        let n = 0;
        await expect(
          fit({
            epochs: 5,
            signal: ac2.signal,
            onBatchEnd: () => {
              if (++n === 2) ac2.abort();
            },
          }),
        ).rejects.toThrow(/aborted/);
        expect(n).toBe(2);
        const h = await fit({ epochs: 50, timeLimit: 0 });
        expect(h.outOfTime).toBe(true);
        expect(h.epochs).toHaveLength(1);
      });
    }

    for (const [name, make] of Object.entries(models)) {
      it(`${name}: optimizer: 'sgd' is Keras' shorthand for { type: 'sgd' } (same run, bit for bit)`, async () => {
        const a = make() as Made,
          b = make() as Made;
        await a.fit({ epochs: 2, optimizer: 'sgd' });
        await b.fit({ epochs: 2, optimizer: { type: 'sgd' } });
        expect(Array.from(a.m.parameters()[0].data)).toEqual(Array.from(b.m.parameters()[0].data));
        await expect(a.fit({ epochs: 1, optimizer: 'sgdd' })).rejects.toThrow(/optimizer: type must be one of/);
      });
    }

    it('Seq2Seq gains evaluate (teacher-forced loss, perplexity, token accuracy) and validationSplit', async () => {
      const { m } = models.seq2seq();
      const ev = await m.evaluate(pairs.src, pairs.tgt);
      expect(ev.perplexity).toBeCloseTo(Math.exp(ev.loss), 10);
      expect(ev.accuracy).toBeGreaterThanOrEqual(0);
      const h = await m.fit(pairs.src, pairs.tgt, { epochs: 1, validationSplit: 0.25 });
      expect(h.epochs[0].valLoss).toBeGreaterThan(0);
      await expect(m.evaluate(['ab'], [])).rejects.toThrow(/targets must have one entry per source \(1\), received 0/);
    });
  });

  describe('the gradient pipeline', () => {
    const d = toy(16, 3);
    it("an update that overflows the float32 weights is undone in 'skip' mode and named in 'error' mode", async () => {
      // finite float32 gradients (~1e33) times a large learning rate overflow the weights
      const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 4, outputSize: 1, task: 'regression', seed: 1 });
      const huge = d.xs.map(() => [1e33]);
      const w = JSON.stringify(m.stateDict());
      const skipped: boolean[] = [];
      await m.fit(d.xs, huge, {
        batchSize: 8,
        optimizer: { type: 'sgd', lr: 1e6 },
        onNonFinite: 'skip',
        onBatchEnd: (b) => {
          skipped.push(b.skipped);
        },
      });
      expect(skipped).toEqual([true, true]);
      expect(JSON.stringify(m.stateDict())).toBe(w);
      await expect(m.fit(d.xs, huge, { batchSize: 8, optimizer: { type: 'sgd', lr: 1e6 } })).rejects.toThrow(
        /the update left non-finite weights/,
      );
    });

    it("online learning (learning: 'rtrl') honours onNonFinite: diverged activations skip the batch or name it", async (ctx) => {
      const probe = new SequenceTagger({ inputSize: 1, outputSize: 1, hiddenSize: 4 });
      if (probe.device.name !== 'cpu') return ctx.skip(); // online learning runs on the CPU device only
      const make = () =>
        new SequenceTagger({
          inputSize: 1,
          outputSize: 1,
          hiddenSize: 4,
          task: 'regression',
          cell: 'rnn',
          activation: 'relu',
          seed: 3,
        });
      const xs = Array.from({ length: 8 }, (_, i) => Array.from({ length: 6 }, (_, t) => [(i + t) * 1e3]));
      const ys = xs.map((s) => s.map((v) => [v[0] * 1e6]));
      const o = { epochs: 2, batchSize: 2, learning: 'rtrl' as const, optimizer: { type: 'sgd' as const, lr: 1e6 } };
      const m = make();
      const skipped: boolean[] = [];
      await m.fit(xs, ys, { ...o, onNonFinite: 'skip', onBatchEnd: (b) => void skipped.push(b.skipped) });
      expect(skipped.some((x) => x)).toBe(true);
      for (const p of m.parameters()) expect(Array.from(p.data).every(Number.isFinite)).toBe(true);
      await expect(make().fit(xs, ys, o)).rejects.toThrow(
        /^SequenceTagger\.fit: non-finite activations \(mseLoss: pred\[0\] must be a finite number.*\) at epoch 0, batch 1/,
      );
    });
  });

  describe('stateful truncated BPTT over one long stream', () => {
    it('two fit calls over the halves of a stream equal one fit over the whole, bit for bit; one callback per window', async () => {
      const r = new Rng(5);
      const stream = Array.from({ length: 24 }, () => [r.uniform(-1, 1)]);
      const tags = stream.map((s, t) => (t > 0 && stream[t - 1][0] > 0 ? 1 : 0));
      const make = () => new SequenceTagger({ inputSize: 1, hiddenSize: 4, outputSize: 2, dtype: 'float64', seed: 9 });
      const o = { tbptt: 4, stateful: true, shuffle: false, optimizer: { type: 'sgd' as const, lr: 0.1 } };
      const whole = make();
      const windows: number[] = [];
      await whole.fit([stream], [tags], {
        ...o,
        onBatchEnd: (b) => {
          windows.push(b.batch);
        },
      });
      expect(windows).toEqual([0, 1, 2, 3, 4, 5]);
      const halves = make();
      await halves.fit([stream.slice(0, 12)], [tags.slice(0, 12)], o);
      await halves.fit([stream.slice(12)], [tags.slice(12)], o);
      expect(halves.stateDict()).toEqual(whole.stateDict());
      // without the carried state the second half trains differently
      const reset = make();
      await reset.fit([stream.slice(0, 12)], [tags.slice(0, 12)], o);
      reset.resetStates();
      await reset.fit([stream.slice(12)], [tags.slice(12)], o);
      expect(reset.stateDict()).not.toEqual(whole.stateDict());
      await expect(whole.fit([stream], [tags], { stateful: true })).rejects.toThrow(/stateful training needs tbptt/);
      await expect(whole.fit([stream], [tags], { ...o, shuffle: true })).rejects.toThrow(/shuffle must be false/);
    });
  });

  describe('OnlineLearner uses the same update step', () => {
    it('gains schedules (one schedule epoch per update), saved and restored with the learner', async () => {
      const m = new SequenceTagger({ inputSize: 1, hiddenSize: 3, outputSize: 2, seed: 1 });
      if (m.device.name !== 'cpu') {
        // online learning runs on host memory: a device without the capability refuses it clearly
        expect(() => new OnlineLearner(m)).toThrow(
          /needs a device with the 'online' capability \(CPU\); the model's device 'opaque' has none/,
        );
        await expect(m.fit([[[1]]], [[1]], { learning: 'rtrl' })).rejects.toThrow(
          /needs a device with the 'online' capability/,
        );
        return;
      }
      const l = new OnlineLearner(m, {
        optimizer: { type: 'sgd', lr: 0.1 },
        schedule: { type: 'step', stepSize: 2, gamma: 0.5 },
        clipNorm: 1,
      });
      const lrs = [];
      for (let t = 0; t < 5; t++) {
        lrs.push(l.lr);
        l.step([t % 2], t % 2);
      }
      expect(lrs).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
      const file = tmp('learner.rnnkit');
      await l.save(file);
      const back = await OnlineLearner.load(file);
      expect(back.lr).toBe(l.lr);
      expect(back.updates).toBe(5);
      expect(back.step([1], 1)).toEqual(l.step([1], 1));
    });
  });
});

describe('learning-rate changes between fit calls', () => {
  it('a new optimizer learning rate applies on the next fit call', async () => {
    const m = new SequenceClassifier({ inputSize: 1, hiddenSize: 3, outputSize: 2 });
    const lrs: number[] = [];
    await m.fit([[[1]], [[2]]], [0, 1], { optimizer: { type: 'sgd', lr: 0.5 } });
    await m.fit([[[1]], [[2]]], [0, 1], {
      optimizer: { type: 'sgd', lr: 0.001 },
      onBatchEnd: (b) => {
        lrs.push(b.lr);
      },
    });
    expect(lrs).toEqual([0.001]);
  });
});

describe('truncated BPTT with sequence-level targets', () => {
  it('truncated BPTT keeps sequence-level vector targets whole', async () => {
    const m = new SequenceClassifier({ inputSize: 1, hiddenSize: 3, outputSize: 4, task: 'regression' });
    const h = await m.fit(
      [
        [[1], [2]],
        [[3], [4]],
      ],
      [
        [1, 2, 3, 4],
        [0, 1, 0, 1],
      ],
      { tbptt: 1, epochs: 2 },
    );
    expect(h.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
  });
});
