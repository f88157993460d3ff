// One model, many calls at once: every call records on its own tape and works in its own scratch
// buffers, so concurrent predictions and evaluations equal the sequential ones bit for bit; a
// prediction during fit sees the weights of one step, never half an update; two fits on one
// model are refused. Also a layer applied twice in one graph (decoders, closed loops).
import { describe, expect, it } from 'vitest';
import {
  cpuDevice,
  LanguageModel,
  Linear,
  Rng,
  runSync,
  Seq2Seq,
  SequenceClassifier,
  SequenceTagger,
  Vocabulary,
} from '../lib';
import type { Ctx, VecAct } from '../lib';
import { FlatParameters } from '../lib/params';
import { ctxOn, expectParamGrads, host, forEachDevice } from './device-helpers';
import { rng } from './helpers';

function seqs(n: number, seed: number, F = 3) {
  const r = new Rng(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: 2 + r.int(9) }, () => Array.from({ length: F }, () => r.uniform(-1, 1))),
  );
}

forEachDevice(() => {
  describe('concurrent calls on one model', () => {
    const opts = { inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, dtype: 'float64' as const, seed: 3 };

    it('8 concurrent predictAsync calls equal the sequential answers, bit for bit (classifier and tagger)', async () => {
      for (const m of [
        new SequenceClassifier({ ...opts, outputSize: 4 }),
        new SequenceTagger({ ...opts, outputSize: 5 }),
      ]) {
        const inputs = Array.from({ length: 8 }, (_, i) => seqs(3 + i, 100 + i));
        const sequential = [];
        for (const x of inputs) sequential.push(m.predict(x, { batchSize: 2 }));
        const concurrent = await Promise.all(inputs.map((x) => m.predictAsync(x, { batchSize: 2 })));
        expect(concurrent).toEqual(sequential);
        // interleaved with synchronous calls too
        const mixed = await Promise.all(
          inputs.map((x, i) =>
            i % 2 ? Promise.resolve(m.predict(x, { batchSize: 2 })) : m.predictAsync(x, { batchSize: 2 }),
          ),
        );
        expect(mixed).toEqual(sequential);
      }
    });

    it('concurrent evaluate calls give the sequential losses exactly', async () => {
      const m = new SequenceClassifier({ ...opts, outputSize: 3 });
      const sets = [0, 1, 2, 3].map((i) => ({
        x: seqs(20 + 7 * i, 10 + i),
        y: Array.from({ length: 20 + 7 * i }, (_, k) => (k * (i + 1)) % 3),
      }));
      const seq = [];
      for (const s of sets) seq.push(await m.evaluate(s.x, s.y, { batchSize: 8 }));
      const conc = await Promise.all(sets.map((s) => m.evaluate(s.x, s.y, { batchSize: 8 })));
      expect(conc).toEqual(seq);
    });

    it('a prediction during fit sees the weights of one step, never a mix', async () => {
      const m = new SequenceClassifier({ inputSize: 3, hiddenSize: 5, outputSize: 2, dtype: 'float64', seed: 4 });
      const x = seqs(64, 7),
        y = x.map((s) => (s[0][0] > 0 ? 1 : 0));
      const probe = seqs(4, 8);
      const snapshots = [m.stateDict()];
      const during: Array<Promise<number[][] | number[][][]>> = [];
      let stop = false;
      const poll = () => {
        if (stop) return;
        during.push(m.predictAsync(probe));
        setImmediate(poll);
      };
      setImmediate(poll);
      await m.fit(x, y, {
        epochs: 3,
        batchSize: 8,
        onBatchEnd: () => {
          snapshots.push(m.stateDict());
        },
      });
      stop = true;
      const seen = await Promise.all(during);
      expect(seen.length).toBeGreaterThan(5);
      const clone = new SequenceClassifier({ inputSize: 3, hiddenSize: 5, outputSize: 2, dtype: 'float64', seed: 4 });
      const candidates = snapshots.map((sd) => {
        clone.loadStateDict(sd);
        return JSON.stringify(clone.predict(probe));
      });
      for (const p of seen) expect(candidates).toContain(JSON.stringify(p));
      // some predictions ran while fit was between updates of different steps
      expect(new Set(seen.map((p) => JSON.stringify(p))).size).toBeGreaterThan(1);
    });

    it('a synchronous prediction in the middle of a step works; after fit it equals a fresh prediction', async () => {
      const m = new SequenceClassifier({ inputSize: 3, hiddenSize: 5, outputSize: 2, seed: 5 });
      const x = seqs(32, 9),
        y = x.map((s) => (s[0][0] > 0 ? 1 : 0));
      const training = m.fit(x, y, { epochs: 1, batchSize: 16 });
      await Promise.resolve();
      expect(m.predict(x.slice(0, 2))).toHaveLength(2);
      await training;
      expect(m.predict(x.slice(0, 2))).toEqual(await m.predictAsync(x.slice(0, 2)));
    });

    it('refuses a second fit on the same model while one runs, for every model', async () => {
      const m = new SequenceClassifier({ inputSize: 3, hiddenSize: 4, outputSize: 2 });
      const x = seqs(16, 1),
        y = x.map(() => 0);
      const first = m.fit(x, y, { epochs: 2, batchSize: 8 });
      await expect(m.fit(x, y)).rejects.toThrow(/already training \(another fit is running\)/);
      await first;
      const text = 'abcabcabc'.repeat(10);
      const lm = new LanguageModel({ vocabulary: Vocabulary.characters(text), hiddenSize: 8, embeddingDim: 4 });
      const t1 = lm.fit(text, { epochs: 1, batchSize: 4, seqLen: 5 });
      await expect(lm.fit(text)).rejects.toThrow(/already training/);
      expect(typeof lm.generate('a', { maxTokens: 3 })).toBe('string'); // generation during fit is fine
      await t1;
      const v = Vocabulary.characters('abc');
      const s2s = new Seq2Seq({ sourceVocabulary: v, hiddenSize: 8 });
      const t2 = s2s.fit(Array(16).fill('abc'), Array(16).fill('cba'), { epochs: 1, batchSize: 8 });
      await expect(s2s.fit(['a'], ['b'])).rejects.toThrow(/already training/);
      expect(s2s.greedy(['ab'])).toHaveLength(1);
      await t2;
    });

    it('concurrent language-model evaluations and Seq2Seq decodes equal the sequential ones', async () => {
      const text = 'the cat sat on the mat. '.repeat(8);
      const lm = new LanguageModel({
        vocabulary: Vocabulary.characters(text),
        hiddenSize: 8,
        embeddingDim: 4,
        dtype: 'float64',
        seed: 2,
      });
      const parts = [text.slice(0, 60), text.slice(30, 120), text.slice(50, 190)];
      const seq = [];
      for (const p of parts) seq.push(await lm.evaluate(p, { seqLen: 7 }));
      expect(await Promise.all(parts.map((p) => lm.evaluate(p, { seqLen: 7 })))).toEqual(seq);
      const v = Vocabulary.characters('abcd');
      const s2s = new Seq2Seq({
        sourceVocabulary: v,
        hiddenSize: 6,
        attention: 'general',
        bidirectional: true,
        dtype: 'float64',
      });
      const a = s2s.greedy(['abc', 'dd']),
        b = s2s.beamSearch('abcd', { width: 3 });
      expect(s2s.greedy(['abc', 'dd'])).toEqual(a);
      expect(s2s.beamSearch('abcd', { width: 3 })).toEqual(b);
    });
  });

  describe('one layer applied several times in one graph', () => {
    it('y = L(L(x)): the tape returns each application its own record; gradients match finite differences', () => {
      const dev = cpuDevice();
      const params = new FlatParameters('float64', dev);
      const lin = new Linear({ outFeatures: 4 });
      lin.name = 'shared';
      lin.build({ kind: 'vec', F: 4 }, params);
      lin.initialize(params, new Rng(1));
      const r = rng(3);
      const p0 = Float64Array.from(params.hostParams());
      for (let i = 0; i < p0.length; i++) p0[i] += (r() - 0.5) * 0.3;
      params.setHostParams(p0);
      const x: VecAct = {
        kind: 'vec',
        data: dev.fromHost(
          Float64Array.from({ length: 12 }, () => r() - 0.5),
          [3, 4],
        ),
        B: 3,
        F: 4,
      };
      const R = Float64Array.from({ length: 12 }, () => r() - 0.5);
      const twice = (ctx: Ctx) => {
        const h = runSync(lin.forward(x, ctx, params));
        return runSync(lin.forward(h, ctx, params)) as VecAct;
      };
      const loss = () => {
        const y = host(dev, twice(ctxOn(dev)).data);
        let s = 0;
        for (let i = 0; i < R.length; i++) s += y[i] * R[i];
        return s;
      };
      params.zeroGrad();
      const ctx = ctxOn(dev);
      twice(ctx);
      const dh = runSync(
        lin.backward({ kind: 'vec', data: dev.fromHost(R.slice(), [3, 4]), B: 3, F: 4 }, ctx, params),
      )!;
      runSync(lin.backward(dh, ctx, params));
      expectParamGrads(params, Float64Array.from(params.hostGrads()), loss, 1e-7);
      expect(() => runSync(lin.backward(dh, ctx, params))).toThrow(/no forward pass of this call recorded one/);
    });
  });
});

