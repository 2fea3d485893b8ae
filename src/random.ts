/**
 * mulberry32: a tiny seeded pseudo-random generator. The same seed gives the same numbers, so generated data
 * and sampled pairs are the same on every run (a resumed run plans exactly the merges the first one did).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
