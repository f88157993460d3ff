// Encoder–decoder: float64 gradient checks (with and without attention, bidirectional bridge),
// beam search against greedy and against exhaustive enumeration, learning, bad input.
import { describe, expect, it } from 'vitest';
import { Seq2Seq, Vocabulary } from '../lib';
import { expectParamGrads, forEachDevice } from './device-helpers';

const vocab = Vocabulary.characters('abcde');

function gradCheck(opts: Partial<ConstructorParameters<typeof Seq2Seq>[0]>, eps = 1e-6) {
  const m = new Seq2Seq({
    sourceVocabulary: vocab,
    hiddenSize: 3,
    embeddingDim: 3,
    dtype: 'float64',
    seed: 2,
    ...opts,
  });
  const p = Float64Array.from(m.params.hostParams());
  for (let i = 0; i < p.length; i++) p[i] += Math.sin(i) * 0.1; // away from zero biases
  m.params.setHostParams(p);
  const src = ['abc', 'de', 'a'],
    tgt = ['cb', 'edd', 'a'];
  m.params.zeroGrad();
  m.lossAndGradient(src, tgt);
  const analytic = Float64Array.from(m.params.hostGrads());
  expectParamGrads(
    m.params,
    analytic,
    () => {
      const l = m.lossAndGradient(src, tgt);
      m.params.zeroGrad();
      return l;
    },
    1e-6,
    eps,
  );
}

