import { CrmMigrateError } from '../index.js';

/** Failures of a run that started: what was committed stays, and the same command picks up after it. */
const FAILED_WHILE_RUNNING = new Set(['E_CONNECT', 'E_SOURCE', 'E_TARGET', 'E_STATE', 'E_INTERNAL']);

/**
 * The error a run or sync ended with, its hint ending with what to do next: run the command again, which
 * resumes after the last committed batch. A bad plan, bad usage or a held lock are left as they are (their
 * hints say what to fix); an error that is not ours becomes an internal error with the same advice.
 */
export function withResumeHint(error: unknown, command: string): unknown {
  const again = `${command} again: it resumes after the last committed batch, and nothing committed is lost or written twice`;
  if (error instanceof CrmMigrateError) {
    if (!FAILED_WHILE_RUNNING.has(error.code)) return error;
    return new CrmMigrateError(error.code, error.message, {
      hint: error.hint ? `${error.hint}; then run ${again}` : `once the cause is fixed, run ${again}`,
      cause: error.cause,
    });
  }
  // Only the message: a driver's message can be all there is, and its stack is for CRM_MIGRATE_DEBUG.
  return new CrmMigrateError('E_INTERNAL', `internal error: ${(error as Error)?.message ?? String(error)}`, {
    hint: `run ${again}; if it fails the same way, report it (CRM_MIGRATE_DEBUG=1 prints the stack)`,
    cause: error,
  });
}
