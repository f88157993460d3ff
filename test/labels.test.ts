// String class labels (`classes` in the options, saved with the model), predictClasses, typed
// per-class load, and typed arrays per sequence and per step in the inputs.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeCheckpoint,
  GRU,
  Linear,
  encodeCheckpoint,
  LanguageModel,
  Model,
  Rng,
  SequenceClassifier,
  SequenceModel,
  SequenceTagger,
  TDNN,
  Vocabulary,
} from '../lib';

const tmp = (name: string) => join(mkdtempSync(join(tmpdir(), 'rnnkit-labels-')), name);

function toy(n: number, seed: number) {
  const r = new Rng(seed);
  const xs = Array.from({ length: n }, () =>
    Array.from({ length: 3 + r.int(3) }, () => [r.uniform(-1, 1), r.uniform(-1, 1)]),
  );
  return { xs, ys: xs.map((s) => (s[0][0] > 0 ? 1 : 0)), tags: xs.map((s) => s.map((v) => (v[1] > 0 ? 1 : 0))) };
}
const names = ['neg', 'pos'];
const opts = { inputSize: 2, hiddenSize: 4, outputSize: 2, seed: 3 };

describe('classes', () => {
  it('label strings train exactly like their class ids, and predictClasses returns labels', async () => {
    const { xs, ys } = toy(24, 1);
    const a = new SequenceClassifier({ ...opts, classes: names });
    const b = new SequenceClassifier(opts);
    const ha = await a.fit(
      xs,
      ys.map((y) => names[y]),
      { epochs: 2, batchSize: 8, validationData: { inputs: xs, targets: ys.map((y) => names[y]) } },
    );
    const hb = await b.fit(xs, ys, { epochs: 2, batchSize: 8, validationData: { inputs: xs, targets: ys } });
    expect(ha.epochs.map((e) => e.loss)).toEqual(hb.epochs.map((e) => e.loss));
    expect(ha.epochs.map((e) => e.valLoss)).toEqual(hb.epochs.map((e) => e.valLoss));
    const labels: string[] | number[] = a.predictClasses(xs);
    const ids = b.predictClasses(xs);
    expect(labels).toEqual((ids as number[]).map((k) => names[k]));
    const probs: number[][] = a.predict(xs);
    expect(ids).toEqual(probs.map((p) => (p[1] > p[0] ? 1 : 0)));
    expect(
      await a.evaluate(
        xs,
        ys.map((y) => names[y]),
      ),
    ).toEqual(await a.evaluate(xs, ys));
    expect(a.classes).toEqual(names);
    expect(b.classes).toBeNull();
  });

  it('taggers take label strings per step', async () => {
    const { xs, tags } = toy(12, 2);
    const t = new SequenceTagger({ ...opts, classes: ['off', 'on'] });
    await t.fit(
      xs,
      tags.map((s) => s.map((v) => (v ? 'on' : 'off'))),
      { epochs: 1 },
    );
    const out: string[][] | number[][] = t.predictClasses(xs);
    expect(out.map((s) => s.length)).toEqual(xs.map((s) => s.length));
    expect(new Set(out.flat())).toSatisfy((s: Set<string>) => [...s].every((v) => v === 'on' || v === 'off'));
    const probs: number[][][] = t.predict(xs);
    expect(probs[0]).toHaveLength(xs[0].length);
  });

  it('refuses bad classes and unknown labels with clear errors', async () => {
    expect(() => new SequenceClassifier({ ...opts, classes: ['a', 'a'] })).toThrow(/classes must be distinct; 'a'/);
    expect(() => new SequenceClassifier({ ...opts, classes: ['a', 'b', 'c'] })).toThrow(
      /classes has 3 labels but outputSize is 2/,
    );
    expect(() => new SequenceClassifier({ ...opts, classes: ['a', ''] })).toThrow(/classes\[1\] must be a non-empty/);
    expect(() => new SequenceClassifier({ ...opts, classes: 'ab' as never })).toThrow(/classes must be an array/);
    expect(() => new SequenceClassifier({ ...opts, task: 'regression', classes: names })).toThrow(
      /classes \(label names\) apply to task 'classification'/,
    );
    const { xs, ys, tags } = toy(6, 3);
    const m = new SequenceClassifier({ ...opts, classes: names });
    await expect(
      m.fit(
        xs,
        ys.map((y, i) => (i === 4 ? 'maybe' : names[y])),
      ),
    ).rejects.toThrow(/target of sequence 4 is "maybe", not one of the classes \(neg, pos\)/);
    const t = new SequenceTagger({ ...opts, classes: names });
    const bad = tags.map((s) => s.map((v) => names[v]));
    bad[2][1] = 'NEG';
    await expect(t.fit(xs, bad)).rejects.toThrow(/target of sequence 2 at step 1 is "NEG"/);
    await expect(
      new SequenceClassifier(opts).fit(
        xs,
        ys.map((y) => names[y]),
      ),
    ).rejects.toThrow(/targets are label strings but the model has no classes/);
    expect(() => new SequenceClassifier({ ...opts, task: 'regression' }).predictClasses(xs)).toThrow(
      /predictClasses: classes apply to task 'classification'/,
    );
  });

  it('are saved with the model, checked on load, and old files without classes still load', async () => {
    const { xs } = toy(4, 4);
    const m = new SequenceClassifier({ ...opts, classes: names });
    const path = tmp('c.rnnkit');
    await m.save(path);
    const back = await SequenceClassifier.load(path);
    expect(back.classes).toEqual(names);
    expect(back.predictClasses(xs)).toEqual(m.predictClasses(xs));
    const plain = new SequenceClassifier(opts);
    const p2 = tmp('p.rnnkit');
    plain.saveSync(p2);
    expect(SequenceClassifier.loadSync(p2).classes).toBeNull();
    // a file whose classes are altered is refused on load
    const cp = decodeCheckpoint(readFileSync(path));
    const tamper = (f: (o: Record<string, unknown>) => void) => {
      const meta = JSON.parse(JSON.stringify(cp.meta)) as { options: Record<string, unknown> };
      f(meta.options);
      const p = tmp('t.rnnkit');
      writeFileSync(p, encodeCheckpoint({ meta, tensors: cp.tensors }));
      return SequenceModel.load(p);
    };
    await expect(tamper((o) => (o.classes = ['x', 'x']))).rejects.toThrow(/classes must be distinct/);
    await expect(tamper((o) => (o.classes = ['x']))).rejects.toThrow(/classes has 1 labels but outputSize is 2/);
    await expect(tamper((o) => (o.classes = null))).rejects.toThrow(/classes/);
    await expect(tamper((o) => (o.classes = [1, 2]))).rejects.toThrow(/classes\[0\] must be a non-empty string/);
  });
});

