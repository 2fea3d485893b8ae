import type { Command } from 'commander';
import { CrmMigrateError, loadPlan, QUARANTINE_LIMIT_HINT, type Plan } from '../index.js';
import type { Io } from './main.js';
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

/**
 * A command on a plan, in one place: its name, what it does, its flags and its handler. The command line adds
 * `<PLAN>`, `--allow-plaintext-secrets` and `--target` to every one, and runs it once per target of the plan
 * unless it follows one (`oneTarget`).
 */
export interface PlanCommand<Options extends PlanOptions = PlanOptions> {
  readonly name: string;
  readonly description: string;
  /** Its own flags, added after the common ones (help lists them in this order). */
  readonly flags: (command: Command) => Command;
  readonly oneTarget?: boolean;
  readonly run: (file: string, options: Options, io: Io) => Promise<number>;
}

/** A command typed by its own options, listed among the others (which take their own). */
export const planCommandOf = <Options extends PlanOptions>(command: PlanCommand<Options>): PlanCommand =>
  command as unknown as PlanCommand;

/** One run of a plan per target at a time: a second one is refused, or with this flag waits its turn. */
export const waitFlag = (command: Command): Command =>
  command.option(
    '--wait',
    'if another run of the plan is writing to the target, wait for it to finish instead of refusing',
  );

/** The quality gate of the commands that write. */
export const maxQuarantinedFlag = (command: Command): Command =>
  command.option(
    '--max-quarantined <LIMIT>',
    "fail (exit 1) when the run quarantines more than LIMIT: rows (100) or a share of the rows read (5%); overrides the plan's max_quarantined",
    (v: string) => {
      if (!parseQuarantineLimit(v))
        throw new CrmMigrateError('E_USAGE', `--max-quarantined "${v}" is not a limit`, {
          hint: QUARANTINE_LIMIT_HINT,
        });
      return v;
    },
  );

/** A flag's whole number, or a usage error naming the flag. */
export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CrmMigrateError('E_USAGE', `${flag} takes a whole number, got "${value}"`);
  return n;
}
