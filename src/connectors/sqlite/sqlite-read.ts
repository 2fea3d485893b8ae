import type Database from 'better-sqlite3';
import type { Row } from '../../values.js';
import type { Position, ReadRequest } from '../contract.js';
import { rangeWhere } from '../shared/keyset.js';
import { describeTable, fromSqlite, q, toSqlite } from './sqlite-database.js';

/**
 * Order columns as SQL: text compared bytewise (`COLLATE BINARY`), as the contract asks, even where a column
 * was declared `COLLATE NOCASE` — a merge with another connector's stream must see the same order.
 */
function orderColumns(db: Database.Database, table: string, key: readonly string[]): string[] {
  const info = describeTable(db, table);
  return key.map((k) => (info?.columns.find((c) => c.name === k)?.type === 'text' ? `${q(k)} COLLATE BINARY` : q(k)));
}

export function countAfter(db: Database.Database, table: string, position?: Position): number {
  const after = position?.after ?? [];
  const through = position?.through ?? [];
  const where = position ? rangeWhere(orderColumns(db, table, position.key), after, through, () => '?') : '';
  return Number(
    db
      .prepare(`SELECT count(*) FROM ${q(table)} ${where}`)
      .pluck()
      .get(...[...after, ...through].map(toSqlite)),
  );
}

/** Keyset pages (`WHERE key > last ORDER BY key LIMIT n`): each page is one short read, nothing held open. */
export function* readPages(db: Database.Database, request: ReadRequest): Iterable<Row[]> {
  const order = orderColumns(db, request.table, request.key);
  const select = `SELECT ${request.columns.map(q).join(', ')} FROM ${q(request.table)}`;
  const statements = new Map<number, Database.Statement>();
  const through = (request.through ?? []).map((v) => toSqlite(v));
  const page = (after: readonly unknown[]): unknown[][] => {
    let statement = statements.get(after.length);
    if (!statement) {
      const where = rangeWhere(order, after, through, () => '?');
      statement = db.prepare(`${select} ${where} ORDER BY ${order.join(', ')} LIMIT ?`).raw(true);
      statements.set(after.length, statement);
    }
    return statement.all(...after, ...through, request.batchSize) as unknown[][];
  };
  const keyIndexes = request.key.map((k) => request.columns.indexOf(k));
  let after: unknown[] = (request.after ?? []).map((v) => toSqlite(v));
  for (;;) {
    const raw = page(after);
    if (raw.length === 0) return;
    const rows: Row[] = raw.map((r) => r.map(fromSqlite));
    const last = rows[rows.length - 1];
    after = keyIndexes.map((i) => toSqlite(last[i] ?? null));
    yield rows;
    if (raw.length < request.batchSize) return;
  }
}
