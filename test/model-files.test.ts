// Model files as a loader meets them: hand-edited metadata, missing or extra tensors, sizes a
// file cannot hold, and the equivalence of continuing a run in memory or from its saved copy.
import { describe, it, expect, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CheckpointError,
  LanguageModel,
  OnlineLearner,
  SequenceClassifier,
  SequenceModel,
  SequenceTagger,
  Vocabulary,
} from '../lib';
import { decodeCheckpoint, encodeCheckpoint } from '../lib/checkpoint';
import type { Checkpoint } from '../lib/checkpoint';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnnkit-model-files-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const X = Array.from({ length: 24 }, (_, i) =>
  Array.from({ length: 3 + (i % 3) }, (_, t) => [Math.sin(i + t), Math.cos(i * t)]),
);
const Y = X.map((_, i) => i % 2);

/** A trained classifier's file (optimizer and schedule state present). */
async function trainedFile(name: string): Promise<string> {
  const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 3, outputSize: 2, seed: 1 });
  await m.fit(X, Y, { epochs: 1, batchSize: 8, schedule: { type: 'step', stepSize: 1 } });
  const file = path.join(dir, `${name}.rnnkit`);
  await m.save(file);
  m.dispose();
  return file;
}

/** A copy of `file` with its decoded contents edited. */
function edited(file: string, name: string, edit: (cp: { meta: any; tensors: Checkpoint['tensors'] }) => void): string {
  const cp = decodeCheckpoint(fs.readFileSync(file)) as { meta: any; tensors: Checkpoint['tensors'] };
  edit(cp);
  const out = path.join(dir, `${name}.rnnkit`);
  fs.writeFileSync(out, encodeCheckpoint(cp));
  return out;
}

async function refused(load: (f: string) => Promise<unknown>, file: string, message: RegExp): Promise<void> {
  let err: unknown;
  try {
    await load(file);
  } catch (e) {
    err = e;
  }
  expect(err, `${file} loaded`).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toContain(`rnnkit model ${file}: `);
  expect((err as Error).message).toMatch(message);
}
const loadModel = (f: string) => SequenceModel.load(f);

