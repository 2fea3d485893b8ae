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
      // Flowing mode with explicit pause/resume: measured ~40 % cheaper per chunk than `for await` on the
      // stream. Decoded rows wait in `rows`; past `limit` of them the socket is paused until they are taken.
      const limit = request.batchSize * 4;
      let rows: Row[] = [];
      let ended = false;
      let failure: unknown;
      let wake: (() => void) | undefined;
      const onRow = (row: Value[]) => rows.push(row);
      stream.on('data', (chunk: Buffer) => {
        try {
          decoder.push(chunk, onRow);
        } catch (error) {
          failure ??= error;
        }
        if (rows.length >= limit) stream.pause();
        wake?.();
      });
      stream.on('end', () => {
        ended = true;
        wake?.();
      });
      stream.on('error', (error: unknown) => {
        failure ??= error;
        wake?.();
      });
      for (;;) {
        if (failure) throw failure;
        if (rows.length > 0) {
          const taken = rows;
          rows = [];
          if (stream.isPaused() && !ended) stream.resume();
          for (let at = 0; at < taken.length; at += request.batchSize) yield taken.length <= request.batchSize ? taken : taken.slice(at, at + request.batchSize);
          continue;
        }
        if (ended) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
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
