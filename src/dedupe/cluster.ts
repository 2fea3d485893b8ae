/**
 * Clusters from accepted pairs: connected components, built strongest pair first, with two guards against
 * the long chains that join different people (A≈B, B≈C, but A and C plainly differ): two clusters are not
 * joined when any pair across them was compared and judged different (`apart`) and no member bridges that
 * pair (`bridged`), nor beyond `maxSize`.
 */
export function clusterPairs(options: {
  count: number;
  /** Accepted pairs, strongest first. */
  pairs: readonly (readonly [number, number])[];
  maxSize: number;
  /** True when the two records were compared and found different, or a reviewer said so. */
  apart: (a: number, b: number) => boolean;
  /**
   * True when two records judged apart may still join, as one person's: a record of the would-be cluster
   * stands close to both (Corvius between the typos Corvis and Covius).
   */
  bridged?: ((a: number, b: number, members: readonly number[]) => boolean) | undefined;
}): number[][] {
  const kept = (x: readonly number[], y: readonly number[]): boolean => {
    let union: number[] | undefined;
    return x.some((p) =>
      y.some((q) => options.apart(p, q) && !(options.bridged?.(p, q, (union ??= [...x, ...y])) ?? false)),
    );
  };
  const owner = new Int32Array(options.count).fill(-1);
  const members: number[][] = [];
  const clusterOf = (r: number): number[] => {
    const c = owner[r];
    if (c >= 0) return members[c];
    const fresh = [r];
    owner[r] = members.length;
    members.push(fresh);
    return fresh;
  };
  for (const [a, b] of options.pairs) {
    const x = clusterOf(a);
    const y = clusterOf(b);
    if (x === y || x.length + y.length > options.maxSize) continue;
    if (kept(x, y)) continue;
    const [big, small] = x.length >= y.length ? [x, y] : [y, x];
    const id = owner[big[0]];
    for (const r of small) {
      big.push(r);
      owner[r] = id;
    }
    small.length = 0;
  }
  return members.filter((c) => c.length > 1).map((c) => c.sort((p, q) => p - q));
}