describe('model file metadata', () => {
  it('refuses every hand-edited training field the issue lists, naming the field and the value', async () => {
    const file = await trainedFile('base');
    const cases: Array<[string, (cp: any) => void, RegExp]> = [
      ['epoch-neg', (cp) => (cp.meta.training.epoch = -1), /training\.epoch must be an integer >= 0, found -1/],
      ['epoch-frac', (cp) => (cp.meta.training.epoch = 1.5), /training\.epoch must be an integer >= 0, found 1\.5/],
      [
        'step-neg',
        (cp) => (cp.meta.training.optimizer.step = -1),
        /training\.optimizer\.step must be an integer >= 0, found -1/,
      ],
      ['step-frac', (cp) => (cp.meta.training.optimizer.step = 1.5), /training\.optimizer\.step .* found 1\.5/],
      [
        'step-zero',
        (cp) => (cp.meta.training.optimizer.step = 0),
        /training\.optimizer\.step is 0 \(no update done\) but optimizer state 0 is not the state an optimizer starts from/,
      ],
      [
        'lr-neg',
        (cp) => (cp.meta.training.optimizer.options = { lr: -0.1 }),
        /training\.optimizer\.options: optimizer: lr must be a finite number >= 0 and <= 1000000, received number -0\.1/,
      ],
      [
        'lr-text',
        (cp) => (cp.meta.training.optimizer.options = { lr: 'fast' }),
        /training\.optimizer\.options: optimizer: lr must be .* received string "fast"/,
      ],
      [
        'sched-lr-neg',
        (cp) => (cp.meta.training.schedule.state.lr = -1),
        /training\.schedule\.state\.lr must be a finite number >= 0 <= 1000000, found -1/,
      ],
      [
        'sched-lr-text',
        (cp) => (cp.meta.training.schedule.state.lr = '0.1'),
        /training\.schedule\.state\.lr must be a finite number.*found "0\.1"/,
      ],
      [
        'sched-null-state',
        (cp) => (cp.meta.training.schedule.state = null),
        /training\.schedule\.state must be an object with fields lr, best, bad, found null/,
      ],
      [
        'sched-bad-count',
        (cp) => (cp.meta.training.schedule.state.bad = 0.5),
        /training\.schedule\.state\.bad must be an integer >= 0, found 0\.5/,
      ],
      [
        'sched-options',
        (cp) => (cp.meta.training.schedule.options = { type: 'step', stepSize: 0 }),
        /training\.schedule\.options: schedule 'step': stepSize/,
      ],
      [
        'sched-only',
        (cp) => (cp.meta.training.optimizer = null),
        /training\.optimizer and training\.schedule must both be null or both be set/,
      ],
      ['early', (cp) => (cp.meta.training.early.wait = -2), /training\.early\.wait must be an integer >= 0, found -2/],
      ['early-extra', (cp) => (cp.meta.training.early.patience = 3), /training\.early has unexpected field 'patience'/],
      [
        'rng-zero',
        (cp) => (cp.meta.training.rng = [0, 0, 0, 0]),
        /training\.rng must be four unsigned 32-bit integers, not all zero/,
      ],
      ['rng-short', (cp) => (cp.meta.training.rng = [1, 2, 3]), /training\.rng must be four unsigned/],
      ['training-missing', (cp) => delete cp.meta.training, /meta is missing field 'training'/],
      ['training-extra', (cp) => (cp.meta.training.note = 'x'), /training has unexpected field 'note'/],
      [
        'opt-inf',
        (cp) => ((cp.tensors['optimizer/state1'].data as Float32Array)[2] = Infinity),
        /tensor 'optimizer\/state1' must be finite, found Infinity at element 2/,
      ],
      [
        'opt-short',
        (cp) => {
          const t = cp.tensors['optimizer/state0'];
          cp.tensors['optimizer/state0'] = { data: t.data.slice(1), shape: [t.shape[0] - 1] };
        },
        /tensor 'optimizer\/state0' must be float32 of shape \[\d+\], found float32 of shape \[\d+\]/,
      ],
      ['opt-missing', (cp) => delete cp.tensors['optimizer/state1'], /tensor 'optimizer\/state1' is missing/],
      [
        'opt-negative-second-moment',
        (cp) => ((cp.tensors['optimizer/state1'].data as Float32Array)[3] = -0.5),
        /optimizer state 1 \(adam's running squared gradients\) must be >= 0, found -0\.5 at element 3/,
      ],
      [
        'extra-tensor',
        (cp) => (cp.tensors['param/ghost'] = { data: new Float32Array(2), shape: [2] }),
        /unexpected tensor 'param\/ghost' \(not part of this model\)/,
      ],
      [
        'param-nan',
        (cp) => ((cp.tensors['param/head.bias'].data as Float32Array)[0] = NaN),
        /tensor 'param\/head\.bias' must be finite, found NaN/,
      ],
    ];
    for (const [name, edit, message] of cases)
      await refused(
        loadModel,
        edited(file, name, (cp) => void edit(cp)),
        message,
      );
    // The untouched file loads: the refusals above are the edits'.
    (await loadModel(file)).dispose();
  });

  it('refuses model options that the constructor refuses, that it would default, or that it resolves differently', async () => {
    const file = await trainedFile('options');
    await refused(
      loadModel,
      edited(file, 'opt-unknown', (cp) => (cp.meta.options.hiddenSise = 3)),
      /options: SequenceClassifier: unknown option 'hiddenSise'/,
    );
    await refused(
      loadModel,
      edited(file, 'opt-type', (cp) => (cp.meta.options.hiddenSize = '3')),
      /options: SequenceClassifier: hiddenSize must be an integer >= 1 and <= 2147483647, received string "3"/,
    );
    await refused(
      loadModel,
      edited(file, 'opt-missing', (cp) => delete cp.meta.options.dropout),
      /options\.dropout must be 0 \(as the model resolves its options\), found nothing \(missing\)/,
    );
    await refused(
      loadModel,
      edited(file, 'opt-device', (cp) => (cp.meta.options.device = 'gpu')),
      /options has unexpected field 'device'/,
    );
    await refused(
      loadModel,
      edited(file, 'opt-array', (cp) => (cp.meta.options = [1])),
      /options must be an object, found \[1\]/,
    );
    await refused(
      loadModel,
      edited(file, 'meta-version', (cp) => (cp.meta.version = 2)),
      /meta\.version must be 1, found 2/,
    );
  });

  it('refuses a small file declaring a huge model at once, naming the size and the bytes', async () => {
    const file = await trainedFile('huge');
    const big = edited(file, 'huge-h', (cp) => (cp.meta.options.hiddenSize = 100000));
    const t0 = Date.now();
    await refused(
      loadModel,
      big,
      /options \(.*hiddenSize 100000.*\) imply \d+ parameters \(\d+ bytes of float32\) but the file's parameter tensors hold \d+ bytes/,
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    const wide = edited(file, 'huge-l', (cp) => (cp.meta.options.numLayers = 64));
    await refused(loadModel, wide, /numLayers 64.* imply/);
  });

  it('language model: optimizer state one element short or missing, vocabulary and training fields checked', async () => {
    const text = 'the cat sat on the mat. '.repeat(8);
    const lm = new LanguageModel({ vocabulary: Vocabulary.characters(text), hiddenSize: 6, embeddingDim: 4 });
    await lm.fit(text, { epochs: 1, batchSize: 2, seqLen: 8 });
    const file = path.join(dir, 'lm.rnnkit');
    await lm.save(file);
    const load = (f: string) => LanguageModel.load(f);
    await refused(
      load,
      edited(file, 'lm-short', (cp) => {
        const t = cp.tensors['optimizer/state0'];
        cp.tensors['optimizer/state0'] = { data: t.data.slice(0, t.data.length - 1), shape: [t.shape[0] - 1] };
      }),
      /tensor 'optimizer\/state0' must be float32 of shape/,
    );
    await refused(
      load,
      edited(file, 'lm-missing', (cp) => delete cp.tensors['optimizer/state1']),
      /tensor 'optimizer\/state1' is missing/,
    );
    await refused(
      load,
      edited(file, 'lm-no-training', (cp) => delete cp.meta.training),
      /meta is missing field 'training'/,
    );
    await refused(
      load,
      edited(file, 'lm-vocab', (cp) => (cp.meta.vocabulary.extra = 1)),
      /vocabulary has unexpected field 'extra'/,
    );
    await refused(
      load,
      edited(file, 'lm-epoch', (cp) => (cp.meta.training.epoch = -3)),
      /training\.epoch must be an integer >= 0, found -3/,
    );
    const back = await load(file);
    expect(back.epoch).toBe(1);
    expect(back.nextTokenProbabilities('the')).toEqual(lm.nextTokenProbabilities('the'));
    back.dispose();
    lm.dispose();
  });

  it('online learner: batch -1, a NaN sensitivity and other learner fields are refused', async () => {
    const tagger = new SequenceTagger({ inputSize: 2, hiddenSize: 3, outputSize: 2, cell: 'gru' });
    const learner = new OnlineLearner(tagger, { updateEvery: 2 });
    for (let t = 0; t < 5; t++) learner.step([Math.sin(t), 1], t % 2);
    const file = path.join(dir, 'learner.rnnkit');
    await learner.save(file);
    const load = (f: string) => OnlineLearner.load(f);
    await refused(
      load,
      edited(file, 'l-batch', (cp) => (cp.meta.learner.B = -1)),
      /learner\.B must be 1 \(an online learner runs one stream\), found -1/,
    );
    await refused(
      load,
      edited(file, 'l-nan', (cp) => ((cp.tensors['learner/sens/0'].data as Float32Array)[3] = NaN)),
      /tensor 'learner\/sens\/0' must be finite, found NaN at element 3/,
    );
    await refused(
      load,
      edited(file, 'l-pending', (cp) => (cp.meta.learner.pending = 2)),
      /learner\.pending must be an integer below updateEvery \(2\), found 2/,
    );
    await refused(
      load,
      edited(file, 'l-steps', (cp) => (cp.meta.learner.steps = 1.5)),
      /learner\.steps must be an integer >= 0, found 1\.5/,
    );
    await refused(
      load,
      edited(file, 'l-config', (cp) => (cp.meta.learner.config.updateEvery = 0)),
      /learner\.config: OnlineLearner: updateEvery/,
    );
    await refused(
      load,
      edited(file, 'l-sched', (cp) => (cp.meta.learner.schedule.state = null)),
      /learner\.schedule\.state must be an object/,
    );
    await refused(loadModel, file, /this file holds an OnlineLearner .*OnlineLearner\.load/);
    const back = await load(file);
    expect(back.step([0.5, 1], 1)).toEqual(learner.step([0.5, 1], 1));
  });
});

describe('abort and resume', () => {
  /** Fits, aborts after `at` batches, saves; then continues the model in memory and its loaded copy alike. */
  async function continuedBothWays(
    make: () => SequenceModel,
    data: [number[][][], any[]],
    o: Record<string, unknown>,
    at: number,
  ) {
    const a = make();
    const ac = new AbortController();
    let n = 0;
    await expect(
      a.fit(data[0], data[1], { ...o, signal: ac.signal, onBatchEnd: () => void (++n === at && ac.abort()) }),
    ).rejects.toThrow(/aborted/);
    const file = path.join(dir, `abort-${at}.rnnkit`);
    await a.save(file);
    const b = await SequenceModel.load(file);
    expect(b.epoch).toBe(a.epoch);
    const ha = await a.fit(data[0], data[1], o);
    const hb = await b.fit(data[0], data[1], o);
    expect(hb.epochs.map((e) => e.loss)).toEqual(ha.epochs.map((e) => e.loss));
    const wa = a.stateDict(),
      wb = b.stateDict();
    for (const k of Object.keys(wa)) expect(Array.from(wb[k]), k).toEqual(Array.from(wa[k]));
    a.dispose();
    b.dispose();
  }

  it('continuing in memory and continuing from the saved copy give the same weights, bit for bit', async () => {
    await continuedBothWays(
      () => new SequenceClassifier({ inputSize: 2, hiddenSize: 4, outputSize: 2, numLayers: 2, dropout: 0.3, seed: 3 }),
      [X, Y],
      { epochs: 2, batchSize: 4, schedule: { type: 'reduceOnPlateau', patience: 0 }, earlyStopping: { patience: 2 } },
      5,
    );
  });

  it('stateful training: the carried states travel in the file', async () => {
    const xs = X.map((x) => x.slice(0, 3));
    await continuedBothWays(
      () => new SequenceTagger({ inputSize: 2, hiddenSize: 4, outputSize: 2, cell: 'lstm', numLayers: 2, seed: 3 }),
      [xs, xs.map((x) => x.map((s) => (s[0] > 0 ? 1 : 0)))],
      { epochs: 2, batchSize: 4, tbptt: 2, stateful: true, shuffle: false },
      7,
    );
  });
});

describe('the shared loader and models with loaders of their own', () => {
  it('SequenceModel.load names the loader of a LanguageModel, Seq2Seq or NARX file', async () => {
    const { LanguageModel, NARX, Seq2Seq, SequenceModel, Vocabulary } = await import('../lib');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnnkit-loaders-'));
    const v = Vocabulary.characters('abc');
    const models: Array<[string, { save(p: string): Promise<void> }]> = [
      ['LanguageModel', new LanguageModel({ vocabulary: v, hiddenSize: 4, embeddingDim: 2 })],
      ['Seq2Seq', new Seq2Seq({ sourceVocabulary: v, hiddenSize: 4, embeddingDim: 2 })],
      ['NARX', new NARX({ outputSize: 1 })],
    ];
    for (const [name, m] of models) {
      const f = path.join(dir, `${name}.rnnkit`);
      await m.save(f);
      expect(() => SequenceModel.loadSync(f)).toThrow(`this file holds a ${name} model: load it with ${name}.load`);
    }
  });
});
