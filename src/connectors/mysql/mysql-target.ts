import { TIMESTAMP_TEXT, zoneOffsetMinutes } from '../../timestamps.js';
import type { LogicalType, Row, Value } from '../../values.js';
import type { BatchStart, BatchWriter, Checkpoint, QuarantinedRow, QuarantineKey, ReadRequest, Removal, StateStore, TableInfo, TableSpec, Target, TargetCapabilities } from '../contract.js';
import { KEYS_PER_STATEMENT, keyInList } from '../shared/keyset.js';
import { SqlStateStore, type SqlSession } from '../shared/sql-state-store.js';
import { describeTable, listTables, nativeTypeOf, q } from './mysql-catalog.js';
import { mysqlFailure, type MysqlEndpoint, type MysqlSession } from './mysql-client.js';
import { streamRows } from './mysql-source.js';

const STATE_DIALECT = {
  setup: [],
  table: (name: string) => q(`_crm_migrate_${name}`),
  param: () => '?',
  bigint: 'BIGINT',
  json: 'LONGTEXT',
  // Indexed text must be VARCHAR (three of them fit InnoDB's 3,072-byte key: a source key of up to 255
  // characters); binary collation, so keys differing only in case stay apart.
  keyText: 'VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
  upsert: (_keys: readonly string[], columns: readonly string[]) => `ON DUPLICATE KEY UPDATE ${columns.map((c) => `${c} = VALUES(${c})`).join(', ')}`,
};

/** Rows per INSERT statement: well inside max_allowed_packet and the 65,535 placeholders of a statement. */
const ROWS_PER_INSERT = 500;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A timestamp as DATETIME takes it: UTC, a space, no zone. */
function datetime(value: Value): Value {
  if (value instanceof Date) return `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())} ${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}:${pad(value.getUTCSeconds())}.${pad(value.getUTCMilliseconds(), 3)}`;
  if (typeof value !== 'string') return value;
  const m = TIMESTAMP_TEXT.exec(value.trim());
  if (!m || !m[9]) return value.replace('T', ' ');
  const [, y, mo, d, , h, mi, s, fraction] = m;
  const utc = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)) - zoneOffsetMinutes(m[9]) * 60_000);
  return `${(datetime(utc) as string).slice(0, 19)}${fraction ?? ''}`;
}

/** Values as mysql2 should send them for a column of this type. */
function toMysql(type: LogicalType): (value: Value) => unknown {
  switch (type) {
    case 'timestamp':
      return datetime;
    case 'date':
      return (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v);
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
    default:
      return (v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v) : v);
  }
}

export class MysqlTarget implements Target {
  readonly display: string;
  readonly capabilities: TargetCapabilities = { transactionalDdl: false, bulkLoad: false, overlappingBatches: false };
  readonly state: StateStore;
  readonly #endpoint: MysqlEndpoint;
  readonly #session: MysqlSession;
  readonly #store: SqlStateStore;
  readonly #readOnly: boolean;

  constructor(endpoint: MysqlEndpoint, session: MysqlSession, display: string, readOnly: boolean) {
    this.#endpoint = endpoint;
    this.#session = session;
    this.display = display;
    this.#readOnly = readOnly;
    // Rows as objects here (the session's default is arrays, for the data path); a statement's result is no rows.
    const sql: SqlSession = { query: async (text, params = []) => normalize((await session.db.query({ sql: text, values: params as unknown[], rowsAsArray: false }))[0]) };
    this.#store = new SqlStateStore(sql, STATE_DIALECT);
    this.state = this.#store;
  }

