// Regression tests for defects found in review: beam search stopping, learning-rate changes
// between fit calls, TBPTT with sequence-level vector targets, online learning options, and
// use of language models / Seq2Seq during training.
import { describe, expect, it } from 'vitest';
import { LanguageModel, Rng, Seq2Seq, SequenceClassifier, SequenceTagger, Vocabulary } from '../lib';

describe('review fixes', () => {
  it('beam search does not return a hypothesis cut short while better finished ones exist', () => {
    const v = Vocabulary.characters('ab');
    const m = new Seq2Seq({ sourceVocabulary: v, hiddenSize: 3, embeddingDim: 2, dtype: 'float64' });
    // constant next-token distribution: p(a) = .5, p(eos) = .3, p(b) = .2 at every step
    const sd = m.stateDict();
    sd['head.weight'].fill(0);
    const bias = sd['head.bias'];
    bias.fill(-30);
    bias[v.eos] = Math.log(0.3);
    bias[v.id('a')] = Math.log(0.5);
    bias[v.id('b')] = Math.log(0.2);
    m.loadStateDict(sd);
    for (const width of [2, 5]) {
      const r = m.beamSearch('ab', { width, maxLength: 50, lengthPenalty: 0.6 });
      // every finished hypothesis a^k <eos> scores (k ln .5 + ln .3) / (k+1)^0.6; k = 0 is best
      expect(r.tokens).toEqual([]);
      expect(r.score).toBeCloseTo(Math.log(0.3), 6);
    }
  });

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

  it('online learning in fit honours class weights, l1, onNonFinite and refuses tbptt', async () => {
    const r = new Rng(5);
    const xs = Array.from({ length: 5 }, (_, i) =>
      Array.from({ length: 2 + i }, () => [r.uniform(-1, 1), r.uniform(-1, 1)]),
    );
    const tags = xs.map((s) => s.map((_, t) => t % 3));
    const make = () => new SequenceTagger({ inputSize: 2, hiddenSize: 3, outputSize: 3, dtype: 'float64', seed: 4 });
    const opts = {
      epochs: 1,
      batchSize: 5,
      shuffle: false,
      optimizer: { type: 'sgd' as const, lr: 0.5 },
      classWeights: [1, 3, 0.5],
      l1: 0.01,
    };
    const a = make(),
      b = make();
    const ha = await a.fit(xs, tags, { ...opts, learning: 'bptt' });
    const hb = await b.fit(xs, tags, { ...opts, learning: 'rtrl' });
    expect(hb.epochs[0].loss).toBeCloseTo(ha.epochs[0].loss, 12);
    const sa = a.stateDict(),
      sb = b.stateDict();
    for (const k of Object.keys(sa)) sa[k].forEach((v, i) => expect(sb[k][i]).toBeCloseTo(v, 10));
    const reg = new SequenceTagger({ inputSize: 2, hiddenSize: 3, outputSize: 1, task: 'regression' });
    const skipped: boolean[] = [];
    // finite float32 gradients (~1e33) times a large learning rate overflow the weights: skipped
    await reg.fit(
      xs,
      xs.map((s) => s.map(() => [1e33])),
      {
        learning: 'rtrl',
        optimizer: { type: 'sgd', lr: 1e6 },
        onNonFinite: 'skip',
        onBatchEnd: (i) => {
          skipped.push(i.skipped);
        },
      },
    );
    expect(skipped).toEqual([true]);
    await expect(
      reg.fit(
        xs,
        xs.map((s) => s.map(() => [1e308])),
      ),
    ).rejects.toThrow(/targets of sequence 0 must be finite in float32/);
    await expect(make().fit(xs, tags, { learning: 'rtrl', tbptt: 2 })).rejects.toThrow(
      /tbptt applies to learning 'bptt' only/,
    );
  });

  it('language models and Seq2Seq answer during a training step; LanguageModel.evaluate validates its input', async () => {
    const text = 'abcabcabc'.repeat(20);
    const lm = new LanguageModel({ vocabulary: Vocabulary.characters(text), hiddenSize: 8, embeddingDim: 4 });
    const training = lm.fit(text, { epochs: 3, batchSize: 4, seqLen: 5 });
    // fit has started its first step and awaits native work: generation uses its own buffers
    expect(typeof lm.generate('a', { maxTokens: 2 })).toBe('string');
    await training;
    expect(typeof lm.generate('a', { maxTokens: 3 })).toBe('string');
    await expect(lm.evaluate('a')).rejects.toThrow(/text must hold at least 2 tokens, received 1/);
    await expect(lm.evaluate(text, { seqLen: 0 })).rejects.toThrow(/seqLen must be an integer >= 1, received number 0/);

    const v = Vocabulary.characters('abc');
    const s2s = new Seq2Seq({ sourceVocabulary: v, hiddenSize: 8 });
    const t2 = s2s.fit(Array(64).fill('abc'), Array(64).fill('cba'), { epochs: 2, batchSize: 8 });
    expect(s2s.greedy(['ab'])).toHaveLength(1);
    await t2;
    expect(s2s.greedy(['ab'])).toHaveLength(1);
  });
});
