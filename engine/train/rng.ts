/**
 * Deterministic randomness for training: initialisation, crops and augmentation all draw from
 * seeded streams, so a run is a function of its seed. sfc32 (Chris Doty-Humphrey's small fast
 * counter generator) keeps its whole state in four uint32s, which a checkpoint stores as is.
 */

export type RngState = readonly [number, number, number, number];

/** splitmix32: turns arbitrary integers into well-mixed seed words. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(state: RngState) {
    [this.a, this.b, this.c, this.d] = state;
  }

  /**
   * A stream identified by integers, e.g. `Rng.seeded(seed, STREAM_CROPS, step)`: each distinct
   * key gives an independent stream, so batch k never depends on how batches 0..k-1 were drawn.
   */
  static seeded(...key: number[]): Rng {
    if (key.length === 0) throw new RangeError('Rng.seeded: give at least one integer');
    let h = 0x243f6a88;
    for (const k of key) {
      if (!Number.isSafeInteger(k)) throw new RangeError(`Rng.seeded: key parts must be integers, got ${k}`);
      h = mix32(h ^ mix32(k >>> 0) ^ mix32(Math.floor(k / 2 ** 32)));
    }
    const r = new Rng([mix32(h), mix32(h + 1), mix32(h + 2), 1]);
    for (let i = 0; i < 12; i++) r.nextUint32(); // sfc32's recommended warm-up
    return r;
  }

  static fromState(state: RngState): Rng {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new RangeError(`Rng.fromState: expected four uint32 words, got ${JSON.stringify(state)}`);
    }
    return new Rng(state);
  }

  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box-Muller; one value per call keeps the state simple). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}
