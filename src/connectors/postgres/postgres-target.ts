import type pg from 'pg';
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
import { quoteIdentifier } from '../shared/identifiers.js';
import {
  onConflict,
  onConflictIncrement,
  SqlStateStore,
  UNKNOWN_HOLDER,
  withOwnLookups,
  type SqlSession,
} from '../shared/sql-state-store.js';
import { PostgresBatchWriter } from './postgres-batch-writer.js';
import { describeTable, foreignKeys, listTables, nativeTypeOf, qualified } from './postgres-catalog.js';
import { connect, pgFailure, type PgEndpoint } from './postgres-client.js';
import { copyOut } from './postgres-read.js';

const STATE_DIALECT = {
  setup: ['CREATE SCHEMA IF NOT EXISTS _crm_migrate'],
  table: (name: string) => `_crm_migrate.${name}`,
  param: (i: number) => `$${i}`,
  bigint: 'bigint',
  float: 'double precision',
  json: 'jsonb',
  // Keys compared byte by byte: the crosswalk's indexes took a quarter longer to fill under the database's collation.
  keyText: 'TEXT COLLATE "C"',
  newKeyText: 'TEXT COLLATE "C"',
  // Only the lines whose target key differs from their source key (new_id, composite keys): see newKeyIndexSkipsCopies.
  newKeyIndex:
    'CREATE INDEX IF NOT EXISTS crosswalk_new_key_moved ON _crm_migrate.crosswalk (plan, entity, new_key) WHERE new_key <> source_key',
  newKeyIndexSkipsCopies: true,
  isMissingTable: (error: unknown) => (error as { code?: string }).code === '42P01',
  upsert: onConflict,
  increment: onConflictIncrement('_crm_migrate.fences'),
  forShare: ' FOR SHARE',
  analyze: ['ANALYZE _crm_migrate.crosswalk'],
  textArrays: (columns: number) =>
    `unnest(${Array.from({ length: columns }, (_c, i) => `$${i + 1}::text[]`).join(', ')})`,
};

export class PostgresTarget implements Target {
  readonly display: string;
  readonly capabilities: TargetCapabilities = {
    transactionalDdl: true,
    bulkLoad: true,
    overlappingBatches: true,
    updates: true,
    concurrentWriters: true,
    identifierLimit: { max: 63, unit: 'bytes' },
  };
  readonly state: StateStore;
  readonly #url: PgEndpoint;
  readonly #client: pg.Client;
  readonly #store: SqlStateStore;
  readonly #readOnly: boolean;
  #lookupClient: pg.Client | undefined;
  /** Connections for batches, each with the state store that writes through it; at most two. */
  readonly #batchConnections: { client: pg.Client; store: SqlStateStore; busy: boolean }[] = [];

