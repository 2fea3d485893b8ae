import type Database from 'better-sqlite3';
import type { Row } from '../../values.js';
import type { Position, ReadRequest, Source, TableInfo } from '../contract.js';
import { describeTable, listTables, q } from './sqlite-database.js';
import { countAfter, readPages } from './sqlite-read.js';

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

  count(table: string, position?: Position): Promise<number> {
    return Promise.resolve(countAfter(this.#db, table, position));
  }

  countNull(table: string, column: string): Promise<number> {
    return Promise.resolve(Number(this.#db.prepare(`SELECT count(*) FROM ${q(table)} WHERE ${q(column)} IS NULL`).pluck().get()));
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    yield* readPages(this.#db, request);
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}
