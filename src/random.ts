/**
 * Seeded pseudo-random numbers (mulberry32). The core never calls Math.random: the same seed gives the
 * same sequence in Node, Chromium and a Web Worker, which is what makes fits reproducible byte for byte.
 */
export type Rng = () => number;

/** A generator of floats in [0, 1) from a 32-bit seed. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent seed for a sub-task (restart r, fold f, ...) from a base seed. */
export function deriveSeed(seed: number, salt: number): number {
  let h = (seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Standard normal deviate (Box-Muller), for synthetic data. */
export function normal(rng: Rng, mean = 0, sd = 1): number {
  let u = 0;
  while (u === 0) u = rng();
  const v = rng();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** An integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/**
 * `m` distinct indices of 0..n-1 in random order, seeded: the first `m` entries of a forward Fisher-Yates
 * shuffle, which stops after `m` swaps (a sample of 20,000 rows of a million costs 20,000 draws, not a
 * million).
 */
export function sampleIndices(rng: Rng, n: number, m: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(m) || m < 0 || m > n) throw new RangeError(`m must be an integer in 0..${n}, got ${m}`);
  if (m * 8 < n) {
    // Sparse: only the displaced entries of the identity are stored, so a sample of 20,000 of a million
    // touches no million-entry array (fresh memory costs ~1-4 ms a MB on small VMs). Same draws, same result.
    const moved = new Map<number, number>();
    const out = new Uint32Array(m);
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(rng() * (n - i));
      out[i] = moved.get(j) ?? j;
      moved.set(j, moved.get(i) ?? i);
    }
    return out;
  }
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p.slice(0, m);
}

/** Fisher-Yates shuffle of 0..n-1, seeded. */
export function permutation(rng: Rng, n: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
