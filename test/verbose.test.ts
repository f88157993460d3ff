// fit's verbose output (lines per epoch, a progress bar on a terminal) to the `log` stream, and
// the JSON-lines metrics log, for every model through the one trainer.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GRU,
  LanguageModel,
  Linear,
  MetricsLog,
  Model,
  NARX,
  Rng,
  Seq2Seq,
  SequenceClassifier,
  SequenceTagger,
  TDNN,
  Vocabulary,
} from '../lib';

const tmp = (name: string) => join(mkdtempSync(join(tmpdir(), 'rnnkit-verbose-')), name);

function toy(n: number, seed: number) {
  const r = new Rng(seed);
  const xs = Array.from({ length: n }, () =>
    Array.from({ length: 3 + r.int(3) }, () => [r.uniform(-1, 1), r.uniform(-1, 1)]),
  );
  return { xs, ys: xs.map((s) => (s[0][0] > 0 ? 1 : 0)) };
}

/** A stream that keeps what is written. */
function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, isTTY, write: (t: string) => chunks.push(t), text: () => chunks.join('') };
}

const clf = () => new SequenceClassifier({ inputSize: 2, hiddenSize: 4, outputSize: 2, seed: 1 });

describe('verbose', () => {
  it('is silent by default and with verbose 0', async () => {
    const { xs, ys } = toy(16, 1);
    const log = sink();
    await clf().fit(xs, ys, { epochs: 2, batchSize: 8, log });
    await clf().fit(xs, ys, { epochs: 2, batchSize: 8, log, verbose: 0 });
    expect(log.chunks).toEqual([]);
  });

  it('verbose 1 writes one line per epoch with loss, val metrics, gradient norm, lr and time', async () => {
    const { xs, ys } = toy(20, 2);
    const log = sink();
    await clf().fit(xs, ys, { epochs: 3, batchSize: 8, validationSplit: 0.2, log, verbose: 1 });
    const lines = log.text().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const num = '[\\d.e+-]+';
    const want = `^epoch 1/3 - loss ${num} - accuracy ${num} - perplexity ${num} - valLoss ${num} - valAccuracy ${num}`;
    expect(lines[0]).toMatch(
      new RegExp(`${want} - valPerplexity ${num} - gradNorm ${num} - lr 0\\.001 - \\d+\\.\\d\\ds$`),
    );
    expect(lines[2]).toMatch(/^epoch 3\/3 /);
  });

  it('verbose 2 draws a progress bar on a terminal and plain lines elsewhere', async () => {
    const { xs, ys } = toy(32, 3);
    const tty = sink(true);
    await clf().fit(xs, ys, { epochs: 2, batchSize: 8, log: tty, verbose: 2 });
    const t = tty.text();
    expect(t).toContain('\r');
    expect(t).toMatch(/\[=+>? *\] \d\/4/); // the second epoch knows its batch count
    expect(t.split('\n').filter((l) => l.includes('epoch 2/2 - loss'))).toHaveLength(1);
    const plain = sink(false);
    await clf().fit(xs, ys, { epochs: 2, batchSize: 8, log: plain, verbose: 2 });
    expect(plain.text()).not.toContain('\r');
    expect(plain.text().trimEnd().split('\n')).toHaveLength(2);
  });

  it('reports an early stop', async () => {
    const { xs, ys } = toy(16, 4);
    const log = sink();
    await clf().fit(xs, ys, {
      epochs: 50,
      batchSize: 16,
      optimizer: { type: 'sgd', lr: 0 },
      earlyStopping: { monitor: 'loss', patience: 1 },
      log,
      verbose: 1,
    });
    expect(log.text()).toMatch(/stopped early after epoch 2\n$/);
  });

  it('works for the other models through the one trainer', async () => {
    const log = sink();
    const tagger = new SequenceTagger({ inputSize: 2, hiddenSize: 3, outputSize: 2 });
    const { xs } = toy(8, 5);
    await tagger.fit(
      xs,
      xs.map((s) => s.map((v) => (v[1] > 0 ? 1 : 0))),
      { epochs: 1, log, verbose: 1 },
    );
    const tdnn = new TDNN({ inputSize: 2, layers: [{ units: 3, delays: [0, 1] }], outputSize: 2 });
    await tdnn.fit(xs, toy(8, 5).ys, { epochs: 1, log, verbose: 1 });
    const lm = new LanguageModel({ vocabulary: Vocabulary.characters('abc'), hiddenSize: 4 });
    await lm.fit('abcabcabcabcabc', { epochs: 1, seqLen: 4, batchSize: 2, log, verbose: 1 });
    const narx = new NARX({ inputSize: 1, outputSize: 1, hiddenSizes: [3] });
    const u = Array.from({ length: 30 }, (_, t) => [Math.sin(t / 3)]);
    await narx.fit({ inputs: u, targets: u.map((v) => [v[0] * 0.5]) }, { epochs: 1, log, verbose: 1 });
    const s2s = new Seq2Seq({ sourceVocabulary: Vocabulary.characters('ab'), hiddenSize: 3 });
    await s2s.fit(['ab', 'ba'], ['ba', 'ab'], { epochs: 1, log, verbose: 1 });
    const custom = new Model({
      inputSize: 2,
      layers: [
        ['rnn', new GRU({ hiddenSize: 3, returnSequences: false })],
        ['head', new Linear({ outFeatures: 2 })],
      ],
    });
    await custom.fit(xs, toy(8, 5).ys, { epochs: 1, log, verbose: 1 });
    const lines = log.text().trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    for (const l of lines) expect(l).toMatch(/^epoch 1\/1 - loss .* - gradNorm .* - lr .* - \d+\.\d\ds$/);
    expect(lines[2]).toMatch(/perplexity/);
    expect(lines[4]).toMatch(/teacherForcing/);
  });

  it('refuses bad verbose, log and metricsLog options', async () => {
    const { xs, ys } = toy(4, 6);
    const m = clf();
    await expect(m.fit(xs, ys, { verbose: 3 as 1 })).rejects.toThrow(/verbose/);
    await expect(m.fit(xs, ys, { log: {} as never })).rejects.toThrow(/log must be a writable stream/);
    await expect(m.fit(xs, ys, { metricsLog: 5 as never })).rejects.toThrow(/metricsLog must be a file path/);
    expect(() => new MetricsLog('')).toThrow(/non-empty string/);
    expect(() => new MetricsLog('x', { batch: true } as never)).toThrow(/unknown option 'batch'/);
  });
});

