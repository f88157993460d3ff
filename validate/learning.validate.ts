// npm run validate: the full-size learning checks of the models issue. Prints a summary line
// per task (the numbers quoted in the project notes).
import { describe, expect, it } from 'vitest';
import { runAdding, runReber, runTagging } from '../test/tasks/learn';

describe('learning checks (full size)', () => {
  it('embedded Reber grammar: LSTM solves 4 of 5 seeds within 40,000 strings', async () => {
    const results = [];
    for (let seed = 1; seed <= 5; seed++) results.push(await runReber({ seed, maxStrings: 40000 }));
    for (const [i, r] of results.entries())
      console.log(
        `VALIDATE reber seed ${i + 1}: solved=${r.solved} after ${r.stringsSeen} strings (test ` +
          `${r.testCorrect}/256, train ${r.trainCorrect}/256) in ${r.seconds.toFixed(1)} s`,
      );
    expect(results.filter((r) => r.solved).length).toBeGreaterThanOrEqual(4);
  });

  it('adding problem, T 100–110: LSTM gets >= 97% of 2,560 fresh sequences within 0.04', async () => {
    const r = await runAdding({
      seed: 1,
      minT: 100,
      maxT: 110,
      maxSequences: Number(process.env.RNNKIT_ADDING_MAX ?? 2_000_000),
      evalEvery: 20000,
      evalCount: 2560,
      target: 0.97,
      hiddenSize: 32,
      lr: 0.003,
      batchSize: 32,
      forgetBias: 5,
      log: (seen, frac, loss) =>
        console.log(
          `VALIDATE adding progress: ${seen} sequences, ${(100 * frac).toFixed(1)}% within 0.04, train MSE ${loss.toExponential(3)}`,
        ),
    });
    console.log(
      `VALIDATE adding: solved=${r.solved} after ${r.sequencesSeen} sequences, ${(100 * r.fractionCorrect).toFixed(1)}% within 0.04, ${r.seconds.toFixed(0)} s`,
    );
    expect(r.solved).toBe(true);
  });

  it('tagging with a long-range agreement: bidirectional tagger against the per-word majority baseline', async () => {
    const r = await runTagging({ seed: 1, train: 2000, test: 1000, epochs: 8 });
    console.log(
      `VALIDATE tagging: per-token accuracy ${(100 * r.accuracy).toFixed(2)}% (verbs ` +
        `${(100 * r.verbAccuracy).toFixed(2)}%), majority baseline ${(100 * r.baseline).toFixed(2)}% (verbs ` +
        `${(100 * r.baselineVerbs).toFixed(2)}%), ${r.seconds.toFixed(1)} s`,
    );
    expect(r.accuracy).toBeGreaterThan(r.baseline + 0.1);
  });
});
