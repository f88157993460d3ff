// dispose() frees everything a model holds: on the opaque device its weight, gradient,
// optimizer and scratch tensors are gone (any use throws), and every later call is refused.
import { describe, expect, it } from 'vitest';
import { LanguageModel, opaqueDevice, Seq2Seq, SequenceClassifier, Vocabulary } from '../lib';

describe('dispose', () => {
  it('frees weights, gradients, optimizer state and scratch of every model kind; later calls throw', async () => {
    const dev = opaqueDevice();
    const xs = [
      [
        [1, 2],
        [3, 4],
      ],
      [[0, 1]],
    ];
    const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 3, outputSize: 2, device: dev });
    await m.fit(xs, [0, 1], { epochs: 2 });
    m.predict(xs);
    const P = m.internals().net.params;
    const [params, grads] = [P.params, P.grads];
    m.dispose();
    expect(() => dev.toHostSync(params)).toThrow(/opaque.toHost: the tensor was freed/);
    expect(() => dev.toHostSync(grads)).toThrow(/opaque.toHost: the tensor was freed/);
    expect(() => m.predict(xs)).toThrow(/SequenceClassifier.predict: the model was disposed/);
    await expect(m.fit(xs, [0, 1])).rejects.toThrow(/the model was disposed/);
    m.dispose(); // twice is fine

    const text = 'abcabcabc'.repeat(5);
    const lm = new LanguageModel({
      vocabulary: Vocabulary.characters(text),
      hiddenSize: 4,
      embeddingDim: 3,
      device: dev,
    });
    await lm.fit(text, { batchSize: 2, seqLen: 5 });
    lm.dispose();
    expect(() => lm.generate('a')).toThrow(/LanguageModel.generate: the model was disposed/);

    const s2s = new Seq2Seq({ sourceVocabulary: Vocabulary.characters('ab'), hiddenSize: 4, device: dev });
    await s2s.fit(['ab', 'ba'], ['ba', 'ab']);
    const sp = s2s.params.params;
    s2s.dispose();
    expect(() => dev.toHostSync(sp)).toThrow(/opaque.toHost: the tensor was freed/);
    expect(() => s2s.greedy(['ab'])).toThrow(/Seq2Seq.greedy: the model was disposed/);
    await expect(s2s.fit(['a'], ['b'])).rejects.toThrow(/Seq2Seq.fit: the model was disposed/);
  });

  it('refuses to dispose a model while it trains', async () => {
    const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 3, outputSize: 2 });
    const training = m.fit([[[1, 2]], [[2, 1]]], [0, 1], { epochs: 3 });
    expect(() => m.dispose()).toThrow(/dispose: the model is training/);
    await training;
    m.dispose();
  });
});
