import { createHash } from 'node:crypto';
import type { Row } from '../../values.js';
import type {
  BatchStart,
  BatchWriter,
  ForeignKey,
  LockHolder,
  ReadRequest,
  StateStore,
  TableInfo,
  TableSpec,
  Target,
  TargetCapabilities,
} from '../contract.js';
import { SqlStateStore, UNKNOWN_HOLDER, withOwnLookups, type SqlSession } from '../shared/sql-state-store.js';
import { describeTable, foreignKeys, listTables, nativeTypeOf, q } from './mysql-catalog.js';
import { connect, mysqlFailure, type MysqlEndpoint, type MysqlSession } from './mysql-client.js';
import { beginMysqlBatch } from './mysql-batch-writer.js';
import { streamRows } from './mysql-source.js';

const STATE_DIALECT = {
  setup: [],
  table: (name: string) => q(`_crm_migrate_${name}`),
  param: () => '?',
  bigint: 'BIGINT',
  float: 'DOUBLE',
  json: 'LONGTEXT',
  // Indexed text must be VARCHAR (three of them fit InnoDB's 3,072-byte key: a source key of up to 255
  // characters); binary collation, so keys differing only in case stay apart.
  keyText: 'VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
  isMissingTable: (error: unknown) => (error as { errno?: number }).errno === 1146,
  newKeyIndex: `CREATE INDEX IF NOT EXISTS _crm_migrate_crosswalk_new_key ON ${q('_crm_migrate_crosswalk')} (plan, entity, new_key(191))`,
  upsert: (_keys: readonly string[], columns: readonly string[]) =>
    `ON DUPLICATE KEY UPDATE ${columns.map((c) => `${c} = VALUES(${c})`).join(', ')}`,
  increment: (_keys: readonly string[], counter: string, column: string) =>
    `ON DUPLICATE KEY UPDATE ${counter} = ${counter} + 1, ${column} = VALUES(${column})`,
  forShare: ' LOCK IN SHARE MODE',
};

export class MysqlTarget implements Target {
  readonly display: string;
  readonly capabilities: TargetCapabilities = {
    transactionalDdl: false,
    bulkLoad: false,
    overlappingBatches: false,
    updates: true,
    concurrentWriters: true,
    identifierLimit: { max: 64, unit: 'characters' },
  };
  readonly state: StateStore;
  readonly #endpoint: MysqlEndpoint;
  readonly #session: MysqlSession;
  readonly #store: SqlStateStore;
  readonly #readOnly: boolean;
  #lookups: MysqlSession | undefined;

  constructor(endpoint: MysqlEndpoint, session: MysqlSession, display: string, readOnly: boolean) {
    this.#endpoint = endpoint;
    this.#session = session;
    this.display = display;
    this.#readOnly = readOnly;
    this.#store = new SqlStateStore(objectRows(session), STATE_DIALECT);
    this.state = withOwnLookups(
      this.#store,
      async () => new SqlStateStore(objectRows((this.#lookups = await connect(endpoint))), STATE_DIALECT),
    );
  }

  listTables(): Promise<string[]> {
    return listTables(this.#session.db);
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return describeTable(this.#session.db, table);
  }

  foreignKeys(table: string): Promise<ForeignKey[]> {
    return foreignKeys(this.#session.db, table);
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
    const columns = spec.columns.map(
      (c) =>
        `${q(c.name)} ${nativeTypeOf(c.type, c.maxLength, spec.primaryKey.includes(c.name))}${c.nullable ? '' : ' NOT NULL'}`,
    );
    if (spec.primaryKey.length > 0) columns.push(`PRIMARY KEY (${spec.primaryKey.map(q).join(', ')})`);
    try {
      // Binary collation: text compares by code point, as in PostgreSQL's and SQLite's tables.
      await this.#session.db.query(
        `CREATE TABLE ${q(spec.name)} (\n  ${columns.join(',\n  ')}\n) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`,
      );
    } catch (error) {
      throw mysqlFailure('E_TARGET', `creating table ${spec.name} failed`, error);
    }
  }

  async beginBatch(start: BatchStart): Promise<BatchWriter> {
    this.#writable();
    const info = await this.describe(start.table);
    const types = start.columns.map((c) => info?.columns.find((col) => col.name === c)?.type ?? 'text');
    const enumColumns = new Set(info?.columns.filter((c) => /^(enum|set)\b/i.test(c.nativeType)).map((c) => c.name));
    return beginMysqlBatch(this.#session, this.#store, start, types, enumColumns);
  }

  async lockRun(plan: string, me: LockHolder, wait: boolean): Promise<LockHolder | undefined> {
    this.#writable();
    // GET_LOCK names are server-wide and at most 64 characters: the database and plan, digested.
    const [[database]] = (await this.#session.db.query({ sql: 'SELECT DATABASE()', rowsAsArray: true }))[0] as [
      [string],
    ];
    const name = `crm_migrate_${createHash('sha1').update(`${database}\0${plan}`).digest('hex')}`;
    for (;;) {
      const [[got]] = (
        await this.#session.db.query({ sql: 'SELECT GET_LOCK(?, ?)', rowsAsArray: true }, [name, wait ? 10 : 0])
      )[0] as [[number]];
      if (Number(got) === 1) break;
      if (!wait) return (await this.#store.lockHolder(plan)) ?? UNKNOWN_HOLDER;
    }
    await this.#store.holdLock(plan, me);
    return undefined;
  }

  async reset(plan: string, tables: readonly string[]): Promise<void> {
    this.#writable();
    const { db } = this.#session;
    // DELETE, not TRUNCATE: TRUNCATE commits on its own in MySQL, and the reset must be one transaction.
    try {
      await db.query('START TRANSACTION');
      // Last loaded first: a table is emptied before the tables it references.
      for (const table of [...tables].reverse())
        if (await this.describe(table)) await db.query(`DELETE FROM ${q(table)}`);
      await this.#store.resetPlan(plan);
      await db.query('COMMIT');
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw mysqlFailure('E_TARGET', 'starting afresh failed', error);
    }
  }

  async close(): Promise<void> {
    await this.#lookups?.db.end();
    await this.#session.db.end();
  }

  #writable(): void {
    if (this.#readOnly)
      throw mysqlFailure('E_TARGET', 'writing', new Error('the target was opened for inspection only'));
  }
}

/** The state store's view of a session: rows as objects (the session's default is arrays, for the data path), none for a statement. */
function objectRows(session: MysqlSession): SqlSession {
  return {
    query: async (text, params = []) => {
      const [rows] = await session.db.query({ sql: text, values: params as unknown[], rowsAsArray: false });
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    },
  };
}