describe('language models and Seq2Seq during training', () => {
  it('language models and Seq2Seq answer during a training step; LanguageModel.evaluate validates its input', async () => {
    const text = 'abcabcabc'.repeat(20);
    const lm = new LanguageModel({ vocabulary: Vocabulary.characters(text), hiddenSize: 8, embeddingDim: 4 });
    const training = lm.fit(text, { epochs: 3, batchSize: 4, seqLen: 5 });
    // fit has started its first step and awaits native work: generation uses its own buffers
    expect(typeof lm.generate('a', { maxTokens: 2 })).toBe('string');
    await training;
    expect(typeof lm.generate('a', { maxTokens: 3 })).toBe('string');
    await expect(lm.evaluate('a')).rejects.toThrow(/text must hold at least 2 tokens, received 1/);
    await expect(lm.evaluate(text, { seqLen: 0 })).rejects.toThrow(
      /seqLen must be an integer >= 1 and <= 2147483647, received number 0/,
    );

    const v = Vocabulary.characters('abc');
    const s2s = new Seq2Seq({ sourceVocabulary: v, hiddenSize: 8 });
    const t2 = s2s.fit(Array(64).fill('abc'), Array(64).fill('cba'), { epochs: 2, batchSize: 8 });
    expect(s2s.greedy(['ab'])).toHaveLength(1);
    await t2;
    expect(s2s.greedy(['ab'])).toHaveLength(1);
  });
});
