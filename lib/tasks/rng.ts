// Small seeded PRNG for the learning-check data generators (test/tasks/*).
// mulberry32: 32-bit state, period 2^32, good enough for synthetic data; fully
// deterministic for a given seed on every platform (integer ops via Math.imul).

/** Returns a generator of uniform numbers in [0, 1). Any number is accepted as seed
 *  (it is reduced to 32 bits); the same seed always yields the same stream. */
export function makeRng(seed: number): () => number {
  // Scramble the seed once so that nearby seeds (1, 2, 3...) start far apart.
  let a = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [lo, hiInclusive]. */
export function randInt(rng: () => number, lo: number, hiInclusive: number): number {
  if (!Number.isInteger(lo) || !Number.isInteger(hiInclusive) || hiInclusive < lo) {
    throw new RangeError(`randInt: bad range [${lo}, ${hiInclusive}]`);
  }
  return lo + Math.floor(rng() * (hiInclusive - lo + 1));
}

/** Uniform element of a non-empty array. */
export function pick<T>(rng: () => number, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick: empty array');
  return items[randInt(rng, 0, items.length - 1)] as T;
}
