import type { BatchStart, BatchState, BatchWriter, Checkpoint, QuarantinedRow, Reason, Target } from '../connectors/contract.js';
import { RowsRejected, type Rejection } from '../errors.js';
import type { Row } from '../values.js';

/**
 * The rows a batch handed to its writer, kept until the batch commits: when the target refuses the batch for
 * the data of some row in it, the batch is written again without that row. Two parallel lists (the mapped
 * values written, the source row they came from) so the hot path allocates nothing per row.
 */
export class PendingRows {
  readonly values: Row[] = [];
  readonly sources: Row[] = [];

  push(values: Row, source: Row): void {
    this.values.push(values);
    this.sources.push(source);
  }

  get length(): number {
    return this.values.length;
  }
}

/** One batch as it commits: its rows, the rows it quarantines, its checkpoint and the rest of its state. */
export interface BatchContent {
  readonly rows: PendingRows;
  readonly quarantine: readonly QuarantinedRow[];
  readonly checkpoint: Checkpoint;
  readonly state: BatchState | undefined;
}

/** How a refused row is quarantined: its entry (source key, displayable row) with the target's reason. */
export type QuarantineEntry = (source: Row, reason: Reason) => QuarantinedRow;

/** A deadlock with another transaction can come back on a retry; a few, then it is a failure. */
const CONFLICT_RETRIES = 3;

/** The target's reason for refusing a row, as a quarantine reason: the rule names the database's own code. */
export const refusalReason = (rejection: Rejection): Reason => ({ field: rejection.field, rule: `target:${rejection.databaseCode}`, code: rejection.code });

/** Whether a quarantine reason is the target's refusal (rather than a rule of the plan's). */
export const isRefusal = (reason: Reason): boolean => reason.rule.startsWith('target:');

/**
 * Narrows a refused set of rows down to the rows the target refuses, by halves, each half in a savepoint of
 * one transaction. Rows are tried in read order, so of two rows that cannot both go in (one email twice
 * under a unique index) the first one read is written and the later one is refused.
 */
async function narrow(writer: BatchWriter, indexes: readonly number[], rows: PendingRows, refused: Map<number, Rejection>, retries = CONFLICT_RETRIES): Promise<void> {
  if (indexes.length === 0) return;
  const rejection = await writer.attempt(indexes.map((i) => rows.values[i] as Row));
  if (!rejection) return;
  if (rejection.code === 'conflict') {
    if (retries === 0) throw new RowsRejected('the target kept aborting the batch in conflicts with other transactions', rejection, undefined);
    return narrow(writer, indexes, rows, refused, retries - 1);
  }
  if (indexes.length === 1) {
    refused.set(indexes[0] as number, rejection);
    return;
  }
  const half = indexes.length >>> 1;
  await narrow(writer, indexes.slice(0, half), rows, refused);
  await narrow(writer, indexes.slice(half), rows, refused);
}

/**
 * Writes a batch the target refused once more, on a writer of its own: every row but the refused ones, which
 * are quarantined with the target's reason, then the batch's checkpoint, counts moved from written to
 * quarantined, all in one transaction. Resolves to the number of rows refused.
 *
 * Call it with no other batch open: rows of an open batch could wait on the rows written again while the
 * engine waits on this commit, a deadlock the database cannot see.
 */
export async function writeRefusedBatch(target: Target, start: BatchStart, batch: BatchContent, entry: QuarantineEntry, keyOf: (source: Row) => string): Promise<number> {
  const writer = await target.beginBatch(start);
  try {
    const refused = new Map<number, Rejection>();
    await narrow(writer, batch.rows.values.map((_v, i) => i), batch.rows, refused);
    const quarantine = [...batch.quarantine];
    const refusedKeys = new Set<string>();
    for (const [i, rejection] of refused) {
      const source = batch.rows.sources[i] as Row;
      refusedKeys.add(keyOf(source));
      quarantine.push(entry(source, refusalReason(rejection)));
    }
    const counts = { ...batch.checkpoint.counts };
    counts.written -= refused.size;
    counts.quarantined += refused.size;
    await writer.commit(quarantine, { ...batch.checkpoint, counts }, withoutKeys(batch.state, refusedKeys));
    return refused.size;
  } catch (error) {
    await writer.abort().catch(() => undefined);
    throw error;
  }
}

/** A batch's state without what it recorded for rows that were refused after all (their crosswalk lines). */
function withoutKeys(state: BatchState | undefined, keys: ReadonlySet<string>): BatchState | undefined {
  if (!state || keys.size === 0) return state;
  const realized = state.realized && { ...state.realized, sourceKeys: state.realized.sourceKeys.filter((k) => !keys.has(k)) };
  return { ...state, crosswalk: state.crosswalk?.filter((c) => !keys.has(c.sourceKey)), realized };
}
