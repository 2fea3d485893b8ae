import { openSource, openTarget } from '../connectors/index.js';
import type { Source, Target } from '../connectors/contract.js';
import type { Plan } from '../plan/load.js';

/** The plan's source, opened with its folder for relative paths and its TLS demand. */
export const openPlanSource = (plan: Plan): Promise<Source> => openSource(plan.source, { baseDir: plan.baseDir, tls: plan.sourceTls });

/** The plan's target; `readOnly` for inspection (nothing is created or changed). */
export const openPlanTarget = (plan: Plan, readOnly = false): Promise<Target> => openTarget(plan.target, { baseDir: plan.baseDir, readOnly, tls: plan.targetTls });
