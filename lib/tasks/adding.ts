// The adding problem, following Hochreiter & Schmidhuber, "Long Short-Term Memory",
// Neural Computation 9(8), 1997, Section 5.4 ("Experiment 4: Adding Problem"):
//
//   "Each element of each input sequence is a pair of components. The first component is a
//    real value randomly chosen from the interval [-1, 1]; the second component is either
//    1.0, 0.0, or -1.0, and is used as a marker ... Sequences have random lengths between the
//    minimal sequence length T and T + T/10. In a given sequence exactly two pairs are marked
//    as follows: we first randomly select and mark one of the first ten pairs (whose first
//    component we call X1). Then we randomly select and mark one of the first T/2 - 1 still
//    unmarked pairs (whose first component we call X2). The second components of all
//    remaining pairs are zero except for the first and final pair, whose second components
//    are -1. (In the rare case where the first pair of the sequence gets marked, we set X1 to
//    zero.) ... the target is 0.5 + (X1 + X2)/4.0 ... A sequence is processed correctly if
//    the absolute error at the sequence end is below 0.04."
//
// Recipe implemented here (T in the paper = minT here; defaults minT = 100, maxT = 110 = T + T/10):
//   - length L uniform integer in [minT, maxT];
//   - x[t][0] uniform in [-1, 1) for every step, x[t][1] = 0 initially;
//   - first mark: uniform among steps 0 .. min(10, minT - 1) - 1 (the "first ten pairs"; capped
//     for short sequences so the final pair is never marked);
//   - second mark: uniform among the first max(1, floor(minT/2) - 1) steps that are not already
//     marked (the "first T/2 - 1 still unmarked pairs", T = the minimal length);
//   - marked steps get marker 1.0; the first and the final step get marker -1.0 unless marked;
//   - if step 0 is marked (by either draw) its value is set to 0 (the paper's "X1 = 0" case);
//   - target = 0.5 + (X1 + X2) / 4, X1/X2 = values at the two marked steps (after the rule above),
//     so the target lies in [0, 1].
// minT must be >= 4 so that both marks fit before the final step.

import { makeRng, randInt } from './rng';

export interface AddingSequence {
  /** [L][2]: (value, marker). */
  x: number[][];
  target: number;
}

export interface AddingDataset {
  /** [count][L_n][2]; lengths differ between sequences. */
  inputs: number[][][];
  targets: number[];
}

function checkRange(minT: number, maxT: number): void {
  if (!Number.isInteger(minT) || !Number.isInteger(maxT) || minT < 4 || maxT < minT) {
    throw new RangeError(`adding problem: need integers 4 <= minT <= maxT, got ${minT}, ${maxT}`);
  }
}

/** One adding-problem sequence (see the recipe above). */
export function addingSequence(rng: () => number, minT = 100, maxT = 110): AddingSequence {
  checkRange(minT, maxT);
  const len = randInt(rng, minT, maxT);
  const x: number[][] = [];
  for (let t = 0; t < len; t++) x.push([rng() * 2 - 1, 0]);

  const first = randInt(rng, 0, Math.min(10, minT - 1) - 1);
  const nSecond = Math.max(1, Math.floor(minT / 2) - 1);
  const unmarked: number[] = [];
  for (let t = 0; unmarked.length < nSecond; t++) if (t !== first) unmarked.push(t);
  const second = unmarked[randInt(rng, 0, nSecond - 1)]!;

  x[0]![1] = -1;
  x[len - 1]![1] = -1;
  x[first]![1] = 1;
  x[second]![1] = 1;
  if (first === 0 || second === 0) x[0]![0] = 0;

  const target = 0.5 + (x[first]![0]! + x[second]![0]!) / 4;
  return { x, target };
}

/** `count` sequences, deterministic in `seed`. */
export function addingDataset(seed: number, count: number, minT = 100, maxT = 110): AddingDataset {
  checkRange(minT, maxT);
  const rng = makeRng(seed);
  const inputs: number[][][] = [];
  const targets: number[] = [];
  for (let n = 0; n < count; n++) {
    const s = addingSequence(rng, minT, maxT);
    inputs.push(s.x);
    targets.push(s.target);
  }
  return { inputs, targets };
}

/** The paper's criterion: absolute error at the sequence end below `tol` (0.04). */
export function addingCorrect(pred: number, target: number, tol = 0.04): boolean {
  return Math.abs(pred - target) < tol;
}
