import type {
  BatchStart,
  BatchState,
  BatchWriter,
  Checkpoint,
  QuarantinedRow,
  Reason,
  Target,
} from '../../connectors/contract.js';
import { RowsRejected, type Rejection } from '../../errors.js';
import type { Row } from '../../values.js';

/**
 * A batch's written rows, read and mapped again after the target refused the batch: the engine keeps no row
 * once its writer has it (holding a batch's rows until commit cost a quarter of the throughput), so a refused
 * batch is read again from the source. Two parallel lists: the values written, the source row they came from.
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

/**
 * Where a batch's rows are in the source, and a digest of what became of them, so that reading them again
 * can prove it found the same rows: the `read` rows after `after` in read order, of which `written` were
 * written. `digest` adds up each row's hash of its key and of what became of it (written, or not): a sum, so
 * rows filtered before mapping and rows mapped may be added in any order.
 */
export interface BatchSpan {
  readonly after: readonly unknown[] | null;
  readonly read: number;
  readonly written: number;
  readonly digest: number;
}

/** The digest of no rows; `foldKey` adds one row to it. */
export const EMPTY_DIGEST = 0;

/** Adds a row's FNV-1a hash of its key values to the digest: cheap enough for every row, allocation-free for numbers and text. */
export function foldKey(digest: number, row: Row, keyIndexes: readonly number[], written: boolean): number {
  let h = 0x811c9dc5;
  for (const i of keyIndexes) {
    const v = row[i] ?? null;
    if (typeof v === 'number') {
      h = Math.imul(h ^ (v | 0), 0x01000193);
      h = Math.imul(h ^ ((v / 0x100000000) | 0), 0x01000193);
    } else if (typeof v === 'string') {
      for (let c = 0; c < v.length; c++) h = Math.imul(h ^ v.charCodeAt(c), 0x01000193);
    } else if (v !== null) {
      const text = v instanceof Date ? String(v.getTime()) : String(v);
      for (let c = 0; c < text.length; c++) h = Math.imul(h ^ text.charCodeAt(c), 0x01000193);
    }
    h = Math.imul(h ^ 0xff, 0x01000193);
  }
  return (digest + (Math.imul(h ^ (written ? 1 : 2), 0x01000193) >>> 0)) >>> 0;
}

/** One batch as it commits: where its rows are, the rows it quarantines, its checkpoint and the rest of its state. */
export interface BatchContent {
  readonly span: BatchSpan;
  readonly quarantine: readonly QuarantinedRow[];
  readonly checkpoint: Checkpoint;
  readonly state: BatchState | undefined;
}

/** How a refused row is quarantined: its entry (source key, displayable row) with the target's reason. */
export type QuarantineEntry = (source: Row, reason: Reason) => QuarantinedRow;

/** A deadlock with another transaction can come back on a retry; a few, then it is a failure. */
const CONFLICT_RETRIES = 3;

/** The target's reason for refusing a row, as a quarantine reason: the rule names the database's own code. */
export const refusalReason = (rejection: Rejection): Reason => ({
  field: rejection.field,
  rule: `target:${rejection.databaseCode}`,
  code: rejection.code,
});

/** Whether a quarantine reason is the target's refusal (rather than a rule of the plan's). */
export const isRefusal = (reason: Reason): boolean => reason.rule.startsWith('target:');

/**
 * Narrows a refused set of rows down to the rows the target refuses, by halves, each half in a savepoint of
 * one transaction. Rows are tried in read order, so of two rows that cannot both go in (one email twice
 * under a unique index) the first one read is written and the later one is refused.
 */
async function narrow(
  writer: BatchWriter,
  indexes: readonly number[],
  rows: PendingRows,
  refused: Map<number, Rejection>,
  retries = CONFLICT_RETRIES,
): Promise<void> {
  if (indexes.length === 0) return;
  const rejection = await writer.attempt(indexes.map((i) => rows.values[i]));
  if (!rejection) return;
  if (rejection.code === 'conflict') {
    if (retries === 0)
      throw new RowsRejected(
        'the target kept aborting the batch in conflicts with other transactions',
        rejection,
        undefined,
      );
    return narrow(writer, indexes, rows, refused, retries - 1);
  }
  if (indexes.length === 1) {
    refused.set(indexes[0], rejection);
    return;
  }
  const half = indexes.length >>> 1;
  await narrow(writer, indexes.slice(0, half), rows, refused);
  await narrow(writer, indexes.slice(half), rows, refused);
}

/**
 * Writes these rows on an open writer, each group in a savepoint, leaving out the ones the target refuses:
 * for batches whose rows are not source rows (placeholders). Resolves to the refused rows' indexes.
 */
export async function writeAllBut(writer: BatchWriter, values: readonly Row[]): Promise<Map<number, Rejection>> {
  const rows = new PendingRows();
  for (const v of values) rows.push(v, v);
  const refused = new Map<number, Rejection>();
  await narrow(
    writer,
    values.map((_v, i) => i),
    rows,
    refused,
  );
  return refused;
}

/**
 * Writes a batch the target refused once more, on a writer of its own: every row but the refused ones, which
 * are quarantined with the target's reason, then the batch's checkpoint, counts moved from written to
 * quarantined, all in one transaction. Resolves to the number of rows refused.
 *
 * Call it with no other batch open: rows of an open batch could wait on the rows written again while the
 * engine waits on this commit, a deadlock the database cannot see.
 */
export async function writeRefusedBatch(
  target: Target,
  start: BatchStart,
  batch: Omit<BatchContent, 'span'>,
  rows: PendingRows,
  entry: QuarantineEntry,
  keyOf: (source: Row) => string,
): Promise<number> {
  const writer = await target.beginBatch(start);
  try {
    const refused = new Map<number, Rejection>();
    await narrow(
      writer,
      rows.values.map((_v, i) => i),
      rows,
      refused,
    );
    const quarantine = [...batch.quarantine];
    const refusedKeys = new Set<string>();
    for (const [i, rejection] of refused) {
      const source = rows.sources[i];
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

/** A batch's state without what it recorded for rows that were refused after all (crosswalk lines, records retried). */
function withoutKeys(state: BatchState | undefined, keys: ReadonlySet<string>): BatchState | undefined {
  if (!state || keys.size === 0) return state;
  const realized = state.realized && {
    ...state.realized,
    sourceKeys: state.realized.sourceKeys.filter((k) => !keys.has(k)),
  };
  const retried = state.retried && {
    ...state.retried,
    sourceKeys: state.retried.sourceKeys.filter((k) => !keys.has(k)),
  };
  return { ...state, crosswalk: state.crosswalk?.filter((c) => !keys.has(c.sourceKey)), realized, retried };
}
