// Synthetic sequence-labelling task with a long-range dependency ("agreement tagging").
//
// A toy language of 32 words and 8 tags (DET NOUN ADJ ADV COMP CONJ SING PLUR). A sentence is
// one clause, or two clauses joined by "and":
//
//   Clause  := Subject Gap Verbs [Object] [ADV]
//   Subject := DET [ADJ] NOUN     number n in {singular, plural}, p = 1/2 each; the noun shows
//                                 the number (dog / dogs), and so do the determiners "a"
//                                 (singular) and "some" (plural); "the" goes with both
//   Gap     := 2-6 number-free words between the subject and the main verb: usually a relative
//              clause "that [ADV] VERB [the] [OBJNOUN]" padded with adverbs, else 2-6 adverbs
//   Verbs   := VERB ("and" VERB){0,2}
//   Object  := [the] [ADJ] OBJNOUN  object nouns (fish, sheep, deer, food) carry no number
//
// The verb tokens (ran, saw, ate, liked, chased) are past-tense forms that look the same for
// both numbers, but every verb -- the relative-clause verb and the main verb(s) -- is tagged
// SING or PLUR after the number of its clause's subject, which lies 2 to 11 words back with only
// number-free words in between (never directly before the verb). So a verb's tag cannot be read
// off the word: a per-word majority tagger gets verbs right about half of the time, while a
// recurrent (or bidirectional) tagger can carry the subject's number forward. All other tags
// are determined by the word alone. A second clause brings its own subject, so the model must
// also overwrite what it remembers. Sentences are 8-25 words (other draws are redrawn).
//
// Measured per-word majority baseline, train = taggingDataset(1, 2000), test =
// taggingDataset(2, 1000): 87.4% of all test tokens, 49.1% of verb (SING/PLUR) tokens, which
// make up ~25% of the tokens. A tagger that gets the verbs right reaches 100%.

import { makeRng, pick, randInt } from './rng';

export const TAGS = ['DET', 'NOUN', 'ADJ', 'ADV', 'COMP', 'CONJ', 'SING', 'PLUR'] as const;
export type Tag = (typeof TAGS)[number];

const DET_ANY = ['the'];
const DET_SING = ['a'];
const DET_PLUR = ['some'];
const NOUN_SING = ['dog', 'cat', 'bird', 'child', 'teacher'];
const NOUN_PLUR = ['dogs', 'cats', 'birds', 'children', 'teachers'];
const NOUN_OBJ = ['fish', 'sheep', 'deer', 'food'];
const ADJS = ['big', 'small', 'tall', 'happy'];
const ADVS = ['often', 'quickly', 'never', 'still'];
const VERBS = ['ran', 'saw', 'ate', 'liked', 'chased'];

/** Token vocabulary (index = token id). */
export const TAG_VOCAB: string[] = [
  ...DET_ANY,
  ...DET_SING,
  ...DET_PLUR,
  ...NOUN_SING,
  ...NOUN_PLUR,
  ...NOUN_OBJ,
  ...ADJS,
  ...ADVS,
  ...VERBS,
  'that',
  'and',
];

/** The verb tokens (their tag is SING or PLUR depending on the subject). */
export const VERB_TOKENS: readonly string[] = VERBS;

export const MIN_LEN = 8;
export const MAX_LEN = 25;

const TOKEN_ID = new Map(TAG_VOCAB.map((w, i) => [w, i] as const));
const TAG_ID = new Map(TAGS.map((t, i) => [t, i] as const));

export interface TaggingDataset {
  /** [sentence][word] token ids in 0 .. TAG_VOCAB.length-1. */
  tokens: number[][];
  /** [sentence][word] tag ids in 0 .. TAGS.length-1. */
  tags: number[][];
}

type Rng = () => number;
type Word = [string, Tag];

