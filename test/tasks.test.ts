// Checks for the learning-check data generators in test/tasks/ (pure data, no rnnkit).
import { describe, expect, it } from 'vitest';
import { addingCorrect, addingDataset, addingSequence } from './tasks/adding';
import {
  REBER_SYMBOLS,
  generateEmbeddedReber,
  isEmbeddedReber,
  nextSymbolSets,
  reberAllCorrect,
  reberDataset,
} from './tasks/reber';
import { makeRng, randInt } from './tasks/rng';
import {
  TAGS,
  TAG_VOCAB,
  VERB_TOKENS,
  majorityBaseline,
  majorityBaselineDetail,
  taggingDataset,
} from './tasks/tagging';

/** Symbol sets as strings, e.g. ['TP', 'B', ...], for readable expectations. */
function setsAsStrings(sets: boolean[][]): string[] {
  return sets.map((row) => REBER_SYMBOLS.filter((_, j) => row[j]).join(''));
}

describe('rng', () => {
  it('is deterministic, in [0,1), and seed-dependent', () => {
    const a = makeRng(42),
      b = makeRng(42),
      c = makeRng(43);
    const xa = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(xa);
    expect(Array.from({ length: 1000 }, c)).not.toEqual(xa);
    expect(xa.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xa.reduce((s, x) => s + x, 0) / xa.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });

  it('randInt covers [lo, hi] inclusive', () => {
    const rng = makeRng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const v = randInt(rng, -2, 3);
      expect(v).toBeGreaterThanOrEqual(-2);
      expect(v).toBeLessThanOrEqual(3);
      seen.add(v);
    }
    expect([...seen].sort((x, y) => x - y)).toEqual([-2, -1, 0, 1, 2, 3]);
  });
});

describe('embedded Reber grammar', () => {
  it('accepts canonical strings and rejects broken ones', () => {
    for (const inner of ['BTXSE', 'BPVVE', 'BTSSXXTVVE', 'BPTVPSE', 'BPTVPXTTVVE', 'BTXXVPSE']) {
      expect(isEmbeddedReber(`BT${inner}TE`)).toBe(true);
      expect(isEmbeddedReber(`BP${inner}PE`)).toBe(true);
      expect(isEmbeddedReber(`BT${inner}PE`)).toBe(false); // wrong long-term symbol
      expect(isEmbeddedReber(`BP${inner}TE`)).toBe(false);
    }
    for (const bad of [
      '',
      'B',
      'BTBTXSET',
      'BTBTXSETEE',
      'BTBTXXETE',
      'BTBTSXETE',
      'BTBPVSEPE',
      'BTTXSETE',
      'BTBTXSETA',
    ]) {
      expect(isEmbeddedReber(bad)).toBe(false);
    }
  });

  it('generates valid strings with both embedded choices', () => {
    const rng = makeRng(1);
    const seconds = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const s = generateEmbeddedReber(rng);
      expect(isEmbeddedReber(s)).toBe(true);
      expect(s[1]).toBe(s[s.length - 2]);
      seconds.add(s[1]!);
    }
    expect([...seconds].sort()).toEqual(['P', 'T']);
  });

  it('next-symbol sets match hand-checked strings, including the long-term position', () => {
    expect(setsAsStrings(nextSymbolSets('BTBTXSETE'))).toEqual(['TP', 'B', 'TP', 'SX', 'SX', 'E', 'T', 'E']);
    expect(setsAsStrings(nextSymbolSets('BPBPVVEPE'))).toEqual(['TP', 'B', 'TP', 'TV', 'PV', 'E', 'P', 'E']);
    // Inner BPTVPXTTVVE: B P T V P X T T V V E
    expect(setsAsStrings(nextSymbolSets('BTBPTVPXTTVVETE'))).toEqual([
      'TP',
      'B',
      'TP',
      'TV',
      'TV',
      'PV',
      'SX',
      'TV',
      'TV',
      'TV',
      'PV',
      'E',
      'T',
      'E',
    ]);
    // Inner BTSSXXTVVE.
    expect(setsAsStrings(nextSymbolSets('BPBTSSXXTVVEPE'))).toEqual([
      'TP',
      'B',
      'TP',
      'SX',
      'SX',
      'SX',
      'SX',
      'TV',
      'TV',
      'PV',
      'E',
      'P',
      'E',
    ]);
    expect(() => nextSymbolSets('BTBTXSEPE')).toThrow();
  });

  it('dataset: one-hot inputs, multi-hot targets, deterministic per seed', () => {
    const d = reberDataset(5, 50);
    expect(d.strings).toHaveLength(50);
    for (let n = 0; n < 50; n++) {
      const s = d.strings[n]!;
      expect(isEmbeddedReber(s)).toBe(true);
      expect(d.inputs[n]).toHaveLength(s.length - 1);
      expect(d.targets[n]).toHaveLength(s.length - 1);
      for (let i = 0; i < s.length - 1; i++) {
        const x = d.inputs[n]![i]!;
        expect(x).toHaveLength(7);
        expect(x.reduce((a, b) => a + b, 0)).toBe(1);
        expect(REBER_SYMBOLS[x.indexOf(1)]).toBe(s[i]);
      }
      expect(d.targets[n]).toEqual(nextSymbolSets(s).map((r) => r.map((b) => (b ? 1 : 0))));
      // The long-term position: after the inner E only the embedded choice is legal.
      const lt = d.targets[n]![s.length - 3]!;
      expect(lt).toEqual(REBER_SYMBOLS.map((c) => (c === s[1] ? 1 : 0)));
    }
    expect(reberDataset(5, 50)).toEqual(d);
    expect(reberDataset(6, 50).strings).not.toEqual(d.strings);
  });

  it('reberAllCorrect thresholds every symbol at every position', () => {
    const t = nextSymbolSets('BTBTXSETE');
    const perfect: number[][] = t.map((r) => r.map((b) => (b ? 0.9 : 0.1)));
    expect(reberAllCorrect(perfect, t)).toBe(true);
    const wrongLongTerm = perfect.map((r) => [...r]);
    wrongLongTerm[6]![2] = 0.6; // P also predicted after the inner E
    expect(reberAllCorrect(wrongLongTerm, t)).toBe(false);
    const missing = perfect.map((r) => [...r]);
    missing[0]![1] = 0.5; // T not > 0.5
    expect(reberAllCorrect(missing, t)).toBe(false);
    expect(reberAllCorrect(missing, t, 0.4)).toBe(true);
    expect(reberAllCorrect(perfect.slice(1), t)).toBe(false);
  });
});

