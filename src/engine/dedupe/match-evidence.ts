import type { MergeEntry, ReviewPair } from '../../connectors/contract.js';
import type { Plan } from '../../plan/load.js';
import { listMerges, reviewPairs } from './merge-map.js';

/** What a reviewer looks at first: the pairs awaiting review, and the merges that came closest to not being made. */
export interface MatchEvidence {
  /** Pairs in the review band, most probable first (at most `limit`). */
  readonly review: readonly ReviewPair[];
  readonly reviewTotal: number;
  /** The merges of lowest probability, lowest first (at most `limit`): keys and evidence, never values. */
  readonly weakestMerges: readonly MergeEntry[];
  readonly mergesTotal: number;
}

/**
 * The plan's review band and its weakest merges, from the target's state: for the run report and `merges`.
 * The merge map is streamed; only the `limit` weakest are kept, so memory does not grow with it.
 */
export async function matchEvidence(plan: Plan, options: { limit?: number } = {}): Promise<MatchEvidence> {
  const limit = options.limit ?? 50;
  const pairs = [...(await reviewPairs(plan))].sort((a, b) => b.probability - a.probability);
  const weakest: MergeEntry[] = [];
  const mergesTotal = await listMerges(plan, (merge) => {
    if (weakest.length === limit && merge.probability >= weakest[limit - 1].probability) return;
    weakest.push(merge);
    weakest.sort((a, b) => a.probability - b.probability);
    if (weakest.length > limit) weakest.pop();
  });
  return { review: pairs.slice(0, limit), reviewTotal: pairs.length, weakestMerges: weakest, mergesTotal };
}
