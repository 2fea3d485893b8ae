import { openSource, openTarget } from '../connectors/index.js';
import type { Source, Target } from '../connectors/contract.js';
import { CrmMigrateError } from '../errors.js';
import type { Plan } from '../plan/load.js';
import { MultiSource } from './read/multi-source.js';
import { UnpivotSource } from '../connectors/shared/unpivot-source.js';

/** The plan's source (or its several sources, as one), opened with its folder for relative paths and its TLS demand. */
export async function openPlanSource(plan: Plan): Promise<Source> {
  const source = await openSources(plan);
  return plan.unpivots.size === 0 ? source : new UnpivotSource(source, plan.unpivots);
}

async function openSources(plan: Plan): Promise<Source> {
  if (!plan.sources) return openSource(plan.source, { baseDir: plan.baseDir, tls: plan.sourceTls });
  const opened = new Map<string, Source>();
  try {
    for (const [name, url] of Object.entries(plan.sources))
      opened.set(name, await openSource(url, { baseDir: plan.baseDir, tls: plan.sourceTls }));
  } catch (error) {
    await Promise.allSettled([...opened.values()].map((s) => s.close()));
    throw error;
  }
  return new MultiSource(opened);
}

/** The plan's target; `readOnly` for inspection (nothing is created or changed). */
export async function openPlanTarget(plan: Plan, readOnly = false): Promise<Target> {
  if (plan.target === '' && plan.targets) {
    throw new CrmMigrateError(
      'E_USAGE',
      `plan ${plan.name} has several targets (${plan.targets.join(', ')}): each is run as a part of its own`,
      {
        hint: 'load the plan with { target: NAME } for each of them (the command line does this for you; --target NAME picks one)',
      },
    );
  }
  return openTarget(plan.target, { baseDir: plan.baseDir, readOnly, tls: plan.targetTls });
}

/** Opens the plan's target for one piece of work and closes it after, however the work ends. */
export async function withPlanTarget<T>(
  plan: Plan,
  readOnly: boolean,
  work: (target: Target) => Promise<T>,
): Promise<T> {
  const target = await openPlanTarget(plan, readOnly);
  try {
    return await work(target);
  } finally {
    await target.close();
  }
}