  constructor(url: PgEndpoint, client: pg.Client, display: string, readOnly: boolean) {
    this.#url = url;
    this.#client = client;
    this.display = display;
    this.#readOnly = readOnly;
    this.#store = stateStore(client);
    this.state = readOnly
      ? inspectOnlyState(this.#store, client)
      : withOwnLookups(this.#store, async () => stateStore((this.#lookupClient = await connect(url))));
  }

  listTables(): Promise<string[]> {
    return listTables(this.#client);
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return describeTable(this.#client, table);
  }

  foreignKeys(table: string): Promise<ForeignKey[]> {
    return foreignKeys(this.#client, table);
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    yield* copyOut(this.#url, await this.describe(request.table), request, 'E_TARGET');
  }

  async prepare(): Promise<void> {
    await this.#transaction('creating the state tables', () => this.#store.ensure());
  }

  async createTable(spec: TableSpec): Promise<void> {
    const columns = spec.columns.map(
      (c) => `${quoteIdentifier(c.name)} ${nativeTypeOf(c.type, c.maxLength)}${c.nullable ? '' : ' NOT NULL'}`,
    );
    if (spec.primaryKey.length > 0)
      columns.push(`PRIMARY KEY (${spec.primaryKey.map((k) => quoteIdentifier(k)).join(', ')})`);
    await this.#transaction(`creating table ${spec.name}`, () =>
      this.#client.query(`CREATE TABLE ${qualified(spec.name)} (\n  ${columns.join(',\n  ')}\n)`),
    );
  }

  async beginBatch(start: BatchStart): Promise<BatchWriter> {
    if (this.#readOnly) throw pgFailure('E_TARGET', 'writing', new Error('the target was opened for inspection only'));
    let connection = this.#batchConnections.find((c) => !c.busy);
    if (!connection) {
      if (this.#batchConnections.length >= 2) throw new Error('at most two batches can be open at once');
      // The first batch connection is the target's own; a second one opens when batches overlap.
      const client = this.#batchConnections.length === 0 ? this.#client : await connect(this.#url);
      connection = {
        client,
        store: this.#batchConnections.length === 0 ? this.#store : stateStore(client),
        busy: false,
      };
      this.#batchConnections.push(connection);
    }
    const used = connection;
    used.busy = true;
    const writer = PostgresBatchWriter.begin(used.client, used.store, start, () => (used.busy = false));
    if (start.fence) {
      // Before any row: a worker that lost its chunk writes nothing (see SqlStateStore.holdFence).
      try {
        await used.store.holdFence(start.runId, start.fence);
      } catch (error) {
        await writer.abort();
        throw pgFailure('E_TARGET', `starting a batch of ${start.table}`, error);
      }
    }
    return writer;
  }

  async lockRun(plan: string, me: LockHolder, wait: boolean): Promise<LockHolder | undefined> {
    // A session-level advisory lock: it lasts as long as this connection, and dies with it.
    const key = `crm-migrate:${plan}`;
    if (wait) await this.#client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
    else if (
      (await this.#client.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key])).rows[0]?.ok !==
      true
    ) {
      return (await this.#store.lockHolder(plan)) ?? UNKNOWN_HOLDER;
    }
    await this.#store.holdLock(plan, me);
    return undefined;
  }

  async reset(plan: string, tables: readonly string[]): Promise<void> {
    await this.#transaction('starting afresh', async () => {
      const present: string[] = [];
      for (const table of tables) if (await this.describe(table)) present.push(qualified(table));
      // One TRUNCATE for all: tables that reference each other can only be truncated together.
      if (present.length > 0) await this.#client.query(`TRUNCATE ${present.join(', ')}`);
      await this.#store.resetPlan(plan);
    });
  }

  async close(): Promise<void> {
    await this.#lookupClient?.end();
    for (const c of this.#batchConnections) if (c.client !== this.#client) await c.client.end();
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

function stateStore(client: pg.Client): SqlStateStore {
  const session: SqlSession = {
    query: async (sql, params = []) => (await client.query(sql, params as unknown[])).rows as Record<string, unknown>[],
  };
  return new SqlStateStore(session, STATE_DIALECT);
}

/** Reading state from a target being inspected: missing state tables read as "no runs yet". */
function inspectOnlyState(store: SqlStateStore, client: pg.Client): StateStore {
  const exists = async () =>
    (await client.query(`SELECT to_regclass('_crm_migrate.runs') IS NOT NULL AS ok`)).rows[0]?.ok === true;
  return {
    latestRun: async (plan, status) => ((await exists()) ? store.latestRun(plan, status) : undefined),
    startRun: (run) => store.startRun(run),
    finishRun: (id, status) => store.finishRun(id, status),
    checkpoints: async (id) => ((await exists()) ? store.checkpoints(id) : []),
    quarantined: (id, entity) => store.quarantined(id, entity),
    openQuarantine: async function* (plan, entity) {
      if (await exists()) yield* store.openQuarantine(plan, entity);
    },
    audit: (entry) => store.audit(entry),
    history: async (plan) => ((await exists()) ? store.history(plan) : []),
    crosswalk: async (plan, entity, keys) => ((await exists()) ? store.crosswalk(plan, entity, keys) : new Map()),
    writtenKeys: async (plan, entity, keys) => ((await exists()) ? store.writtenKeys(plan, entity, keys) : new Set()),
    hasCrosswalk: async (plan, entity) => (await exists()) && store.hasCrosswalk(plan, entity),
    placeholders: async function* (plan, entity) {
      if (await exists()) yield* store.placeholders(plan, entity);
    },
    retried: async function* (plan, entity) {
      if (await exists()) yield* store.retried(plan, entity);
    },
    merges: async function* (plan) {
      if (await exists()) yield* store.merges(plan);
    },
    reviewPairs: async (plan) => ((await exists()) ? store.reviewPairs(plan) : []),
    decisions: async (plan) => ((await exists()) ? store.decisions(plan) : []),
    decide: (plan, decisions) => store.decide(plan, decisions),
  };
}