describe('classes in TDNN and Model', () => {
  it('train on labels, predict labels and keep them through save and load', async () => {
    const { xs, ys } = toy(8, 7);
    const labels = ys.map((y) => names[y]);
    const tdnn = new TDNN({ inputSize: 2, layers: [{ units: 3, delays: [0, 1] }], outputSize: 2, classes: names });
    const custom = new Model({
      inputSize: 2,
      classes: names,
      layers: [
        ['rnn', new GRU({ hiddenSize: 3, returnSequences: false })],
        ['head', new Linear({ outFeatures: 2 })],
      ],
    });
    for (const m of [tdnn, custom]) {
      await m.fit(xs, labels, { epochs: 1, batchSize: 4 });
      const p = tmp('m.rnnkit');
      await m.save(p);
      const back = await SequenceModel.load(p);
      expect(back.classes).toEqual(names);
      expect(back.predictClasses(xs)).toEqual(m.predictClasses(xs));
      expect(new Set(back.predictClasses(xs) as string[])).toSatisfy((s: Set<unknown>) =>
        [...s].every((v) => names.includes(v as string)),
      );
    }
    expect(
      () =>
        new Model({
          inputSize: 2,
          classes: ['a', 'b', 'c'],
          layers: [
            ['rnn', new GRU({ hiddenSize: 3, returnSequences: false })],
            ['head', new Linear({ outFeatures: 2 })],
          ],
        }),
    ).toThrow(/Model: classes has 3 labels but outputSize is 2/);
    expect(
      () => new TDNN({ inputSize: 2, layers: [{ units: 3, delays: [0] }], outputSize: 2, classes: ['a', 'a'] }),
    ).toThrow(/TDNN: classes must be distinct/);
  });
});

