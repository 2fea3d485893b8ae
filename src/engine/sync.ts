import { setTimeout as sleep } from 'node:timers/promises';
import { CrmMigrateError, type PlanIssue } from '../errors.js';
import type { Plan } from '../plan/load.js';
import { runPlan, type RunSummary } from './run.js';

/** Failures a later attempt may get past: the database was unreachable, or a read or write broke off. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set(['E_CONNECT', 'E_SOURCE', 'E_TARGET']);

export const isTransient = (error: unknown): error is CrmMigrateError =>
  error instanceof CrmMigrateError && TRANSIENT_CODES.has(error.code);

export interface SyncOptions {
  /** Time between the end of one increment and the start of the next. */
  readonly everyMs: number;
  /** Ends the loop: the increment in progress stops after its batch, and the call returns. */
  readonly signal: AbortSignal;
  /** Wait for another run of the plan on the target instead of failing (see runPlan). */
  readonly wait?: boolean | undefined;
  /** Transient failures in a row (connection, read, write) before the sync gives up; default 5. */
  readonly maxFailures?: number | undefined;
  /** After each increment, with its lag; return false to end the sync there. */
  onIncrement?(summary: RunSummary): boolean | void | Promise<boolean | void>;
  /** A transient failure, retried at the next interval. */
  onRetry?(error: CrmMigrateError, failures: number, maxFailures: number): void;
  /** The plan's warnings, once. */
  onWarnings?(warnings: readonly PlanIssue[]): void;
}

/**
 * Keeps a target in step with a live source: an increment (`runPlan` with its lag) every `everyMs` until the
 * signal fires or `onIncrement` says stop. A dropped connection or a database away for maintenance does not
 * end a sync that runs for weeks: the failed increment is resumed by the next one; a bad plan, or too many
 * failures in a row, is thrown.
 */
export async function syncPlan(
  plan: Plan,
  options: SyncOptions,
): Promise<{ increments: number; stoppedBy: 'signal' | 'caller' }> {
  if (!plan.entities.some((e) => e.strategy === 'incremental')) {
    throw new CrmMigrateError('E_USAGE', 'sync runs increments, but no entity of the plan is incremental', {
      hint: 'add strategy: incremental and cursor: <column> to an entity',
    });
  }
  const max = options.maxFailures ?? 5;
  const pause = () => sleep(options.everyMs, undefined, { signal: options.signal }).catch(() => undefined);
  let warned = false;
  let failures = 0;
  let increments = 0;
  while (!options.signal.aborted) {
    let summary: RunSummary;
    try {
      summary = await runPlan(plan, {
        signal: options.signal,
        wait: options.wait,
        lag: true,
        command: 'sync',
        onWarnings: (warnings) => {
          if (!warned) options.onWarnings?.(warnings);
          warned = true;
        },
      });
      failures = 0;
    } catch (error) {
      if (!isTransient(error) || ++failures >= max) throw error;
      options.onRetry?.(error, failures, max);
      await pause();
      continue;
    }
    increments += 1;
    if ((await options.onIncrement?.(summary)) === false) return { increments, stoppedBy: 'caller' };
    await pause();
  }
  return { increments, stoppedBy: 'signal' };
}
