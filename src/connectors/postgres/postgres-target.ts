import type pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BatchWrite, StateStore, TableInfo, TableSpec, Target, TargetCapabilities } from '../contract.js';
import { quoteIdentifier } from '../shared/identifiers.js';
import { SqlStateStore, type SqlSession } from '../shared/sql-state-store.js';
import { encodeRows } from './copy-text.js';
import { describeTable, nativeTypeOf, qualified } from './postgres-catalog.js';
import { pgFailure } from './postgres-client.js';

const STATE_DIALECT = {
  setup: ['CREATE SCHEMA IF NOT EXISTS _crm_migrate'],
  table: (name: string) => `_crm_migrate.${name}`,
  param: (i: number) => `$${i}`,
  bigint: 'bigint',
  json: 'jsonb',
};

export class PostgresTarget implements Target {
  readonly display: string;
  readonly capabilities: TargetCapabilities = { transactionalDdl: true, bulkLoad: true };
  readonly state: StateStore;
  readonly #client: pg.Client;
  readonly #store: SqlStateStore;
  readonly #readOnly: boolean;

  constructor(client: pg.Client, display: string, readOnly: boolean) {
    this.#client = client;
    this.display = display;
    this.#readOnly = readOnly;
    const session: SqlSession = {
      query: async (sql, params = []) => (await client.query(sql, params as unknown[])).rows as Record<string, unknown>[],
    };
    this.#store = new SqlStateStore(session, STATE_DIALECT);
    this.state = readOnly ? inspectOnlyState(this.#store, client) : this.#store;
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return describeTable(this.#client, table);
  }

  async prepare(): Promise<void> {
    await this.#transaction('creating the state tables', () => this.#store.ensure());
  }

  async createTable(spec: TableSpec): Promise<void> {
    const columns = spec.columns.map((c) => `${quoteIdentifier(c.name)} ${nativeTypeOf(c.type, c.maxLength)}${c.nullable ? '' : ' NOT NULL'}`);
    if (spec.primaryKey.length > 0) columns.push(`PRIMARY KEY (${spec.primaryKey.map((k) => quoteIdentifier(k)).join(', ')})`);
    await this.#transaction(`creating table ${spec.name}`, () => this.#client.query(`CREATE TABLE ${qualified(spec.name)} (\n  ${columns.join(',\n  ')}\n)`));
  }

  /** COPY for the rows (the bulk path), then the quarantine rows and the checkpoint, in one transaction. */
  async writeBatch(batch: BatchWrite): Promise<void> {
    await this.#transaction(`writing a batch to ${batch.table}`, async () => {
      if (batch.rows.length > 0) {
        const columns = batch.columns.map((c) => quoteIdentifier(c)).join(', ');
        const copy = this.#client.query(pgCopy.from(`COPY ${qualified(batch.table)} (${columns}) FROM STDIN`));
        await pipeline(Readable.from([encodeRows(batch.rows)]), copy);
      }
      await this.#store.writeBatchState(batch.runId, batch.quarantine, batch.checkpoint);
    });
  }

  async reset(plan: string, tables: readonly string[]): Promise<void> {
    await this.#transaction('starting afresh', async () => {
      for (const table of tables) if (await this.describe(table)) await this.#client.query(`TRUNCATE ${qualified(table)}`);
      await this.#store.resetPlan(plan);
    });
  }

  async close(): Promise<void> {
    await this.#client.end();
  }

  async #transaction<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.#readOnly) throw pgFailure('E_TARGET', what, new Error('the target was opened for inspection only'));
    try {
      await this.#client.query('BEGIN');
      const result = await work();
      await this.#client.query('COMMIT');
      return result;
    } catch (error) {
      await this.#client.query('ROLLBACK').catch(() => undefined);
      throw pgFailure('E_TARGET', `${what} failed`, error);
    }
  }
}

/** Reading state from a target being inspected: missing state tables read as "no runs yet". */
function inspectOnlyState(store: SqlStateStore, client: pg.Client): StateStore {
  const exists = async () => (await client.query(`SELECT to_regclass('_crm_migrate.runs') IS NOT NULL AS ok`)).rows[0]?.ok === true;
  return {
    latestRun: async (plan) => ((await exists()) ? store.latestRun(plan) : undefined),
    startRun: (run) => store.startRun(run),
    finishRun: (id, status) => store.finishRun(id, status),
    checkpoints: async (id) => ((await exists()) ? store.checkpoints(id) : []),
    quarantined: (id, entity) => store.quarantined(id, entity),
  };
}
