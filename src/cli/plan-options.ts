import { loadPlan, type Plan } from '../index.js';
import { parseQuarantineLimit, quarantineOverLimit } from '../index.js';
import type { Counts } from '../index.js';

/** The options every command that works on a plan takes. */
export interface PlanOptions {
  allowPlaintextSecrets?: boolean;
  /** With a plan of several targets: the one this call works on (the command line calls once per target). */
  target?: string;
  /** The plan, when the command line has loaded it already (it does, to see whether it has several targets). */
  loaded?: Plan;
}

/** The plan a command works on: the one already loaded, or PLAN's part for `target`. */
export function commandPlan(file: string, options: PlanOptions): Promise<Plan> {
  return options.loaded
    ? Promise.resolve(options.loaded)
    : loadPlan(file, { allowPlaintextSecrets: options.allowPlaintextSecrets, target: options.target });
}

/** The options of the commands that write: run and sync. */
export interface WriteOptions {
  wait?: boolean;
  /** Overrides the plan's `max_quarantined` (checked when the command line is parsed). */
  maxQuarantined?: string;
}

/** Why a run's quarantine is over the command's or the plan's limit, or undefined. */
export function overQuarantineLimit(
  plan: Plan,
  options: WriteOptions,
  entities: Readonly<Record<string, Counts>>,
): string | undefined {
  const limit =
    options.maxQuarantined === undefined ? plan.maxQuarantined : parseQuarantineLimit(options.maxQuarantined);
  return limit && quarantineOverLimit(Object.values(entities), limit);
}
