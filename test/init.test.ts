// Weight initializers: the native orthogonal initialization against the JavaScript loop it
// replaced (kept here as the reference), bit for bit, so existing seeds keep their weights.
import { describe, it, expect } from 'vitest';
import { Rng } from '../lib';
import { orthogonalBlocks } from '../lib/init';
import { loadNative } from '../lib/native';

/** The JavaScript orthogonalBlocks of rnnkit up to this change. */
function orthogonalBlocksJs(w: Float32Array | Float64Array, blocks: number, n: number, rng: Rng, gain = 1): void {
  const q = new Float64Array(n * n);
  for (let g = 0; g < blocks; g++) {
    for (let i = 0; i < n * n; i++) q[i] = rng.normal();
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      for (let j = 0; j < i; j++) {
        const rj = j * n;
        let d = 0;
        for (let k = 0; k < n; k++) d += q[ri + k] * q[rj + k];
        for (let k = 0; k < n; k++) q[ri + k] -= d * q[rj + k];
      }
      let norm = 0;
      for (let k = 0; k < n; k++) norm += q[ri + k] * q[ri + k];
      norm = Math.sqrt(norm) || 1;
      for (let k = 0; k < n; k++) q[ri + k] /= norm;
    }
    for (let i = 0; i < n * n; i++) w[g * n * n + i] = gain * q[i];
  }
}

const bits = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('orthogonal initialization', () => {
  it('is bit-identical to the JavaScript reference at every panel boundary, gain and dtype', () => {
    for (const n of [1, 2, 3, 7, 8, 9, 17, 31, 32, 33, 40, 64, 65, 97])
      for (const [blocks, gain, Ctor] of [
        [1, 1, Float64Array],
        [4, 1, Float32Array],
        [3, 0.5, Float64Array],
      ] as const) {
        const got = new Ctor(blocks * n * n),
          want = new Ctor(blocks * n * n);
        const a = new Rng(n * 31 + blocks),
          b = new Rng(n * 31 + blocks);
        orthogonalBlocks(got, blocks, n, a, gain);
        orthogonalBlocksJs(want, blocks, n, b, gain);
        expect(bits(got).equals(bits(want)), `n=${n} blocks=${blocks} ${Ctor.name}`).toBe(true);
        expect(a.getState()).toEqual(b.getState());
      }
  });

  it('matches on degenerate rows (zero and repeated rows divide by 1, as in JavaScript)', () => {
    const n = 11;
    const q = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) q[i] = i < 2 * n ? 0 : i % 3 === 0 ? 1 : (i % n) - 5;
    q.copyWithin(5 * n, 4 * n, 5 * n); // row 5 repeats row 4: its residual is (nearly) zero
    const want = Float64Array.from(q);
    // The reference on a fixed matrix: the same loop as orthogonalBlocksJs without the draws.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        let d = 0;
        for (let k = 0; k < n; k++) d += want[i * n + k] * want[j * n + k];
        for (let k = 0; k < n; k++) want[i * n + k] -= d * want[j * n + k];
      }
      let norm = 0;
      for (let k = 0; k < n; k++) norm += want[i * n + k] * want[i * n + k];
      norm = Math.sqrt(norm) || 1;
      for (let k = 0; k < n; k++) want[i * n + k] /= norm;
    }
    loadNative().orthogonalize({ n, q });
    expect(bits(q).equals(bits(want))).toBe(true);
  });

  it('produces orthonormal rows', () => {
    const n = 64;
    const w = new Float64Array(n * n);
    orthogonalBlocks(w, 1, n, new Rng(3));
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let d = 0;
        for (let k = 0; k < n; k++) d += w[i * n + k] * w[j * n + k];
        worst = Math.max(worst, Math.abs(d - (i === j ? 1 : 0)));
      }
    expect(worst).toBeLessThan(1e-12);
  });

  it('refuses a float32 matrix, a wrong length and non-finite entries', () => {
    const native = loadNative();
    expect(() => native.orthogonalize({ n: 2, q: new Float32Array(4) as never })).toThrow(/q.*Float64Array/);
    expect(() => native.orthogonalize({ n: 3, q: new Float64Array(4) })).toThrow(/q/);
    expect(() => native.orthogonalize({ n: 2, q: new Float64Array([1, NaN, 0, 1]) })).toThrow(/finite/);
    expect(() => native.orthogonalize({ n: 0, q: new Float64Array(0) })).toThrow(/n/);
  });
});
