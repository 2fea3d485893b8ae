import type { QuarantinedRow, RunRecord } from '../connectors/contract.js';
import { withPlanTarget } from './connections.js';
import type { Plan } from '../plan/load.js';

/**
 * The rows the plan's latest run quarantined, streamed in (entity, source key) order, with the run they
 * belong to. `run` is undefined when the plan has never run against this target.
 */
export async function listQuarantine(
  plan: Plan,
  options: { entity?: string | undefined; limit?: number | undefined; each: (row: QuarantinedRow) => void | Promise<void> },
): Promise<{ run: RunRecord | undefined; count: number }> {
  return withPlanTarget(plan, true, async (target) => {
    const run = await target.state.latestRun(plan.name);
    let count = 0;
    if (run && run.status !== 'superseded') {
      for await (const row of target.state.quarantined(run.runId, options.entity)) {
        if (options.limit !== undefined && count >= options.limit) break;
        count += 1;
        await options.each(row);
      }
    }
    return { run, count };
  });
}
