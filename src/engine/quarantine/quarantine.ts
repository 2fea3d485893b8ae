import type { QuarantinedRow, RunRecord } from '../../connectors/contract.js';
import { withPlanTarget } from '../connections.js';
import type { Plan } from '../../plan/load.js';
import type { EntityPlan } from '../../mapping/compile.js';
import { isVirtualColumn } from '../../mapping/identity.js';
import { sourceColumnsOf } from '../schema-check.js';

/**
 * The plan's open quarantine — the rows its runs since the last fresh start quarantined and nothing wrote
 * since, so the rows an earlier increment of a sync quarantined too — streamed in (entity, source key) order,
 * each with the run that quarantined it. `run` is the plan's latest run, undefined when it has never run
 * against this target.
 */
export async function listQuarantine(
  plan: Plan,
  options: {
    entity?: string | undefined;
    limit?: number | undefined;
    each: (row: QuarantinedRow) => void | Promise<void>;
  },
): Promise<{ run: RunRecord | undefined; count: number; runs: string[] }> {
  return withPlanTarget(plan, true, async (target) => {
    const run = await target.state.latestRun(plan.name);
    let count = 0;
    const runs = new Set<string>();
    if (run && run.status !== 'superseded') {
      for await (const row of target.state.openQuarantine(plan.name, options.entity)) {
        if (options.limit !== undefined && count >= options.limit) break;
        count += 1;
        runs.add(row.runId ?? run.runId);
        await options.each(row);
      }
    }
    return { run, count, runs: [...runs] };
  });
}

/** The source columns a quarantined row of these entities holds, in order: the columns of a quarantine CSV. */
export function quarantineColumns(entities: readonly EntityPlan[]): string[] {
  return [...new Set(entities.flatMap((e) => sourceColumnsOf(e)).filter((c) => !isVirtualColumn(c)))];
}
