import type pg from 'pg';
import type { Row, Value } from '../../values.js';
import type { ChangeFeed, Position, ReadRequest, Source, TableInfo } from '../contract.js';
import { PostgresChanges } from './postgres-changes.js';
import { quoteIdentifier } from '../shared/identifiers.js';
import { KEYS_PER_STATEMENT } from '../shared/keyset.js';
import { describeTable, fieldParser, listTables, qualified } from './postgres-catalog.js';
import { pgFailure, type PgEndpoint } from './postgres-client.js';
import { copyOut, positionWhere } from './postgres-read.js';

export class PostgresSource implements Source {
  readonly display: string;
  readonly snapshotReads = true;
  readonly rangeReads = true;
  readonly #url: PgEndpoint;
  readonly #client: pg.Client;

  constructor(url: PgEndpoint, client: pg.Client, display: string) {
    this.#url = url;
    this.#client = client;
    this.display = display;
  }

  listTables(): Promise<string[]> {
    return listTables(this.#client);
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return describeTable(this.#client, table);
  }

  async count(table: string, position?: Position): Promise<number> {
    const where = positionWhere(this.#client, position && (await this.describe(table)), position);
    const row = await this.#one(
      `counting the rows of ${table}`,
      `SELECT count(*) AS n FROM ${qualified(table)} ${where}`,
    );
    return Number(row.n ?? 0);
  }

  async countNull(table: string, column: string): Promise<number> {
    const row = await this.#one(
      `counting the empty ${column} of ${table}`,
      `SELECT count(*) AS n FROM ${qualified(table)} WHERE ${quoteIdentifier(column)} IS NULL`,
    );
    return Number(row.n ?? 0);
  }

  async maxLengths(table: string, columns: readonly string[]): Promise<Record<string, number>> {
    if (columns.length === 0) return {};
    const select = columns
      .map((c, i) => `COALESCE(max(char_length(${quoteIdentifier(c)}::text)), 0) AS m${i}`)
      .join(', ');
    const row = await this.#one(`measuring the columns of ${table}`, `SELECT ${select} FROM ${qualified(table)}`);
    return Object.fromEntries(columns.map((c, i) => [c, Number(row[`m${i}`] ?? 0)]));
  }

  /** One row of an aggregate query; a failure names what was being done (and the SQLSTATE), never a value. */
  async #one(what: string, sql: string): Promise<Record<string, unknown>> {
    try {
      return (await this.#client.query<Record<string, unknown>>(sql)).rows[0] ?? {};
    } catch (error) {
      throw pgFailure('E_SOURCE', `${what} failed`, error);
    }
  }

  async lookup(table: string, key: string, values: readonly Value[], columns: readonly string[]): Promise<Row[]> {
    const info = await this.describe(table);
    const parsers = [key, ...columns].map((c) =>
      fieldParser(info?.columns.find((col) => col.name === c)?.type ?? 'text'),
    );
    const rows: Row[] = [];
    for (let at = 0; at < values.length; at += KEYS_PER_STATEMENT) {
      const chunk = values.slice(at, at + KEYS_PER_STATEMENT).map((v) => (typeof v === 'bigint' ? v.toString() : v));
      // Text out, like COPY: the same parsers turn it into values, so a joined value reads as a read one does.
      const sql = `SELECT ${[key, ...columns].map((c) => `${quoteIdentifier(c)}::text`).join(', ')} FROM ${qualified(table)} WHERE ${quoteIdentifier(key)} IN (${chunk.map((_v, i) => `$${i + 1}`).join(', ')})`;
      try {
        const result = await this.#client.query({ text: sql, values: chunk, rowMode: 'array' });
        for (const r of result.rows as (string | null)[][])
          rows.push(r.map((v, i) => (v === null ? null : parsers[i](v))));
      } catch (error) {
        throw pgFailure('E_SOURCE', `looking up rows of ${table} failed`, error);
      }
    }
    return rows;
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    yield* copyOut(this.#url, await this.describe(request.table), request, 'E_SOURCE');
  }

  changes(): ChangeFeed {
    return new PostgresChanges(this.#url, this.#client);
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}
