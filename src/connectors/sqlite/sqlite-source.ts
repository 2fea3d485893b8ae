import type Database from 'better-sqlite3';
import type { Row, Value } from '../../values.js';
import type { Position, ReadRequest, Source, TableInfo } from '../contract.js';
import { KEYS_PER_STATEMENT } from '../shared/keyset.js';
import { describeTable, fromSqlite, listTables, q, toSqlite } from './sqlite-database.js';
import { countAfter, readPages } from './sqlite-read.js';

export class SqliteSource implements Source {
  readonly display: string;
  /**
   * In WAL mode a read transaction is a snapshot that blocks no writer, so a read holds one open. In the
   * other journal modes it would lock writers out of a live database for the whole load: reads page instead.
   */
  readonly snapshotReads: boolean;
  readonly rangeReads = true;
  readonly #db: Database.Database;

  constructor(db: Database.Database, display: string) {
    this.#db = db;
    this.display = display;
    this.snapshotReads = String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
  }

  listTables(): Promise<string[]> {
    return Promise.resolve(listTables(this.#db));
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return Promise.resolve(describeTable(this.#db, table));
  }

  count(table: string, position?: Position): Promise<number> {
    return Promise.resolve(countAfter(this.#db, table, position));
  }

  countNull(table: string, column: string): Promise<number> {
    return Promise.resolve(
      Number(
        this.#db
          .prepare(`SELECT count(*) FROM ${q(table)} WHERE ${q(column)} IS NULL`)
          .pluck()
          .get(),
      ),
    );
  }

  maxLengths(table: string, columns: readonly string[]): Promise<Record<string, number>> {
    if (columns.length === 0) return Promise.resolve({});
    const select = columns.map((c) => `COALESCE(max(length(CAST(${q(c)} AS TEXT))), 0)`).join(', ');
    const row = this.#db
      .prepare(`SELECT ${select} FROM ${q(table)}`)
      .raw(true)
      .get() as unknown[];
    return Promise.resolve(Object.fromEntries(columns.map((c, i) => [c, Number(row[i] ?? 0)])));
  }

  lookup(table: string, key: string, values: readonly Value[], columns: readonly string[]): Promise<Row[]> {
    const rows: Row[] = [];
    for (let at = 0; at < values.length; at += KEYS_PER_STATEMENT) {
      const chunk = values.slice(at, at + KEYS_PER_STATEMENT).map(toSqlite);
      const sql = `SELECT ${[key, ...columns].map(q).join(', ')} FROM ${q(table)} WHERE ${q(key)} IN (${chunk.map(() => '?').join(', ')})`;
      for (const r of this.#db
        .prepare(sql)
        .raw(true)
        .all(...chunk) as unknown[][])
        rows.push(r.map(fromSqlite));
    }
    return Promise.resolve(rows);
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    const snapshot = this.snapshotReads && !this.#db.inTransaction;
    if (snapshot) this.#db.exec('BEGIN');
    try {
      yield* readPages(this.#db, request);
    } finally {
      if (snapshot && this.#db.inTransaction) this.#db.exec('COMMIT');
    }
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}
