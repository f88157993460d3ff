// Weight initializers as Keras users expect them (glorot_uniform for input weights, orthogonal
// for recurrent weights, zero biases, optional forget-gate bias 1, identity for IRNN).
import { loadNative } from './native';
import type { HostArray } from './native';
import type { Rng } from './rng';

/** Glorot/Xavier uniform for a [rows, cols] matrix: U(-a, a), a = sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(w: HostArray, rows: number, cols: number, rng: Rng): void {
  const a = Math.sqrt(6 / (rows + cols));
  for (let i = 0; i < rows * cols; i++) w[i] = rng.uniform(-a, a);
}

/** U(-k, k) for every element (PyTorch's default RNN init with k = 1/sqrt(H)). */
export function uniform(w: HostArray, k: number, rng: Rng): void {
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-k, k);
}

/**
 * Fills `w` ([blocks*n, n]) with one random orthogonal n×n matrix per gate block: modified
 * Gram–Schmidt on Gaussian rows (the recurrent matrix of each gate keeps norms of h). The
 * Gram–Schmidt runs natively (cubic in n: seconds in JavaScript at n = 1024); it reproduces the
 * JavaScript loop bit for bit, so a seed gives the weights it always gave.
 */
export function orthogonalBlocks(w: HostArray, blocks: number, n: number, rng: Rng, gain = 1): void {
  const q = new Float64Array(n * n);
  const native = loadNative();
  for (let g = 0; g < blocks; g++) {
    for (let i = 0; i < n * n; i++) q[i] = rng.normal();
    native.orthogonalize({ n, q });
    for (let i = 0; i < n * n; i++) w[g * n * n + i] = gain * q[i];
  }
}

/** gain * identity in each n×n gate block (IRNN: Le, Jaitly and Hinton 2015). */
export function identityBlocks(w: HostArray, blocks: number, n: number, gain = 1): void {
  w.fill(0);
  for (let g = 0; g < blocks; g++) for (let i = 0; i < n; i++) w[g * n * n + i * n + i] = gain;
}
