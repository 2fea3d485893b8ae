import type pg from 'pg';
import type { Row } from '../../values.js';
import type { Position, ReadRequest, Source, TableInfo } from '../contract.js';
import { quoteIdentifier } from '../shared/identifiers.js';
import { describeTable, listTables, qualified } from './postgres-catalog.js';
import { copyOut, positionWhere } from './postgres-read.js';

export class PostgresSource implements Source {
  readonly display: string;
  readonly snapshotReads = true;
  readonly #url: string;
  readonly #client: pg.Client;

  constructor(url: string, client: pg.Client, display: string) {
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
    const result = await this.#client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(table)} ${where}`);
    return Number(result.rows[0]?.n ?? 0);
  }

  async countNull(table: string, column: string): Promise<number> {
    const result = await this.#client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(table)} WHERE ${quoteIdentifier(column)} IS NULL`);
    return Number(result.rows[0]?.n ?? 0);
  }

  async maxLengths(table: string, columns: readonly string[]): Promise<Record<string, number>> {
    if (columns.length === 0) return {};
    const select = columns.map((c, i) => `COALESCE(max(char_length(${quoteIdentifier(c)}::text)), 0) AS m${i}`).join(', ');
    const row = (await this.#client.query<Record<string, number>>(`SELECT ${select} FROM ${qualified(table)}`)).rows[0] ?? {};
    return Object.fromEntries(columns.map((c, i) => [c, Number(row[`m${i}`] ?? 0)]));
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    yield* copyOut(this.#url, await this.describe(request.table), request, 'E_SOURCE');
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}