describe('adding problem', () => {
  function checkSequence(x: number[][], target: number, minT: number, maxT: number): void {
    expect(x.length).toBeGreaterThanOrEqual(minT);
    expect(x.length).toBeLessThanOrEqual(maxT);
    const marked = x.map((p, t) => (p[1] === 1 ? t : -1)).filter((t) => t >= 0);
    expect(marked).toHaveLength(2);
    // One mark among the first ten pairs (capped at minT-1), the other among the first
    // floor(minT/2)-1 still-unmarked pairs, i.e. at index <= floor(minT/2)-1.
    const [a, b] = marked as [number, number];
    const firstCap = Math.min(10, minT - 1),
      secondMax = Math.floor(minT / 2) - 1;
    expect((a < firstCap && b <= secondMax) || (b < firstCap && a <= secondMax)).toBe(true);
    const values = x.map((p) => p[0]!);
    expect(values.every((v) => v >= -1 && v <= 1)).toBe(true);
    const expectedMarkers = x.map((_, t) => (marked.includes(t) ? 1 : t === 0 || t === x.length - 1 ? -1 : 0));
    expect(x.map((p) => p[1])).toEqual(expectedMarkers);
    if (a === 0) expect(values[0]).toBe(0);
    expect(target).toBeCloseTo(0.5 + (values[a]! + values[b]!) / 4, 12);
    expect(target).toBeGreaterThanOrEqual(0);
    expect(target).toBeLessThanOrEqual(1);
  }

  it('follows the 1997 recipe (lengths, markers, target formula)', () => {
    const d = addingDataset(3, 400);
    expect(d.inputs).toHaveLength(400);
    let firstMarked = 0;
    const lengths = new Set<number>();
    for (let n = 0; n < 400; n++) {
      checkSequence(d.inputs[n]!, d.targets[n]!, 100, 110);
      lengths.add(d.inputs[n]!.length);
      if (d.inputs[n]![0]![1] === 1) firstMarked++;
    }
    expect(lengths.size).toBeGreaterThan(8); // lengths spread over 100..110
    expect(firstMarked).toBeGreaterThan(0); // the "X1 = 0" case does occur
    const short = addingDataset(4, 200, 10, 12);
    for (let n = 0; n < 200; n++) checkSequence(short.inputs[n]!, short.targets[n]!, 10, 12);
    const tiny = addingSequence(makeRng(9), 4, 4);
    checkSequence(tiny.x, tiny.target, 4, 4);
    expect(() => addingDataset(1, 1, 3, 5)).toThrow();
    expect(() => addingDataset(1, 1, 20, 10)).toThrow();
  });

  it('is deterministic per seed and differs across seeds', () => {
    expect(addingDataset(11, 20, 20, 30)).toEqual(addingDataset(11, 20, 20, 30));
    expect(addingDataset(12, 20, 20, 30).targets).not.toEqual(addingDataset(11, 20, 20, 30).targets);
  });

  it('addingCorrect uses an absolute tolerance of 0.04', () => {
    expect(addingCorrect(0.53, 0.5)).toBe(true);
    expect(addingCorrect(0.45, 0.5)).toBe(false);
    expect(addingCorrect(0.45, 0.5, 0.1)).toBe(true);
  });
});

