// npm run validate: reversed-digit addition (the Keras addition_rnn example, operands of up to
// 2 digits): a Seq2Seq with attention, 5,000 training pairs; training stops when 500 validation
// pairs are right; at least 99% exact matches on 1,000 further held-out sums.
import { describe, expect, it } from 'vitest';
import { Seq2Seq, Vocabulary } from '../lib';
import { additionSplit } from '../test/tasks/addition';

describe('reversed-digit addition', () => {
  it('>= 99% exact matches on held-out sums', async () => {
    const { train, test: rest } = additionSplit(1, 5000, 1500);
    const val = { sources: rest.sources.slice(0, 500), targets: rest.targets.slice(0, 500) };
    const test = { sources: rest.sources.slice(500), targets: rest.targets.slice(500) };
    const vocab = Vocabulary.characters('0123456789+');
    const m = new Seq2Seq({
      sourceVocabulary: vocab,
      hiddenSize: 128,
      embeddingDim: 16,
      attention: 'general',
      seed: 1,
    });
    const exact = (d: typeof val) =>
      m.greedy(d.sources, { maxLength: 5 }).filter((o, i) => o.text === d.targets[i]).length / d.sources.length;
    const t0 = Date.now();
    let epochs = 0;
    for (; epochs < 60; epochs++) {
      const h = (
        await m.fit(train.sources, train.targets, {
          epochs: 1,
          batchSize: 32,
          optimizer: { type: 'adam', lr: 0.002 },
          clipNorm: 5,
        })
      ).epochs[0];
      const v = exact(val);
      console.log(
        `VALIDATE addition epoch ${epochs + 1}: loss ${h.loss.toFixed(4)}, validation exact ${(100 * v).toFixed(1)}%`,
      );
      if (v >= 0.998) {
        epochs++;
        break;
      }
    }
    const acc = exact(test);
    const sample = m.greedy(['72+53', '9+99'], { maxLength: 5 }).map((o) => o.text);
    console.log(
      `VALIDATE addition: ${(100 * acc).toFixed(2)}% exact on ${test.sources.length} held-out sums after ` +
        `${epochs} epochs, ${((Date.now() - t0) / 1000).toFixed(0)} s; "35+27" -> ${sample[0]}, "99+9" -> ` +
        `${sample[1]}`,
    );
    expect(acc).toBeGreaterThanOrEqual(0.99);
  });
});