describe('metricsLog', () => {
  it('appends a fit record, one record per epoch and an end record; MetricsLog.read reads them', async () => {
    const { xs, ys } = toy(16, 7);
    const path = tmp('run.jsonl');
    const m = clf();
    const h = await m.fit(xs, ys, { epochs: 2, batchSize: 8, validationSplit: 0.25, metricsLog: path });
    await m.fit(xs, ys, { epochs: 1, batchSize: 8, metricsLog: path });
    const recs = MetricsLog.read(path);
    expect(recs.map((r) => r.type)).toEqual(['fit', 'epoch', 'epoch', 'end', 'fit', 'epoch', 'end']);
    expect(recs[0]).toMatchObject({ model: 'SequenceClassifier', epochs: 2, start: 0 });
    expect(recs[1]).toMatchObject({ epoch: 0, loss: h.epochs[0].loss, valLoss: h.epochs[0].valLoss });
    expect(typeof recs[1].seconds).toBe('number');
    expect(recs[5]).toMatchObject({ epoch: 2 });
    expect(recs[3]).toMatchObject({ epochs: 2, stoppedEarly: false, outOfTime: false });
    // every line is one JSON object
    for (const line of readFileSync(path, 'utf8').trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('a MetricsLog with batches: true also writes one record per batch', async () => {
    const { xs, ys } = toy(16, 8);
    const log = new MetricsLog(tmp('b.jsonl'), { batches: true });
    await clf().fit(xs, ys, { epochs: 2, batchSize: 8, metricsLog: log });
    const recs = MetricsLog.read(log.path);
    expect(recs.filter((r) => r.type === 'batch')).toHaveLength(4);
    expect(recs.find((r) => r.type === 'batch')).toMatchObject({ epoch: 0, batch: 0, step: 1 });
  });

  it('records a failed run and skips a torn last line', async () => {
    const { xs, ys } = toy(8, 9);
    const path = tmp('f.jsonl');
    const ac = new AbortController();
    await expect(
      clf().fit(xs, ys, {
        epochs: 3,
        batchSize: 4,
        metricsLog: path,
        signal: ac.signal,
        onEpochEnd: () => ac.abort(),
      }),
    ).rejects.toThrow();
    const recs = MetricsLog.read(path);
    expect(recs.at(-1)).toMatchObject({ type: 'end', epochs: 1 });
    expect(typeof recs.at(-1)!.error).toBe('string');
    writeFileSync(path, readFileSync(path, 'utf8') + '{"type":"epo');
    expect(MetricsLog.read(path)).toHaveLength(recs.length);
    writeFileSync(path, 'nope\n{"type":"end"}\n');
    expect(() => MetricsLog.read(path)).toThrow(/line 1 is not JSON/);
  });
});