forEachDevice(() => {
  describe('Seq2Seq', () => {
    it('gradient check: LSTM encoder–decoder, teacher forcing, padded batch', () => {
      gradCheck({ cell: 'lstm' });
    });
    it('gradient check: bidirectional 2-layer LSTM encoder (bridged h and c), general attention', () => {
      // attention.weight_a's gradient is ~6e-6 here: a larger step keeps round-off below the tolerance
      gradCheck({ cell: 'lstm', bidirectional: true, numLayers: 2, attention: 'general' }, 1e-4);
    });
    it('gradient check: GRU with dot attention', () => {
      gradCheck({ cell: 'gru', attention: 'dot' });
    });

    it('beam search of width 1 equals greedy; attention weights are distributions over the source', () => {
      const m = new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 8, embeddingDim: 4, attention: 'general', seed: 5 });
      for (const s of ['abc', 'eeda', 'b']) {
        const g = m.greedy([s], { maxLength: 6 })[0];
        const b = m.beamSearch(s, { width: 1, maxLength: 6, lengthPenalty: 0 });
        expect(b.tokens).toEqual(g.tokens);
        expect(b.logProb).toBeCloseTo(g.logProb, 10);
        for (const row of g.attention) {
          expect(row).toHaveLength(s.length);
          expect(row.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6); // float32 model
        }
      }
    });

    it('batched beam search gives each source what beamSearch gives it alone (sources of different lengths)', () => {
      for (const attention of ['general', 'dot', 'none'] as const) {
        const m = new Seq2Seq({
          sourceVocabulary: vocab,
          hiddenSize: 8,
          embeddingDim: 4,
          attention,
          bidirectional: attention === 'general',
          dtype: 'float64',
          seed: 9,
        });
        const p = Float64Array.from(m.params.hostParams());
        for (let i = 0; i < p.length; i++) p[i] *= 3; // peaky: distinct hypotheses
        m.params.setHostParams(p);
        const sources = ['abc', 'e', 'deadbe', 'ba', 'cc'];
        const many = m.beamSearchBatch(sources, { width: 4, maxLength: 7 });
        sources.forEach((s, i) => {
          const one = m.beamSearch(s, { width: 4, maxLength: 7 });
          expect(many[i].tokens, `${attention} ${s}`).toEqual(one.tokens);
          expect(many[i].score).toBeCloseTo(one.score, 10);
          expect(many[i].logProb).toBeCloseTo(one.logProb, 10);
          expect(many[i].attention.length).toBe(one.attention.length);
        });
        const greedyAll = m.greedy(sources, { maxLength: 7 });
        sources.forEach((s, i) => expect(greedyAll[i].tokens).toEqual(m.greedy([s], { maxLength: 7 })[0].tokens));
      }
      const m = new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 4, embeddingDim: 3, seed: 1 });
      expect(() => m.beamSearchBatch([])).toThrow(/sources must be a non-empty array/);
    });

    it('beam search finds the highest-scoring sequence (exhaustive enumeration knows the answer)', () => {
      const v = Vocabulary.characters('ab');
      const maxLength = 3;
      const tokens = [...Array(v.size).keys()].filter((t) => t !== v.eos);
      let beatsGreedy = 0;
      for (let seed = 0; seed < 6; seed++) {
        const m = new Seq2Seq({ sourceVocabulary: v, hiddenSize: 4, embeddingDim: 3, seed, dtype: 'float64' });
        const p = Float64Array.from(m.params.hostParams());
        for (let i = 0; i < p.length; i++) p[i] *= 4; // peaky, so greedy and the optimum can differ
        m.params.setHostParams(p);
        // every hypothesis beam search can return: finished within maxLength steps (end symbol
        // scored) or maxLength tokens without an end symbol
        let best = { tokens: [] as number[], logProb: -Infinity };
        const consider = (t: number[], end: boolean) => {
          const lp = m.scoreTarget('ab', t, { end });
          if (lp > best.logProb) best = { tokens: t, logProb: lp };
        };
        const walk = (prefix: number[]) => {
          if (prefix.length === maxLength) {
            consider(prefix, false);
            return;
          }
          consider(prefix, true);
          for (const t of tokens) walk([...prefix, t]);
        };
        walk([]);
        const beam = m.beamSearch('ab', { width: 200, maxLength, lengthPenalty: 0 });
        expect(beam.logProb).toBeCloseTo(best.logProb, 9);
        expect(beam.tokens).toEqual(best.tokens);
        const g = m.greedy(['ab'], { maxLength })[0];
        if (g.logProb < best.logProb - 1e-9) beatsGreedy++;
        const narrow = m.beamSearch('ab', { width: 3, maxLength, lengthPenalty: 0 });
        expect(narrow.logProb).toBeGreaterThanOrEqual(g.logProb - 1e-9);
      }
      expect(beatsGreedy).toBeGreaterThan(0); // the search is not trivially greedy on these models
    });

    it('learns to reverse short strings; scheduled sampling runs', async () => {
      const r = (n: number) => {
        let s = 7 * n + 3;
        return () => (s = (s * 16807) % 2147483647) / 2147483647;
      };
      const rand = r(1);
      const src: string[] = [],
        tgt: string[] = [];
      for (let i = 0; i < 600; i++) {
        const len = 2 + Math.floor(rand() * 3);
        const s = Array.from({ length: len }, () => 'abcde'[Math.floor(rand() * 5)]).join('');
        src.push(s);
        tgt.push([...s].reverse().join(''));
      }
      const m = new Seq2Seq({
        sourceVocabulary: vocab,
        hiddenSize: 48,
        embeddingDim: 16,
        attention: 'general',
        seed: 3,
      });
      const { epochs: h } = await m.fit(src, tgt, {
        epochs: 25,
        batchSize: 32,
        optimizer: { type: 'adam', lr: 0.01 },
        clipNorm: 5,
        teacherForcing: 1,
        teacherForcingDecay: 0.97,
      });
      expect(h[h.length - 1].teacherForcing).toBeLessThan(1);
      const test = ['abc', 'edda', 'cab', 'beed'];
      const out = m.greedy(test, { maxLength: 8 });
      const right = out.filter((o, i) => o.text === [...test[i]].reverse().join('')).length;
      expect(right).toBeGreaterThanOrEqual(3);
      expect(m.beamSearch('abc', { width: 3 }).text).toBe('cba');
      const { mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const file = join(mkdtempSync(join(tmpdir(), 'rnnkit-s2s-')), 's2s.rnnkit');
      await m.save(file);
      const back = await Seq2Seq.load(file);
      expect(back.greedy(test, { maxLength: 8 }).map((o) => o.text)).toEqual(out.map((o) => o.text));
    });

    it('bad input throws clear errors', () => {
      const m = new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 4 });
      expect(() => m.greedy([[1, 99]])).toThrow(
        /token id of sequence 0 at step 1 must be an integer in \[0, 8\], received 99/,
      );
      expect(() => m.greedy([''])).toThrow(/sequence 0 is empty/);
      expect(() => m.greedy(['ab'], { maxLength: 0 })).toThrow(/maxLength must be an integer >= 1/);
      expect(() => m.beamSearch('ab', { width: 0 })).toThrow(/width must be an integer >= 1/);
      expect(() => m.beamSearch('ab', { beamWidth: 3 } as never)).toThrow(
        /unknown option 'beamWidth'; known options: maxLength, width, lengthPenalty/,
      );
      expect(() => m.greedy(['ab'], { maxLen: 3 } as never)).toThrow(/unknown option 'maxLen'/);
      expect(() => m.greedy(['ab'], null as never)).toThrow(/options must be an object, received null/);
      expect(
        () => new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 4, bidirectional: true, attention: 'dot' }),
      ).toThrow(/'dot' needs equal encoder output \(8\) and decoder \(4\) sizes; use 'general'/);
      return expect(m.fit(['ab'], [])).rejects.toThrow(/targets must have one entry per source \(1\), received 0/);
    });
  });
});

describe('beam search', () => {
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
});
