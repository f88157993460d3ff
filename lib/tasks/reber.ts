// Embedded Reber grammar: the next-symbol prediction benchmark of Cleeremans, Servan-Schreiber
// & McClelland (1989) / Fahlman (1991), used as Experiment 1 of Hochreiter & Schmidhuber,
// "Long Short-Term Memory", Neural Computation 9(8), 1997 (Section 5.1).
//
// Inner Reber grammar (states 0..6, 6 = end; every branch taken with probability 1/2):
//
//   0 -B-> 1
//   1 -T-> 2      1 -P-> 3
//   2 -S-> 2      2 -X-> 4          (T branch: loop on S, leave on X)
//   3 -T-> 3      3 -V-> 5          (P branch: loop on T, leave on V)
//   4 -X-> 3      4 -S-> 6
//   5 -P-> 4      5 -V-> 6
//   6 -E-> done
//
// e.g. BTXSE, BPVVE, BTSSXXTVVE, BPTVPSE.
//
// Embedded grammar:  B, then T or P (the "embedded choice"), then one full inner string
// (B...E), then the SAME symbol T or P again, then E; e.g. BTBTXSETE, BPBPVVEPE.
// The symbol after the inner E can only be predicted by remembering the second symbol of the
// string, which lies arbitrarily far back: that is the long-term dependency. Every other
// position is predictable from the inner grammar state (a local, short-term dependency).

import { makeRng } from './rng';

export const REBER_SYMBOLS = ['B', 'T', 'P', 'S', 'X', 'V', 'E'] as const;
export type ReberSymbol = (typeof REBER_SYMBOLS)[number];
const NSYM = REBER_SYMBOLS.length;

/** Inner grammar: state -> list of [symbol, next state]. State 6 = the "end" state (emits E). */
const INNER: ReadonlyArray<ReadonlyArray<readonly [ReberSymbol, number]>> = [
  [['B', 1]],
  [
    ['T', 2],
    ['P', 3],
  ],
  [
    ['S', 2],
    ['X', 4],
  ],
  [
    ['T', 3],
    ['V', 5],
  ],
  [
    ['X', 3],
    ['S', 6],
  ],
  [
    ['P', 4],
    ['V', 6],
  ],
  [['E', 7]],
];
const INNER_DONE = 7;

function symIndex(c: string): number {
  const i = (REBER_SYMBOLS as readonly string[]).indexOf(c);
  if (i < 0) throw new Error(`not a Reber symbol: ${JSON.stringify(c)}`);
  return i;
}

function generateInner(rng: () => number): string {
  let state = 0;
  let out = '';
  while (state !== INNER_DONE) {
    const edges = INNER[state]!;
    const [sym, next] = edges.length === 1 ? edges[0]! : edges[rng() < 0.5 ? 0 : 1]!;
    out += sym;
    state = next;
  }
  return out;
}

/** One random embedded Reber string (all branches with probability 1/2). */
export function generateEmbeddedReber(rng: () => number): string {
  const choice = rng() < 0.5 ? 'T' : 'P';
  return `B${choice}${generateInner(rng)}${choice}E`;
}

/**
 * Runs the embedded-grammar automaton over `s` and returns, for every proper prefix
 * s[0..i] (i = 0 .. len-2), the set of symbols that may legally come next, or null if `s`
 * is not a complete embedded Reber string.
 */
function parse(s: string): ReberSymbol[][] | null {
  // Outer phases: 0 expect B, 1 expect T|P, 2 inside inner grammar, 3 expect choice, 4 expect E, 5 done.
  let phase = 0;
  let choice: ReberSymbol | null = null;
  let inner = 0;
  const sets: ReberSymbol[][] = [];
  const allowed = (): ReberSymbol[] => {
    switch (phase) {
      case 0:
        return ['B'];
      case 1:
        return ['T', 'P'];
      case 2:
        return INNER[inner]!.map(([c]) => c);
      case 3:
        return [choice!];
      case 4:
        return ['E'];
      default:
        return [];
    }
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (!(allowed() as string[]).includes(c)) return null;
    switch (phase) {
      case 0:
        phase = 1;
        break;
      case 1:
        choice = c as ReberSymbol;
        phase = 2;
        inner = 0;
        break;
      case 2: {
        inner = INNER[inner]!.find(([sym]) => sym === c)![1];
        if (inner === INNER_DONE) phase = 3;
        break;
      }
      case 3:
        phase = 4;
        break;
      case 4:
        phase = 5;
        break;
    }
    if (i < s.length - 1) sets.push(allowed());
  }
  return phase === 5 ? sets : null;
}

/** True iff `s` is a complete string of the embedded Reber grammar. */
export function isEmbeddedReber(s: string): boolean {
  return parse(s) !== null;
}

/**
 * For each position i < s.length - 1: which of the 7 symbols (in REBER_SYMBOLS order) may
 * legally follow the prefix s[0..i]. After the inner string's E only the embedded choice
 * (s[1]) is legal. Throws if `s` is not an embedded Reber string.
 */
export function nextSymbolSets(s: string): boolean[][] {
  const sets = parse(s);
  if (sets === null) throw new Error(`not an embedded Reber string: ${s}`);
  return sets.map((set) => REBER_SYMBOLS.map((c) => set.includes(c)));
}

/** One-hot encoding of a symbol over REBER_SYMBOLS. */
export function reberOneHot(c: string): number[] {
  const v = new Array<number>(NSYM).fill(0);
  v[symIndex(c)] = 1;
  return v;
}

export interface ReberDataset {
  strings: string[];
  /** [string][position 0..len-2][7] one-hot of the current symbol. */
  inputs: number[][][];
  /** [string][position 0..len-2][7] multi-hot (0/1) set of legal next symbols. */
  targets: number[][][];
}

/** `count` random embedded Reber strings (duplicates possible), deterministic in `seed`. */
export function reberDataset(seed: number, count: number): ReberDataset {
  const rng = makeRng(seed);
  const strings: string[] = [];
  const inputs: number[][][] = [];
  const targets: number[][][] = [];
  for (let n = 0; n < count; n++) {
    const s = generateEmbeddedReber(rng);
    strings.push(s);
    inputs.push([...s.slice(0, -1)].map(reberOneHot));
    targets.push(nextSymbolSets(s).map((row) => row.map((b) => (b ? 1 : 0))));
  }
  return { strings, inputs, targets };
}

/**
 * Success criterion for one string: at every position, for all 7 symbols,
 * (pred[i][j] > threshold) === target[i][j] (pred = sigmoid outputs).
 */
export function reberAllCorrect(pred: number[][], target: boolean[][], threshold = 0.5): boolean {
  if (pred.length !== target.length) return false;
  for (let i = 0; i < target.length; i++) {
    const p = pred[i]!;
    const t = target[i]!;
    if (p.length !== NSYM || t.length !== NSYM) return false;
    for (let j = 0; j < NSYM; j++) if (p[j]! > threshold !== t[j]) return false;
  }
  return true;
}