function clause(rng: Rng): Word[] {
  const plural = rng() < 0.5;
  const vtag: Tag = plural ? 'PLUR' : 'SING';
  const out: Word[] = [];
  // Subject: the only number-bearing words of the clause.
  out.push([pick(rng, plural ? [...DET_ANY, ...DET_PLUR] : [...DET_ANY, ...DET_SING]), 'DET']);
  if (rng() < 0.3) out.push([pick(rng, ADJS), 'ADJ']);
  out.push([pick(rng, plural ? NOUN_PLUR : NOUN_SING), 'NOUN']);
  // Gap of 2..6 number-free words before the main verb.
  const gapLen = randInt(rng, 2, 6);
  const gap: Word[] = [];
  if (rng() < 0.8) {
    gap.push(['that', 'COMP']);
    if (gap.length + 1 < gapLen && rng() < 0.4) gap.push([pick(rng, ADVS), 'ADV']);
    gap.push([pick(rng, VERBS), vtag]);
    if (gap.length + 1 < gapLen && rng() < 0.7) {
      if (gap.length + 2 <= gapLen && rng() < 0.5) gap.push([pick(rng, DET_ANY), 'DET']);
      gap.push([pick(rng, NOUN_OBJ), 'NOUN']);
    }
  }
  while (gap.length < gapLen) gap.push([pick(rng, ADVS), 'ADV']);
  out.push(...gap);
  // Main verb, possibly coordinated ("ran and ate", "ran and ate and saw"): all agree.
  out.push([pick(rng, VERBS), vtag]);
  for (let k = 0; k < 2 && rng() < 0.5; k++) out.push(['and', 'CONJ'], [pick(rng, VERBS), vtag]);
  // Optional object (number-free) and trailing adverb.
  if (rng() < 0.5) {
    if (rng() < 0.5) out.push([pick(rng, DET_ANY), 'DET']);
    if (rng() < 0.3) out.push([pick(rng, ADJS), 'ADJ']);
    out.push([pick(rng, NOUN_OBJ), 'NOUN']);
  }
  if (rng() < 0.2) out.push([pick(rng, ADVS), 'ADV']);
  return out;
}

function sentence(rng: Rng): Word[] {
  for (;;) {
    const words = clause(rng);
    if (rng() < 0.5) words.push(['and', 'CONJ'], ...clause(rng));
    if (words.length >= MIN_LEN && words.length <= MAX_LEN) return words;
  }
}

/** `count` sentences, deterministic in `seed`. */
export function taggingDataset(seed: number, count: number): TaggingDataset {
  const rng = makeRng(seed);
  const tokens: number[][] = [];
  const tags: number[][] = [];
  for (let n = 0; n < count; n++) {
    const words = sentence(rng);
    tokens.push(words.map(([w]) => TOKEN_ID.get(w)!));
    tags.push(words.map(([, t]) => TAG_ID.get(t)!));
  }
  return { tokens, tags };
}

export interface MajorityDetail {
  /** Per-token accuracy over all test tokens. */
  overall: number;
  /** Accuracy over test tokens whose gold tag is SING or PLUR (NaN if there are none). */
  agreement: number;
}

/**
 * Per-word majority tagger: every token gets its most frequent tag in `train` (ties -> the
 * smaller tag id); tokens never seen in training get the most frequent training tag overall.
 */
export function majorityBaselineDetail(train: TaggingDataset, test: TaggingDataset): MajorityDetail {
  const counts = new Map<number, number[]>();
  const global = new Array<number>(TAGS.length).fill(0);
  for (let s = 0; s < train.tokens.length; s++) {
    const toks = train.tokens[s]!;
    const tg = train.tags[s]!;
    for (let i = 0; i < toks.length; i++) {
      let c = counts.get(toks[i]!);
      if (c === undefined) {
        c = new Array<number>(TAGS.length).fill(0);
        counts.set(toks[i]!, c);
      }
      c[tg[i]!]!++;
      global[tg[i]!]!++;
    }
  }
  const argmax = (c: number[]): number => {
    let best = 0;
    for (let k = 1; k < c.length; k++) if (c[k]! > c[best]!) best = k;
    return best;
  };
  const fallback = argmax(global);
  const predict = new Map<number, number>();
  for (const [tok, c] of counts) predict.set(tok, argmax(c));

  const sing = TAG_ID.get('SING')!;
  const plur = TAG_ID.get('PLUR')!;
  let right = 0,
    total = 0,
    agrRight = 0,
    agrTotal = 0;
  for (let s = 0; s < test.tokens.length; s++) {
    const toks = test.tokens[s]!;
    const tg = test.tags[s]!;
    for (let i = 0; i < toks.length; i++) {
      const ok = (predict.get(toks[i]!) ?? fallback) === tg[i]!;
      total++;
      if (ok) right++;
      if (tg[i] === sing || tg[i] === plur) {
        agrTotal++;
        if (ok) agrRight++;
      }
    }
  }
  return { overall: total ? right / total : NaN, agreement: agrTotal ? agrRight / agrTotal : NaN };
}

/** Per-token accuracy on `test` of tagging each word with its most frequent tag in `train`. */
export function majorityBaseline(train: TaggingDataset, test: TaggingDataset): number {
  return majorityBaselineDetail(train, test).overall;
}
