import { userInfo } from 'node:os';
import { withPlanTarget } from './connections.js';
import type { AuditEntry } from '../connectors/contract.js';
import { CrmMigrateError } from '../errors.js';
import type { Plan } from '../plan/load.js';
import { packageVersion } from '../version.js';

const version = packageVersion();

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** An audit line for a command on this plan, stamped now with the user and the tool's version. */
export function auditEntry(
  plan: Plan,
  fields: { command: string; outcome: string; runId?: string | null; source: string; target: string; details: unknown },
): AuditEntry {
  return {
    plan: plan.name,
    at: new Date().toISOString(),
    user: osUser(),
    toolVersion: version,
    planHash: plan.hash,
    runId: fields.runId ?? null,
    command: fields.command,
    outcome: fields.outcome,
    source: fields.source,
    target: fields.target,
    details: fields.details,
  };
}

/** What the audit keeps of a failure: its code and message, which name tables, columns and keys, never values. */
export function failureDetails(error: unknown): { code: string; message: string } {
  return error instanceof CrmMigrateError
    ? { code: error.code, message: error.message }
    : { code: 'E_INTERNAL', message: (error as Error)?.message ?? String(error) };
}

/** Appends to the audit trail through a connection of its own: for commands that only read the target. */
export async function recordAudit(plan: Plan, entry: AuditEntry): Promise<void> {
  await withPlanTarget(plan, false, async (target) => {
    await target.prepare();
    await target.state.audit(entry);
  });
}

/** The plan's audit trail, oldest first (empty when the target has none). */
export async function auditHistory(plan: Plan): Promise<AuditEntry[]> {
  return withPlanTarget(plan, true, (target) => target.state.history(plan.name));
}
