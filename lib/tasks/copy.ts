// The copy task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): `symbols` random symbols
// out of `alphabet`, then `delay` blanks, a delimiter, and the model must output the symbols again
// during the last `symbols` steps (blank before). Inputs one-hot of alphabet + blank + delimiter.
import { makeRng, randInt } from './rng';

export interface CopyDataset {
  /** [n][symbols + delay + 1 + symbols][alphabet + 2] one-hot. */
  inputs: number[][][];
  /** [n][step] class ids: 0 = blank, 1..alphabet = the symbols. */
  targets: number[][];
}

export function copyDataset(seed: number, count: number, symbols = 5, delay = 10, alphabet = 8): CopyDataset {
  if (![symbols, delay, alphabet, count].every((v) => Number.isInteger(v) && v >= 1))
    throw new RangeError(
      `copy task: need positive integers, got symbols ${symbols}, delay ${delay}, alphabet ${alphabet}`,
    );
  const rng = makeRng(seed);
  const F = alphabet + 2;
  const oneHot = (i: number) => Array.from({ length: F }, (_, j) => (j === i ? 1 : 0));
  const inputs: number[][][] = [];
  const targets: number[][] = [];
  for (let n = 0; n < count; n++) {
    const s = Array.from({ length: symbols }, () => randInt(rng, 1, alphabet));
    const x = [...s.map(oneHot)];
    for (let t = 0; t < delay; t++) x.push(oneHot(0));
    x.push(oneHot(alphabet + 1));
    for (let t = 0; t < symbols; t++) x.push(oneHot(0));
    inputs.push(x);
    targets.push([...new Array<number>(symbols + delay + 1).fill(0), ...s]);
  }
  return { inputs, targets };
}
