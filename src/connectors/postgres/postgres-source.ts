import type pg from 'pg';
import pgCopy from 'pg-copy-streams';
import type { Row, Value } from '../../values.js';
import type { ReadRequest, Source, TableInfo } from '../contract.js';
import { quoteIdentifier } from '../shared/identifiers.js';
import { CopyTextDecoder } from './copy-text.js';
import { describeTable, fieldParser, listTables, qualified } from './postgres-catalog.js';
import { connect, pgFailure } from './postgres-client.js';

export class PostgresSource implements Source {
  readonly display: string;
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

  async count(table: string): Promise<number> {
    const result = await this.#client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(table)}`);
    return Number(result.rows[0]?.n ?? 0);
  }

  /**
   * One `COPY (SELECT … ORDER BY key) TO STDOUT` in a read-only, repeatable-read transaction on its own
   * connection: the database's fastest way out, one consistent snapshot, and the old CRM cannot be changed
   * through it. The socket is only read as fast as the consumer takes batches (stream backpressure).
   */
  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    const info = await this.describe(request.table);
    const parsers = request.columns.map((c) => fieldParser(info?.columns.find((col) => col.name === c)?.type ?? 'text'));
    const client = await connect(this.#url);
    const keys = request.key.map((k) => quoteIdentifier(k));
    let where = '';
    if (request.after) {
      // COPY takes no bind parameters: the resume key is a quoted literal (escapeLiteral), never spliced raw.
      const literals = request.after.map((v) => (v === null ? 'NULL' : client.escapeLiteral(String(v))));
      where = keys.length === 1 ? `WHERE ${keys[0]} > ${literals[0]}` : `WHERE (${keys.join(', ')}) > (${literals.join(', ')})`;
    }
    const sql = `COPY (SELECT ${request.columns.map((c) => quoteIdentifier(c)).join(', ')} FROM ${qualified(request.table)} ${where} ORDER BY ${keys.join(', ')}) TO STDOUT`;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const stream = client.query(pgCopy.to(sql));
      const decoder = new CopyTextDecoder(parsers);
      let rows: Row[] = [];
      const onRow = (row: Value[]) => rows.push(row);
      // Rows are handed on as each network chunk is decoded (a few hundred at a time), never more than batchSize.
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        decoder.push(chunk, onRow);
        for (let at = 0; at < rows.length; at += request.batchSize) yield rows.length <= request.batchSize ? rows : rows.slice(at, at + request.batchSize);
        rows = [];
      }
      decoder.end();
      await client.query('COMMIT');
    } catch (error) {
      throw pgFailure('E_SOURCE', `reading ${request.table} failed`, error);
    } finally {
      // A consumer that stops early leaves the COPY half-read: closing the connection is the clean way out.
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}
