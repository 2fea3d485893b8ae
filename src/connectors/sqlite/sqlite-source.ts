import type Database from 'better-sqlite3';
import type { Row } from '../../values.js';
import type { ReadRequest, Source, TableInfo } from '../contract.js';
import { describeTable, fromSqlite, listTables, q, toSqlite } from './sqlite-database.js';

export class SqliteSource implements Source {
  readonly display: string;
  readonly #db: Database.Database;

  constructor(db: Database.Database, display: string) {
    this.#db = db;
    this.display = display;
  }

  listTables(): Promise<string[]> {
    return Promise.resolve(listTables(this.#db));
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return Promise.resolve(describeTable(this.#db, table));
  }

  count(table: string): Promise<number> {
    return Promise.resolve(Number(this.#db.prepare(`SELECT count(*) FROM ${q(table)}`).pluck().get()));
  }

  /** Keyset pages (`WHERE key > last ORDER BY key LIMIT n`): each page is one short read, nothing held open. */
  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    const keys = request.key.map(q);
    const keyList = keys.length === 1 ? (keys[0] ?? '') : `(${keys.join(', ')})`;
    const marks = keys.length === 1 ? '?' : `(${keys.map(() => '?').join(', ')})`;
    const select = `SELECT ${request.columns.map(q).join(', ')} FROM ${q(request.table)}`;
    const first = this.#db.prepare(`${select} ORDER BY ${keys.join(', ')} LIMIT ?`).raw(true);
    const next = this.#db.prepare(`${select} WHERE ${keyList} > ${marks} ORDER BY ${keys.join(', ')} LIMIT ?`).raw(true);
    const keyIndexes = request.key.map((k) => request.columns.indexOf(k));
    let after = request.after;
    for (;;) {
      const raw = (after ? next.all(...after.map((v) => toSqlite(v as Row[number])), request.batchSize) : first.all(request.batchSize)) as unknown[][];
      if (raw.length === 0) return;
      const rows: Row[] = raw.map((r) => r.map(fromSqlite));
      const last = rows[rows.length - 1] as Row;
      after = keyIndexes.map((i) => last[i] ?? null);
      yield rows;
      if (raw.length < request.batchSize) return;
    }
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}
