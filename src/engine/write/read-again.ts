import type { Source } from '../../connectors/contract.js';
import { CrmMigrateError } from '../../errors.js';
import type { Row } from '../../values.js';
import { chunkMapperFor, type MappedChunk } from '../map/chunk-mapper.js';
import type { RefResolver } from '../relations/refs.js';
import type { BoundEntity } from '../schema-check.js';
import { EMPTY_DIGEST, foldKey, PendingRows, type BatchSpan } from './refused-rows.js';

/** Source rows are pulled in chunks of at most this many; a batch (one transaction) spans several chunks. */
export const READ_CHUNK = 500;

/**
 * Reads a batch's span from the source again and maps it as the load did: the rows its writer was given, to
 * find the ones the target refused. A source that changed in between (other rows, or rows that now map
 * otherwise: the span's counts and key digest differ) fails the load; its checkpoint has not moved, so running
 * again reads the batch afresh.
 */
export function spanReader(options: {
  source: Source;
  entity: BoundEntity;
  order: readonly string[];
  /** The entity's `where:`: the clause a row fails, or undefined for a row it keeps. */
  filter: ((row: Row) => string | undefined) | undefined;
  resolve: RefResolver | undefined;
  /** The values a mapped row is written as, or undefined for a row not written (quarantined or merged). */
  writtenValues: (row: Row, mapped: Row | null | undefined) => Row | undefined;
}): (span: BatchSpan) => Promise<PendingRows> {
  const { source, entity, order, filter, resolve, writtenValues } = options;
  const { plan } = entity;
  const keyIndexes = plan.key.map((k) => entity.sourceColumns.indexOf(k));
  let mapAgain: ((rows: Row[]) => MappedChunk) | undefined;
  return async (span) => {
    mapAgain ??= chunkMapperFor(entity);
    const rows = new PendingRows();
    let read = 0;
    let digest = EMPTY_DIGEST;
    for await (const chunk of source.read({
      table: plan.from,
      columns: entity.readColumns,
      key: [...order],
      after: span.after === null ? undefined : (span.after as Row),
      batchSize: Math.min(plan.batchSize, READ_CHUNK),
    })) {
      const taken = chunk.length > span.read - read ? chunk.slice(0, span.read - read) : chunk;
      read += taken.length;
      const kept: Row[] = [];
      for (const row of taken) {
        if (filter?.(row) === undefined) kept.push(row);
        else digest = foldKey(digest, row, keyIndexes, false);
      }
      if (resolve) await resolve(kept);
      const mapped = mapAgain(kept);
      kept.forEach((row, i) => {
        const values = writtenValues(row, mapped.values[i]);
        if (values) rows.push(values, row);
        digest = foldKey(digest, row, keyIndexes, values !== undefined);
      });
      if (read >= span.read) break;
    }
    if (read !== span.read || rows.length !== span.written || digest !== span.digest) {
      throw new CrmMigrateError(
        'E_SOURCE',
        `${plan.from} changed while a batch of ${plan.name} the target refused was read again to find the refused rows`,
        { hint: 'run again: the batch was not committed, and the run resumes from its last checkpoint' },
      );
    }
    return rows;
  };
}
