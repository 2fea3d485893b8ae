import type pg from 'pg';
import { CopyOutStream } from './copy-out-stream.js';
import type { Row } from '../../values.js';
import type { Position, ReadRequest, TableInfo } from '../contract.js';
import { quoteIdentifier } from '../shared/identifiers.js';
import { rangeWhere } from '../shared/keyset.js';
import { streamBatches } from '../shared/stream-batches.js';
import { CopyTextDecoder } from './copy-text.js';
import { fieldParser, qualified } from './postgres-catalog.js';
import { connect, pgFailure, type PgEndpoint } from './postgres-client.js';

/**
 * Order columns as SQL: text compared by code point (`COLLATE "C"`), as the contract asks, whatever the
 * column's collation — a merge with another connector's stream must see the same order.
 */
function orderColumns(info: TableInfo | undefined, key: readonly string[]): string[] {
  return key.map((k) =>
    info?.columns.find((c) => c.name === k)?.type === 'text' ? `${quoteIdentifier(k)} COLLATE "C"` : quoteIdentifier(k),
  );
}

/** `WHERE (…) > (…) AND (…) <= (…)` for a position, with the values as escaped literals (COPY takes no bind parameters). */
export function positionWhere(client: pg.Client, info: TableInfo | undefined, position: Position | undefined): string {
  if (!position) return '';
  const literal = (v: unknown) => (v === null ? 'NULL' : client.escapeLiteral(String(v)));
  return rangeWhere(orderColumns(info, position.key), position.after, position.through ?? [], literal);
}

/**
 * One `COPY (SELECT … ORDER BY key) TO STDOUT` in a read-only, repeatable-read transaction on its own
 * connection: the database's fastest way out, one consistent snapshot, and nothing can be changed through
 * it. The socket is only read as fast as the consumer takes batches (stream backpressure).
 */
export async function* copyOut(
  url: PgEndpoint,
  info: TableInfo | undefined,
  request: ReadRequest,
  failureCode: 'E_SOURCE' | 'E_TARGET',
): AsyncIterable<Row[]> {
  const parsers = request.columns.map((c) => fieldParser(info?.columns.find((col) => col.name === c)?.type ?? 'text'));
  const client = await connect(url);
  const where = positionWhere(client, info, { key: request.key, after: request.after ?? [], through: request.through });
  const sql = `COPY (SELECT ${request.columns.map((c) => quoteIdentifier(c)).join(', ')} FROM ${qualified(request.table)} ${where} ORDER BY ${orderColumns(info, request.key).join(', ')}) TO STDOUT`;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const stream = client.query(new CopyOutStream(sql));
    const decoder = new CopyTextDecoder(parsers);
    yield* streamBatches(stream, (chunk: Buffer, push) => decoder.push(chunk, push), request.batchSize);
    decoder.end();
    await client.query('COMMIT');
  } catch (error) {
    throw pgFailure(failureCode, `reading ${request.table} failed`, error);
  } finally {
    // A consumer that stops early leaves the COPY half-read: closing the connection is the clean way out.
    await client.end().catch(() => undefined);
  }
}
