import { loadPlan, type Plan } from '../plan/load.js';

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
  return options.loaded ? Promise.resolve(options.loaded) : loadPlan(file, { allowPlaintextSecrets: options.allowPlaintextSecrets, target: options.target });
}