describe('typed load', () => {
  it('each class loads its own files and refuses another type naming the loader', async () => {
    const c = tmp('c.rnnkit'),
      t = tmp('t.rnnkit'),
      l = tmp('l.rnnkit');
    await new SequenceClassifier(opts).save(c);
    await new SequenceTagger(opts).save(t);
    await new LanguageModel({ vocabulary: Vocabulary.characters('ab'), hiddenSize: 3 }).save(l);
    const clf: SequenceClassifier = await SequenceClassifier.load(c);
    expect(clf).toBeInstanceOf(SequenceClassifier);
    const tag: SequenceTagger = SequenceTagger.loadSync(t);
    expect(tag).toBeInstanceOf(SequenceTagger);
    await expect(SequenceClassifier.load(t)).rejects.toThrow(
      /not a SequenceClassifier file \(type "SequenceTagger"\): load it with SequenceModel\.load/,
    );
    await expect(SequenceTagger.load(l)).rejects.toThrow(
      /not a SequenceTagger file \(type "LanguageModel"\): load it with LanguageModel\.load/,
    );
    await expect(Model.load(c)).rejects.toThrow(/not a Model file/);
    expect(() => TDNN.loadSync(c)).toThrow(/not a TDNN file/);
  });
});

describe('typed predict', () => {
  it('a TDNN whose options name output: step predicts a row per step (typed so)', () => {
    const { xs } = toy(3, 6);
    const layers = [{ units: 3, delays: [0, 1] }];
    const step = new TDNN({ inputSize: 2, layers, outputSize: 2, output: 'step' });
    const perStep: number[][][] = step.predict(xs);
    expect(perStep.map((s) => s.length)).toEqual(xs.map((s) => s.length));
    const seq = new TDNN({ inputSize: 2, layers, outputSize: 2, output: 'sequence' });
    const perSeq: number[][] = seq.predict(xs);
    expect(perSeq).toHaveLength(3);
    const either: number[][] | number[][][] = new TDNN({ inputSize: 2, layers, outputSize: 2 }).predict(xs);
    expect(either).toHaveLength(3);
  });
});

describe('typed arrays in inputs', () => {
  it('Float32Array and Float64Array steps and sequences read as the same numbers', async () => {
    const { xs, ys } = toy(10, 5);
    const asF32Steps = xs.map((s) => s.map((v) => Float32Array.from(v)));
    const asF64Seqs = xs.map((s) => Float64Array.from(s.flat()));
    const m = new SequenceClassifier({ ...opts, dtype: 'float64' });
    const want = m.predict(xs.map((s) => s.map((v) => v.map((x) => Math.fround(x)))));
    expect(m.predict(asF32Steps)).toEqual(want);
    const exact = m.predict(xs);
    expect(m.predict(asF64Seqs)).toEqual(exact);
    const a = new SequenceClassifier(opts),
      b = new SequenceClassifier(opts);
    const ha = await a.fit(xs, ys, { epochs: 1, batchSize: 4 });
    const hb = await b.fit(asF64Seqs, ys, { epochs: 1, batchSize: 4 });
    expect(hb.epochs[0].loss).toBe(ha.epochs[0].loss);
  });

  it('Int32Array token-id sequences, and clear errors for bad typed input', () => {
    const t = new SequenceTagger({ vocabSize: 5, hiddenSize: 3, outputSize: 2 });
    expect(t.predict([Int32Array.of(1, 2, 3)])).toEqual(t.predict([[1, 2, 3]]));
    expect(() => t.predict([Int32Array.of(1, 9)])).toThrow(/sequence 0/);
    const m = new SequenceClassifier(opts);
    expect(() => m.predict([Float32Array.of(1, 2, 3)])).toThrow(
      /sequence 0 is a Float32Array of 3 numbers, not a whole number of steps of 2 features/,
    );
    expect(() => m.predict([[Float32Array.of(1, 2, 3)]])).toThrow(
      /step 0 of sequence 0 must have 2 features, received 3/,
    );
    expect(() => m.predict([Float64Array.of(1, NaN)])).toThrow(/sequence 0 at step 0 must be finite/);
    expect(() => m.predict([[Float64Array.of(1, 2)], [Float64Array.of(Infinity, 0)]])).toThrow(
      /sequence 1 at step 0 must be finite/,
    );
  });
});