  listTables(): Promise<string[]> {
    return listTables(this.#session.db);
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return describeTable(this.#session.db, table);
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    yield* streamRows(this.#endpoint, await this.describe(request.table), request, 'E_TARGET');
  }

  async prepare(): Promise<void> {
    this.#writable();
    try {
      await this.#store.ensure();
    } catch (error) {
      throw mysqlFailure('E_TARGET', 'creating the state tables failed', error);
    }
  }

  async createTable(spec: TableSpec): Promise<void> {
    this.#writable();
    const columns = spec.columns.map((c) => `${q(c.name)} ${nativeTypeOf(c.type, c.maxLength, spec.primaryKey.includes(c.name))}${c.nullable ? '' : ' NOT NULL'}`);
    if (spec.primaryKey.length > 0) columns.push(`PRIMARY KEY (${spec.primaryKey.map(q).join(', ')})`);
    try {
      // Binary collation: text compares by code point, as in PostgreSQL's and SQLite's tables.
      await this.#session.db.query(`CREATE TABLE ${q(spec.name)} (\n  ${columns.join(',\n  ')}\n) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`);
    } catch (error) {
      throw mysqlFailure('E_TARGET', `creating table ${spec.name} failed`, error);
    }
  }

  async beginBatch(start: BatchStart): Promise<BatchWriter> {
    this.#writable();
    const info = await this.describe(start.table);
    const convert = start.columns.map((c) => toMysql(info?.columns.find((col) => col.name === c)?.type ?? 'text'));
    const { db } = this.#session;
    const store = this.#store;
    const into = `INSERT INTO ${q(start.table)} (${start.columns.map(q).join(', ')}) VALUES ?`;
    const rest = start.upsertKey ? start.columns.filter((c) => !start.upsertKey?.includes(c)) : [];
    // An upsert on an unchanged row changes nothing: MySQL leaves a row alone when the new values equal it.
    const sql = start.upsertKey ? `${into} ${rest.length === 0 ? `ON DUPLICATE KEY UPDATE ${q(start.upsertKey[0] as string)} = ${q(start.upsertKey[0] as string)}` : STATE_DIALECT.upsert([], rest.map(q))}` : into;
    await db.query('START TRANSACTION');
    let pending: unknown[][] = [];
    const fail = (what: string, error: unknown) => mysqlFailure('E_TARGET', `${what} ${start.table} failed`, error);
    const send = async () => {
      while (pending.length > 0) {
        const rows = pending.slice(0, ROWS_PER_INSERT);
        pending = pending.slice(ROWS_PER_INSERT);
        await db.query(sql, [rows]);
      }
    };
    const rollback = () => db.query('ROLLBACK').then(() => undefined, () => undefined);
    return {
      add(row: Row) {
        const out = new Array(row.length);
        for (let i = 0; i < row.length; i++) out[i] = (convert[i] as (v: Value) => unknown)(row[i] ?? null);
        pending.push(out);
      },
      async flush() {
        try {
          await send();
        } catch (error) {
          await rollback();
          throw fail('writing a batch to', error);
        }
      },
      async remove(keys: readonly Row[], how: Removal) {
        const columns = how.key.map(q);
        let changed = 0;
        try {
          for (let at = 0; at < keys.length; at += KEYS_PER_STATEMENT) {
            const chunk = keys.slice(at, at + KEYS_PER_STATEMENT);
            const match = keyInList(columns, chunk.length, () => '?');
            const params = chunk.flat().map((v) => (typeof v === 'bigint' ? v.toString() : v));
            const tomb = how.tombstone;
            const [result] = tomb
              ? await db.query(`UPDATE ${q(start.table)} SET ${q(tomb.column)} = ? WHERE ${q(tomb.column)} IS NULL AND ${match}`, [datetime(tomb.at), ...params])
              : await db.query(`DELETE FROM ${q(start.table)} WHERE ${match}`, params);
            changed += (result as { affectedRows?: number }).affectedRows ?? 0;
          }
        } catch (error) {
          await rollback();
          throw fail('removing rows from', error);
        }
        return changed;
      },
      async commit(quarantine: readonly QuarantinedRow[], checkpoint: Checkpoint, released?: readonly QuarantineKey[]) {
        try {
          await send();
          await store.writeBatchState(start.runId, quarantine, checkpoint, released);
          await db.query('COMMIT');
        } catch (error) {
          await rollback();
          throw fail('writing a batch to', error);
        }
      },
      abort: rollback,
    };
  }

  async reset(plan: string, tables: readonly string[]): Promise<void> {
    this.#writable();
    const { db } = this.#session;
    // DELETE, not TRUNCATE: TRUNCATE commits on its own in MySQL, and the reset must be one transaction.
    try {
      await db.query('START TRANSACTION');
      for (const table of tables) if (await this.describe(table)) await db.query(`DELETE FROM ${q(table)}`);
      await this.#store.resetPlan(plan);
      await db.query('COMMIT');
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw mysqlFailure('E_TARGET', 'starting afresh failed', error);
    }
  }

  async close(): Promise<void> {
    await this.#session.db.end();
  }

  #writable(): void {
    if (this.#readOnly) throw mysqlFailure('E_TARGET', 'writing', new Error('the target was opened for inspection only'));
  }
}

/** A SELECT's rows, or none for a statement (mysql2 answers those with a result header). */
function normalize(rows: unknown): Record<string, unknown>[] {
  return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
}
