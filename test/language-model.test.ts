// Vocabularies and the language model: gradient check (tied weights), training, generation,
// streaming, save/load, bad input.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDevice, Embedding, LanguageModel, Linear, LSTM, Rng, runSync, Sequential, Vocabulary } from '../lib';
import { computeLoss } from '../lib/train/losses';
import { ctxOn, expectParamGrads, idsOn, forEachDevice } from './device-helpers';

forEachDevice(() => {
  describe('Vocabulary', () => {
    it('characters and words, specials at 0..3, most frequent first, round trip', () => {
      const v = Vocabulary.characters('abracadabra');
      expect(v.tokens.slice(0, 4)).toEqual(['<pad>', '<unk>', '<bos>', '<eos>']);
      expect(v.tokens.slice(4)).toEqual(['a', 'b', 'r', 'c', 'd']);
      expect(v.decode(v.encode('cab'))).toBe('cab');
      expect(v.encode('z')).toEqual([v.unk]);
      const w = Vocabulary.words('the cat the dog\nthe end', { maxSize: 6 });
      expect(w.tokens).toEqual(['<pad>', '<unk>', '<bos>', '<eos>', 'the', 'cat']);
      expect(w.decode(w.encode('the dog'))).toBe('the');
      expect(Vocabulary.fromJSON(JSON.parse(JSON.stringify(v))).tokens).toEqual(v.tokens);
      expect(() => v.decode([99])).toThrow(/ids\[0\] must be an integer in \[0, 8\], received 99/);
      expect(() => Vocabulary.fromJSON({ kind: 'chars', tokens: ['a'] })).toThrow(
        /first tokens must be <pad> <unk> <bos> <eos>/,
      );
    });
  });

  describe('LanguageModel', () => {
    it('gradient check of embedding → LSTM → tied output layer (float64)', () => {
      const net = new Sequential(
        [
          ['embedding', new Embedding({ numEmbeddings: 6, embeddingDim: 3 })],
          ['rnn', new LSTM({ hiddenSize: 3 })],
          ['head', new Linear({ outFeatures: 6, tiedTo: 'embedding.weight' })],
        ],
        'float64',
      );
      net.build({ kind: 'ids', F: 6 });
      net.initialize(new Rng(2));
      expect(net.parameters().map((p) => p.name)).not.toContain('head.weight');
      const dev = defaultDevice();
      const x = idsOn(dev, [1, 2, 3, 4, 5, 0, 2, 2], 4, 2);
      const y = { kind: 'classes' as const, data: dev.fromHost(Int32Array.from([2, 3, 4, 5, 0, 1, 3, 3])) };
      const loss = () => computeLoss(dev, 'classification', runSync(net.forward(x, ctxOn(dev))), y, null).loss;
      net.params.zeroGrad();
      const c = ctxOn(dev);
      const r = computeLoss(dev, 'classification', runSync(net.forward(x, c)), y, null);
      runSync(net.backward(r.grad, c));
      expectParamGrads(net.params, Float64Array.from(net.params.hostGrads()), loss);
    });

    const text = 'hello world. '.repeat(60);
    it('learns a repeated text; perplexity falls; generation is seeded; stream equals generate', async () => {
      const vocab = Vocabulary.characters(text);
      const lm = new LanguageModel({ vocabulary: vocab, embeddingDim: 16, hiddenSize: 32, seed: 1 });
      const before = await lm.evaluate(text);
      const { epochs: h } = await lm.fit(text, {
        epochs: 25,
        batchSize: 4,
        seqLen: 20,
        optimizer: { type: 'adam', lr: 0.02 },
        clipNorm: 5,
      });
      expect(h[h.length - 1].loss).toBeLessThan(h[0].loss / 3);
      const after = await lm.evaluate(text);
      expect(after.perplexity).toBeLessThan(before.perplexity / 3);
      expect(after.perplexity).toBeCloseTo(Math.exp(after.loss), 10);
      expect(lm.generate('hello', { maxTokens: 12, temperature: 0 })).toBe(' world. hell');
      const a = lm.generate('h', { maxTokens: 30, temperature: 0.8, topK: 5, seed: 3 });
      expect(lm.generate('h', { maxTokens: 30, temperature: 0.8, topK: 5, seed: 3 })).toBe(a);
      let streamed = '';
      for await (const piece of lm.stream('h', { maxTokens: 30, temperature: 0.8, topK: 5, seed: 3 }))
        streamed += piece;
      expect(streamed).toBe(a);
      const p = lm.nextTokenProbabilities('hello worl');
      expect(p[vocab.id('d')]).toBeGreaterThan(0.9);
      const file = join(mkdtempSync(join(tmpdir(), 'rnnkit-lm-')), 'lm.rnnkit');
      await lm.save(file);
      const back = await LanguageModel.load(file);
      expect(back.generate('hello', { maxTokens: 12, temperature: 0 })).toBe(' world. hell');
      expect(back.vocabulary.tokens).toEqual(vocab.tokens);
    });

    it('tied weights need equal sizes; bad input throws clear errors', async () => {
      const vocab = Vocabulary.characters('abc');
      expect(() => new LanguageModel({ vocabulary: vocab, embeddingDim: 8, hiddenSize: 16, tieWeights: true })).toThrow(
        /tieWeights needs embeddingDim == hiddenSize, received 8 and 16/,
      );
      expect(() => new LanguageModel({ hiddenSize: 4 } as never)).toThrow(/vocabulary must be a Vocabulary/);
      const lm = new LanguageModel({ vocabulary: vocab, embeddingDim: 8, hiddenSize: 8, tieWeights: true });
      await expect(lm.fit([1, 2, 99])).rejects.toThrow(/token ids\[2\] must be an integer in \[0, 6\], received 99/);
      await expect(lm.fit('ab', { batchSize: 4 })).rejects.toThrow(
        /text must have more than batchSize \(4\) tokens, received 2/,
      );
      expect(() => lm.generate('a', { temperature: -1 })).toThrow(/temperature must be a finite number >= 0/);
      lm.dispose();
      expect(() => lm.generate('a')).toThrow(/disposed/);
    });
  });
});

describe('stateful language-model training', () => {
  it('is accepted without tbptt (the windows are seqLen) and carries the state from one epoch into the next', async () => {
    const text = 'abcabcabc hello world abc '.repeat(8);
    const v = Vocabulary.characters(text);
    const run = async (stateful: boolean) => {
      const m = new LanguageModel({ vocabulary: v, hiddenSize: 8, embeddingDim: 4, seed: 1 });
      return (await m.fit(text, { epochs: 2, stateful, seqLen: 8, batchSize: 2 })).epochs.map((e) => e.loss);
    };
    const [s, p] = [await run(true), await run(false)];
    expect(s[0]).toBe(p[0]); // the first epoch starts from zeros either way
    expect(s[1]).not.toBe(p[1]); // the second starts from the state the first left
  });
});
