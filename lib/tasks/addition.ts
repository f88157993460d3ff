// The Keras "addition_rnn" example, reduced to operands of up to 2 digits: the string "35+27"
// (given reversed to the encoder, as in the example) to "62".
import { makeRng } from './rng';

export interface AdditionData {
  sources: string[];
  targets: string[];
}

/** Distinct (a, b) pairs, a, b in [0, 99]: `train` for training and `test` held out. */
export function additionSplit(seed: number, train: number, test: number): { train: AdditionData; test: AdditionData } {
  const rng = makeRng(seed);
  const pairs: Array<[number, number]> = [];
  for (let a = 0; a < 100; a++) for (let b = 0; b < 100; b++) pairs.push([a, b]);
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  const make = (ps: Array<[number, number]>): AdditionData => ({
    sources: ps.map(([a, b]) => [...`${a}+${b}`].reverse().join('')),
    targets: ps.map(([a, b]) => String(a + b)),
  });
  return { train: make(pairs.slice(0, train)), test: make(pairs.slice(train, train + test)) };
}
