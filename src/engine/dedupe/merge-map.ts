import type { MergeEntry, PairDecision, ReviewPair } from '../../connectors/contract.js';
import type { Plan } from '../../plan/load.js';
import { withPlanTarget } from '../connections.js';

/** The plan's merge map on its target, a record at a time: what `dedupe:` merged into what, with why (keys only). */
export async function listMerges(plan: Plan, each: (merge: MergeEntry) => void | Promise<void>): Promise<number> {
  return withPlanTarget(plan, true, async ({ state }) => {
    let count = 0;
    for await (const merge of state.merges(plan.name)) {
      count += 1;
      await each(merge);
    }
    return count;
  });
}

/** The plan's pairs in the dedupe review band, from its latest run. */
export function reviewPairs(plan: Plan): Promise<ReviewPair[]> {
  return withPlanTarget(plan, true, ({ state }) => state.reviewPairs(plan.name));
}

/** Records reviewers' verdicts (same / different), honoured by every later run of the plan, `--fresh` ones too. */
export function decidePairs(plan: Plan, decisions: readonly PairDecision[]): Promise<void> {
  return withPlanTarget(plan, false, ({ state }) => state.decide(plan.name, decisions));
}
