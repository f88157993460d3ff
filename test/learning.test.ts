// Quick learning checks (seconds each). The full-size runs are in validate/ (npm run validate).
import { describe, expect, it } from 'vitest';
import { runAdding, runReber, runTagging } from './tasks/learn';

describe('learning checks (quick)', () => {
  it('LSTM learns the embedded Reber grammar (every possible next symbol of 256 test strings)', async () => {
    const r = await runReber({ seed: 1, maxStrings: 40000 });
    expect(r.solved, JSON.stringify(r)).toBe(true);
  });
  it('LSTM learns a short adding problem (T 10–12)', async () => {
    const r = await runAdding({
      seed: 2,
      minT: 10,
      maxT: 12,
      maxSequences: 60000,
      evalEvery: 5000,
      evalCount: 500,
      target: 0.8,
    });
    expect(r.solved, JSON.stringify(r)).toBe(true);
  });
  it('a bidirectional tagger tracks a subject several words back (beats the per-word majority baseline)', async () => {
    const r = await runTagging({ seed: 3, train: 800, test: 300, epochs: 4 });
    expect(r.verbAccuracy, JSON.stringify(r)).toBeGreaterThan(0.9);
    expect(r.accuracy).toBeGreaterThan(r.baseline + 0.08);
  });
});
