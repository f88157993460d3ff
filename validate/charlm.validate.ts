// npm run validate: character language model on tiny-shakespeare (../shared/data), one LSTM
// layer of 128, 90/10 split: validation loss at most 1.95 nats per character within 10 minutes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LanguageModel, Vocabulary } from '../lib';

const file = join(__dirname, '..', '..', 'shared', 'data', 'tinyshakespeare.txt');
const have = existsSync(file);

describe.skipIf(!have)('character language model (tiny-shakespeare)', () => {
  it('reaches validation loss <= 1.95 nats/char within 10 minutes', async () => {
    const text = readFileSync(file, 'utf8');
    const cut = Math.floor(text.length * 0.9);
    const train = text.slice(0, cut),
      val = text.slice(cut);
    const vocab = Vocabulary.characters(text);
    const lm = new LanguageModel({ vocabulary: vocab, embeddingDim: 64, hiddenSize: 128, seed: 1 });
    const t0 = Date.now();
    let best = Infinity,
      reachedAt: number | null = null;
    for (let epoch = 0; epoch < 50; epoch++) {
      const left = 600 - (Date.now() - t0) / 1000;
      if (left <= 5) break;
      const h = (
        await lm.fit(train, {
          epochs: 1,
          batchSize: 32,
          seqLen: 100,
          optimizer: { type: 'adam', lr: 0.003 },
          clipNorm: 5,
          timeLimit: left - 5,
        })
      ).epochs[0];
      const v = await lm.evaluate(val);
      best = Math.min(best, v.loss);
      const secs = (Date.now() - t0) / 1000;
      console.log(
        `VALIDATE charlm epoch ${epoch + 1}: train ${h.loss.toFixed(3)} val ${v.loss.toFixed(3)} nats/char ` +
          `(perplexity ${v.perplexity.toFixed(2)}) at ${secs.toFixed(0)} s`,
      );
      if (v.loss <= 1.95 && reachedAt === null) {
        reachedAt = secs;
        break;
      }
    }
    console.log(
      `VALIDATE charlm: best val ${best.toFixed(3)} nats/char; <= 1.95 ${reachedAt === null ? 'not reached' : `at ${reachedAt.toFixed(0)} s`}`,
    );
    console.log(
      `VALIDATE charlm sample: ${JSON.stringify(lm.generate('ROMEO:\n', { maxTokens: 300, temperature: 0.8, seed: 7 }))}`,
    );
    expect(reachedAt).not.toBeNull();
  });
});
