/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32) for weight init,
 * shuffling, masking and augmentation. Same seed, same sequence, on every platform; the
 * state can be saved into a checkpoint and restored to resume exactly.
 */
export type RandomState = readonly [number, number, number, number];

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * A xoshiro128** generator: `new SeededRandom(seed)` from an integer seed (default 0, expanded
 * by splitmix32), or `new SeededRandom(state)` to resume a saved `state()`. Not cryptographic;
 * use `fork` for independent streams (one per use, e.g. dropout and masking).
 */
export class SeededRandom {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number | RandomState = 0) {
    if (typeof seed === 'number') {
      const next = splitmix32(seed);
      this.s0 = next();
      this.s1 = next();
      this.s2 = next();
      this.s3 = next();
    } else {
      this.setState(seed);
    }
  }

  /** A snapshot of the generator, JSON-serialisable, for checkpoints. */
  state(): RandomState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /**
   * Resumes from a snapshot taken with `state()`. Throws a RangeError (not a TesseraError) unless
   * it is four numbers, not all zero; each is taken as a uint32 (`>>> 0`).
   */
  setState(state: RandomState): void {
    if (state.length !== 4 || state.every((v) => v === 0)) {
      throw new RangeError('RandomState must be four uint32 values, not all zero');
    }
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v >>> 0) as [number, number, number, number];
  }

  /**
   * An independent generator derived from this one's current state and a label (e.g. 'mask').
   * It advances this generator by one draw, so forks taken in sequence differ even with the
   * same label; for a stream that depends on the label alone, fork a fresh `new SeededRandom(seed)`.
   */
  fork(label: string): SeededRandom {
    const next = splitmix32((this.nextUint32() ^ hashLabel(label)) >>> 0);
    return new SeededRandom([next(), next(), next(), next() | 1]);
  }

  /** The next raw output, an integer in [0, 2^32): one draw, on which every other method builds. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [low, high) (default [0, 1)), from one draw. */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0)) throw new RangeError(`int(n) needs n > 0, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /**
   * Normal deviate (Box-Muller). The second deviate of each pair is dropped rather than
   * cached, so that `state()` alone captures the generator and a resume is exact.
   */
  normal(mean = 0, std = 1): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Normal deviates truncated to [mean - 2 std, mean + 2 std] by resampling, as timm's trunc_normal_. */
  truncatedNormal(mean = 0, std = 1): number {
    for (;;) {
      const z = this.normal();
      if (z >= -2 && z <= 2) return mean + std * z;
    }
  }

  /** True with probability `p`, from one draw: never for p <= 0, always for p >= 1. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Fills a new Float32Array with deviates from `sample`. */
  array(length: number, sample: (rng: SeededRandom) => number): Float32Array {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = sample(this);
    return out;
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
