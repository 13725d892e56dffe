// A small seeded generator used for initialisation and for data, so the same seed gives the same weights and
// batches on every machine. mulberry32 (32-bit state) is plenty for a teaching lab and is exact in JS integers.

export class Rng {
  private state_: number;
  constructor(seed: number) {
    // Mix the seed once so that nearby seeds start far apart.
    this.state_ = (seed ^ 0x9e3779b9) >>> 0;
    this.nextU32();
  }

  /** Uniform integer in [0, 2^32). */
  nextU32(): number {
    let t = (this.state_ = (this.state_ + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal by Box–Muller (one value per call; simple over fast). */
  normal(): number {
    const u1 = 1 - this.next(); // in (0, 1], so log is finite
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i]!;
      a[i] = a[j]!;
      a[j] = tmp;
    }
    return a;
  }

  /** The whole state, for exact resume. */
  get state(): number {
    return this.state_;
  }
  set state(s: number) {
    this.state_ = s >>> 0;
  }

  /** A child generator with an independent stream, derived deterministically from this one. */
  fork(): Rng {
    return new Rng(this.nextU32());
  }
}
