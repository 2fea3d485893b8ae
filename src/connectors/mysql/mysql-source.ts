import type { Row, Value } from '../../values.js';
import type { Position, ReadRequest, Source, TableInfo, ChangeFeed } from '../contract.js';
import { MysqlChanges } from './mysql-changes.js';
import { KEYS_PER_STATEMENT, rangeWhere } from '../shared/keyset.js';
import { streamBatches } from '../shared/stream-batches.js';
import { describeTable, fromMysql, listTables, q } from './mysql-catalog.js';
import { connect, mysqlFailure, type MysqlEndpoint, type MysqlSession } from './mysql-client.js';

/**
 * A text column's values compared by code point, whatever its character set: a `_bin` collation where its byte
 * order is code-point order (UTF-8 of either width, ASCII); otherwise (latin1 is cp1252 here, whose € sorts
 * below é by byte) the value converted to utf8mb4 first. Legacy CRMs (SugarCRM, SuiteCRM, vtiger) install
 * utf8mb3 tables with char(36) keys, which `COLLATE utf8mb4_bin` alone cannot read.
 */
function byCodePoint(column: string, charset: string | undefined): string {
  switch (charset) {
    case undefined:
    case 'utf8mb4':
      return `${q(column)} COLLATE utf8mb4_bin`;
    case 'utf8':
    case 'utf8mb3':
      return `${q(column)} COLLATE utf8mb3_bin`;
    case 'ascii':
      return `${q(column)} COLLATE ascii_bin`;
    default:
      return `CONVERT(${q(column)} USING utf8mb4) COLLATE utf8mb4_bin`;
  }
}

/** Order columns as SQL: text compared by code point, as the contract asks. */
export function orderColumns(info: TableInfo | undefined, key: readonly string[]): string[] {
  return key.map((k) => {
    const column = info?.columns.find((c) => c.name === k);
    return column?.type === 'text' ? byCodePoint(k, column.charset) : q(k);
  });
}

export function positionWhere(
  info: TableInfo | undefined,
  position: Position | undefined,
): { where: string; values: Value[] } {
  if (!position) return { where: '', values: [] };
  const through = position.through ?? [];
  return {
    where: rangeWhere(orderColumns(info, position.key), position.after, through, () => '?'),
    values: [...position.after, ...through],
  };
}

/**
 * One `SELECT … ORDER BY key` streamed on its own read-only connection (InnoDB gives the statement one
 * consistent snapshot); the socket is paused while the consumer is behind.
 */
export async function* streamRows(
  target: MysqlEndpoint,
  info: TableInfo | undefined,
  request: ReadRequest,
  failureCode: 'E_SOURCE' | 'E_TARGET',
): AsyncIterable<Row[]> {
  const convert = request.columns.map((c) => fromMysql(info?.columns.find((col) => col.name === c)?.type ?? 'text'));
  const session = await connect(target, { readOnly: true });
  const { where, values } = positionWhere(info, {
    key: request.key,
    after: request.after ?? [],
    through: request.through,
  });
  const sql = `SELECT ${request.columns.map(q).join(', ')} FROM ${q(request.table)} ${where} ORDER BY ${orderColumns(info, request.key).join(', ')}`;
  try {
    const stream = session.raw
      .query({ sql, values, rowsAsArray: true })
      .stream({ highWaterMark: request.batchSize * 2 });
    const decode = (raw: unknown[], push: (row: Row) => void) => {
      const row: Row = new Array(raw.length);
      for (let i = 0; i < raw.length; i++) row[i] = convert[i](raw[i] ?? null);
      push(row);
    };
    yield* streamBatches(stream, decode, request.batchSize);
  } catch (error) {
    throw mysqlFailure(failureCode, `reading ${request.table} failed`, error);
  } finally {
    // A consumer that stops early leaves the result half-read: closing the connection is the clean way out.
    session.raw.destroy();
  }
}

export class MysqlSource implements Source {
  readonly display: string;
  readonly snapshotReads = true;
  readonly rangeReads = true;
  readonly #endpoint: MysqlEndpoint;
  readonly #session: MysqlSession;

  constructor(endpoint: MysqlEndpoint, session: MysqlSession, display: string) {
    this.#endpoint = endpoint;
    this.#session = session;
    this.display = display;
  }

  listTables(): Promise<string[]> {
    return listTables(this.#session.db);
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return describeTable(this.#session.db, table);
  }

  async count(table: string, position?: Position): Promise<number> {
    const { where, values } = positionWhere(position && (await this.describe(table)), position);
    return Number(
      (await this.#one(`counting the rows of ${table}`, `SELECT count(*) FROM ${q(table)} ${where}`, values))[0] ?? 0,
    );
  }

  async countNull(table: string, column: string): Promise<number> {
    return Number(
      (
        await this.#one(
          `counting the empty ${column} of ${table}`,
          `SELECT count(*) FROM ${q(table)} WHERE ${q(column)} IS NULL`,
        )
      )[0] ?? 0,
    );
  }

  async maxLengths(table: string, columns: readonly string[]): Promise<Record<string, number>> {
    if (columns.length === 0) return {};
    const row = await this.#one(
      `measuring the columns of ${table}`,
      `SELECT ${columns.map((c) => `COALESCE(MAX(CHAR_LENGTH(${q(c)})), 0)`).join(', ')} FROM ${q(table)}`,
    );
    return Object.fromEntries(columns.map((c, i) => [c, Number(row[i] ?? 0)]));
  }

  async lookup(table: string, key: string, values: readonly Value[], columns: readonly string[]): Promise<Row[]> {
    const info = await this.describe(table);
    const convert = [key, ...columns].map((c) =>
      fromMysql(info?.columns.find((col) => col.name === c)?.type ?? 'text'),
    );
    const rows: Row[] = [];
    for (let at = 0; at < values.length; at += KEYS_PER_STATEMENT) {
      const chunk = values.slice(at, at + KEYS_PER_STATEMENT).map((v) => (typeof v === 'bigint' ? v.toString() : v));
      try {
        const [found] = await this.#session.db.query({
          sql: `SELECT ${[key, ...columns].map(q).join(', ')} FROM ${q(table)} WHERE ${q(key)} IN (?)`,
          values: [chunk],
          rowsAsArray: true,
        });
        for (const r of found as unknown[][]) rows.push(r.map((v, i) => convert[i](v ?? null)));
      } catch (error) {
        throw mysqlFailure('E_SOURCE', `looking up rows of ${table} failed`, error);
      }
    }
    return rows;
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    yield* streamRows(this.#endpoint, await this.describe(request.table), request, 'E_SOURCE');
  }

  changes(): ChangeFeed {
    return new MysqlChanges(this.#endpoint, this.#session);
  }

  async close(): Promise<void> {
    await this.#session.db.end();
  }

  async #one(what: string, sql: string, values: Value[] = []): Promise<unknown[]> {
    try {
      const [rows] = await this.#session.db.query({ sql, values, rowsAsArray: true });
      return (rows as unknown[][])[0] ?? [];
    } catch (error) {
      throw mysqlFailure('E_SOURCE', `${what} failed`, error);
    }
  }
}
