// A small, serializable PRNG (xoshiro128**): weight init, shuffling and dropout seeds all draw
// from it, so the same seed gives the same run and a checkpoint can store and restore it.
export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    // as the seed options: an integer in [0, 2^32) (a fraction or 2^53 would be silently folded)
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
      throw new RangeError(`Rng: seed must be an integer in [0, 4294967295], received ${String(seed)}`);
    this.s = new Uint32Array(4);
    // splitmix32 expands the seed into the four state words
    let x = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }
  uniform(lo: number, hi: number): number {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo)
      throw new RangeError(`Rng.uniform: bounds must be finite numbers with lo <= hi, received ${lo}, ${hi}`);
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Rng.int: n must be an integer >= 1, received ${n}`);
    return Math.floor(this.next() * n);
  }
  /** A seed for a native counter-based generator (dropout masks). */
  seed(): number {
    return this.nextU32() * 2097152 + (this.nextU32() >>> 11);
  }
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
  getState(): number[] {
    return Array.from(this.s);
  }
  setState(st: number[]): void {
    if (!Array.isArray(st) || st.length !== 4 || !st.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
      throw new RangeError(`Rng.setState: state must be 4 unsigned 32-bit integers, received ${JSON.stringify(st)}`);
    }
    // xoshiro's all-zero state is a fixed point: every draw would be 0
    if (st.every((v) => v === 0)) throw new RangeError('Rng.setState: the state must not be all zeros');
    this.s = Uint32Array.from(st);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
