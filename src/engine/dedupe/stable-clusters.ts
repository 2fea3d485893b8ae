/**
 * Clusters of an incremental dedupe entity that hold across runs. Earlier runs already wrote their survivors
 * and recorded their merges; a record's cluster is not re-decided each increment (a model trained on more
 * records would move old records between clusters, and a written record cannot be folded into another without
 * re-pointing everything that references it). So:
 * - every stored cluster stays as it is, its survivor the survivor (the anchor);
 * - a new record (never written nor merged) that the matching puts with the records of exactly one anchor
 *   joins that anchor's cluster, unless a reviewer or a veto keeps it apart from one of its members;
 * - a new record matched with two anchors (or a fresh cluster that would join two written records) merges
 *   nothing: the pairs go to review, and the new record is written as its own;
 * - records that are all new cluster as in a full load.
 */

/** Where the records stand after earlier runs, by record index. */
export interface StoredClusters {
  /** A merged record's survivor. */
  readonly survivorOf: ReadonlyMap<number, number>;
  /** Records written as their own record (survivors included). */
  readonly written: ReadonlySet<number>;
}

export interface StableClusters {
  /** Clusters of two or more records, ascending. */
  readonly clusters: readonly (readonly number[])[];
  /** Per cluster (same index), the anchor that must stay its survivor, or undefined for an all-new cluster. */
  readonly anchors: readonly (number | undefined)[];
  /** Pairs a new record's matching could not settle: [a, b, probability]. */
  readonly review: readonly (readonly [number, number, number])[];
  /** Records that joined an anchor's cluster in this run. */
  readonly joined: ReadonlySet<number>;
}

export function stableClusters(
  fresh: readonly (readonly number[])[],
  stored: StoredClusters,
  judge: { apart(a: number, b: number): boolean; weightOf(a: number, b: number): number | undefined },
): StableClusters {
  const groups = new Map<number, number[]>();
  for (const [loser, survivor] of stored.survivorOf) {
    const group = groups.get(survivor) ?? [survivor];
    group.push(loser);
    groups.set(survivor, group);
  }
  const anchorOf = (r: number): number | undefined =>
    stored.survivorOf.get(r) ?? (groups.has(r) || stored.written.has(r) ? r : undefined);
  const allNew: number[][] = [];
  const review: [number, number, number][] = [];
  const joined = new Set<number>();
  const probabilityOf = (w: number) => 1 / (1 + 2 ** -w);
  /** The strongest compared pair between a record and a group, for the review band. */
  const strongest = (r: number, group: readonly number[]): [number, number, number] | undefined => {
    let best: { g: number; w: number } | undefined;
    for (const g of group) {
      const w = judge.weightOf(r, g);
      if (w !== undefined && (!best || w > best.w)) best = { g, w };
    }
    return best && [Math.min(r, best.g), Math.max(r, best.g), probabilityOf(best.w)];
  };
  for (const cluster of fresh) {
    const anchors = [...new Set(cluster.map(anchorOf).filter((a) => a !== undefined))];
    const newcomers = cluster.filter((r) => anchorOf(r) === undefined);
    if (anchors.length === 0) {
      allNew.push([...cluster]);
      continue;
    }
    if (anchors.length === 1) {
      const anchor = anchors[0];
      const group = groups.get(anchor) ?? [anchor];
      for (const r of newcomers) {
        if (group.some((g) => judge.apart(r, g))) {
          const pair = strongest(r, group);
          if (pair) review.push(pair);
          continue;
        }
        group.push(r);
        joined.add(r);
      }
      if (group.length > 1) groups.set(anchor, group);
      continue;
    }
    // Two written records (or their clusters) in one fresh cluster: nothing written is folded into another.
    for (const r of newcomers)
      for (const anchor of anchors) {
        const pair = strongest(r, groups.get(anchor) ?? [anchor]);
        if (pair) review.push(pair);
      }
    for (let i = 0; i < anchors.length; i++)
      for (let j = i + 1; j < anchors.length; j++) {
        const w = judge.weightOf(anchors[i], anchors[j]);
        if (w !== undefined)
          review.push([Math.min(anchors[i], anchors[j]), Math.max(anchors[i], anchors[j]), probabilityOf(w)]);
      }
  }
  const clusters: number[][] = [];
  const anchors: (number | undefined)[] = [];
  for (const [anchor, group] of groups) {
    if (group.length < 2) continue;
    clusters.push(group.sort((a, b) => a - b));
    anchors.push(anchor);
  }
  for (const cluster of allNew) {
    clusters.push(cluster);
    anchors.push(undefined);
  }
  return { clusters, anchors, review, joined };
}