describe('agreement tagging', () => {
  const SING = TAGS.indexOf('SING');
  const PLUR = TAGS.indexOf('PLUR');
  const verbIds = new Set(VERB_TOKENS.map((w) => TAG_VOCAB.indexOf(w)));

  it('has ~30 words, 8 tags, sentences of 8..25 words, valid ids', () => {
    expect(TAG_VOCAB.length).toBeGreaterThanOrEqual(28);
    expect(TAG_VOCAB.length).toBeLessThanOrEqual(34);
    expect(new Set(TAG_VOCAB).size).toBe(TAG_VOCAB.length);
    expect(TAGS).toHaveLength(8);
    const d = taggingDataset(1, 300);
    expect(d.tokens).toHaveLength(300);
    for (let s = 0; s < 300; s++) {
      const toks = d.tokens[s]!,
        tags = d.tags[s]!;
      expect(tags).toHaveLength(toks.length);
      expect(toks.length).toBeGreaterThanOrEqual(8);
      expect(toks.length).toBeLessThanOrEqual(25);
      for (const t of toks) expect(t >= 0 && t < TAG_VOCAB.length && Number.isInteger(t)).toBe(true);
      for (const t of tags) expect(t >= 0 && t < TAGS.length && Number.isInteger(t)).toBe(true);
    }
  });

  it('is deterministic per seed and differs across seeds', () => {
    expect(taggingDataset(7, 50)).toEqual(taggingDataset(7, 50));
    expect(taggingDataset(8, 50).tokens).not.toEqual(taggingDataset(7, 50).tokens);
  });

  it('verb tags follow the distant subject, not the verb token', () => {
    const d = taggingDataset(2, 500);
    const numberOf = new Map<number, number>(); // number-bearing token -> SING/PLUR
    for (const w of ['a', 'dog', 'cat', 'bird', 'child', 'teacher']) numberOf.set(TAG_VOCAB.indexOf(w), SING);
    for (const w of ['some', 'dogs', 'cats', 'birds', 'children', 'teachers']) numberOf.set(TAG_VOCAB.indexOf(w), PLUR);
    const tagsPerVerb = new Map<number, Set<number>>();
    let verbs = 0;
    for (let s = 0; s < d.tokens.length; s++) {
      const toks = d.tokens[s]!,
        tags = d.tags[s]!;
      let subject = -1;
      for (let i = 0; i < toks.length; i++) {
        const num = numberOf.get(toks[i]!);
        if (num !== undefined) subject = num;
        if (verbIds.has(toks[i]!)) {
          verbs++;
          expect(tags[i]).toBe(subject);
          expect(numberOf.has(toks[i - 1]!)).toBe(false); // never right after the subject
          if (!tagsPerVerb.has(toks[i]!)) tagsPerVerb.set(toks[i]!, new Set());
          tagsPerVerb.get(toks[i]!)!.add(tags[i]!);
        } else {
          expect(tags[i] === SING || tags[i] === PLUR).toBe(false);
        }
      }
    }
    expect(verbs).toBeGreaterThan(500);
    expect(tagsPerVerb.size).toBe(VERB_TOKENS.length);
    for (const set of tagsPerVerb.values()) expect([...set].sort()).toEqual([SING, PLUR].sort());
  });

  it('majorityBaseline on a tiny hand-made case', () => {
    const train = {
      tokens: [
        [0, 1],
        [0, 1],
        [1, 2],
      ],
      tags: [
        [0, 2],
        [0, 3],
        [2, 2],
      ],
    };
    // token 0 -> tag 0; token 1 -> tag 2 (2 of 3); token 2 -> tag 2; unseen -> tag 2 (global 4 vs 2 vs 1).
    const test = {
      tokens: [
        [0, 1, 5],
        [1, 2],
      ],
      tags: [
        [0, 3, 2],
        [2, 1],
      ],
    };
    expect(majorityBaseline(train, test)).toBeCloseTo(3 / 5, 12); // right: 0, 5, 1 ; wrong: 1, 2
    // Ties go to the smaller tag id.
    const tie = { tokens: [[4, 4]], tags: [[6, 5]] };
    expect(majorityBaseline(tie, { tokens: [[4]], tags: [[5]] })).toBe(1);
    expect(majorityBaseline(tie, { tokens: [[4]], tags: [[6]] })).toBe(0);
    const det = majorityBaselineDetail(train, { tokens: [[1, 1]], tags: [[SING, 2]] });
    expect(det.overall).toBe(0.5);
    expect(det.agreement).toBe(0);
  });

  it('the per-word majority baseline is well below perfect, with verbs near chance', () => {
    const { overall, agreement } = majorityBaselineDetail(taggingDataset(1, 2000), taggingDataset(2, 1000));
    expect(overall).toBeGreaterThan(0.8);
    expect(overall).toBeLessThan(0.9);
    expect(agreement).toBeGreaterThan(0.4);
    expect(agreement).toBeLessThan(0.6);
  });
});
