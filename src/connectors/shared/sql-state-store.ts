import { createHash } from 'node:crypto';
import { CrmMigrateError, FencedError } from '../../errors.js';
import type {
  AuditEntry,
  BatchStart,
  BatchState,
  Checkpoint,
  CrosswalkEntry,
  EntityKeys,
  LockHolder,
  MergeEntry,
  PairDecision,
  QuarantinedRow,
  RecordPair,
  ReviewPair,
  RunRecord,
  RunStatus,
  StateStore,
} from '../contract.js';

/** The smallest SQL surface the state tables need; each SQL connector adapts its driver to it. */
export interface SqlSession {
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
}

export type StateTable =
  | 'runs'
  | 'checkpoints'
  | 'quarantine'
  | 'audit'
  | 'crosswalk'
  | 'placeholders'
  | 'retried'
  | 'merges'
  | 'review'
  | 'decisions'
  | 'locks'
  | 'fences'
  | 'meta';

/**
 * The version of the state tables this code writes. A target's `meta` table records the version its state is
 * at; an older one is brought up by MIGRATIONS, in order, before anything else is read or written, and a newer
 * one (written by a later crm-migrate) is refused rather than misread.
 */
export const STATE_VERSION = 1;

/**
 * Upgrades from the version before each: `run` brings state at `version - 1` to `version`. Version 1 is the
 * first versioned shape; state written before versions were recorded is at 1 once the tables above exist
 * (every change until then added a table or an index, created if missing).
 */
const MIGRATIONS: readonly {
  readonly version: number;
  readonly what: string;
  run(session: SqlSession, d: StateDialect): Promise<void>;
}[] = [];

/** How a SQL database spells the state tables: names, placeholders and a few types. */
export interface StateDialect {
  /** Statements run once before the tables are created (a schema, say). */
  readonly setup: readonly string[];
  table(name: StateTable): string;
  param(index: number): string;
  readonly bigint: string;
  readonly float: string;
  readonly json: string;
  /** Text that is part of a primary key (run ids, entities, source keys): MySQL cannot index plain TEXT. */
  readonly keyText: string;
  /** Whether a failed query failed because its table does not exist (and not for a lost connection or a permission). */
  isMissingTable(error: unknown): boolean;
  /** The crosswalk's index by target key (MySQL indexes a prefix of a TEXT column only). */
  readonly newKeyIndex: string;
  /** The type of the crosswalk's target keys (default TEXT). */
  readonly newKeyText?: string | undefined;
  /**
   * The index by target key holds only the lines whose target key is not their source key (PostgreSQL's
   * partial index): a record whose key is copied is found through the primary key instead. Most entities copy
   * their key, and a second index over all their lines made a crosswalk-recording load twice as slow.
   */
  readonly newKeyIndexSkipsCopies?: boolean | undefined;
  /**
   * What makes a SELECT share-lock the row until the transaction ends (` FOR SHARE`); empty where a write
   * transaction holds the whole database already (SQLite).
   */
  readonly forShare: string;
  /** Statements that refresh the crosswalk's statistics (see StateStore.refreshStatistics); none: not needed. */
  readonly analyze?: readonly string[] | undefined;
  /** The clause that turns an INSERT into an upsert on `keys`, updating `columns`. */
  upsert(keys: readonly string[], columns: readonly string[]): string;
  /** The clause that turns an INSERT into an upsert on `keys` adding 1 to `counter` and setting `column` as given. */
  increment(keys: readonly string[], counter: string, column: string): string;
  /**
   * Rows of text columns as one parameter per column (PostgreSQL: `SELECT * FROM unnest($1::text[], …)`), for
   * the crosswalk a batch writes: 500-row VALUES lists of four parameters a row made an entity that records
   * its crosswalk load 3.5 times slower. Undefined: VALUES lists.
   */
  readonly textArrays?: ((columns: number) => string) | undefined;
}

/** The row of a chunk's fence that says who claims it next (see SqlStateStore.claimFence). */
const claimName = (name: string) => `${name}#claim`;

/** PostgreSQL's and SQLite's upsert clause. */
export const onConflict = (keys: readonly string[], columns: readonly string[]): string =>
  `ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}`;

/** PostgreSQL's and SQLite's counting upsert (see StateDialect.increment); `table` as the statement names it. */
export const onConflictIncrement =
  (table: string) =>
  (keys: readonly string[], counter: string, column: string): string =>
    `ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${counter} = ${table}.${counter} + 1, ${column} = excluded.${column}`;

const QUARANTINE_CHUNK = 500;
/** Rows a statement of text arrays takes (see StateDialect.textArrays). */
const TEXT_ARRAY_ROWS = 20_000;

/**
 * Runs, checkpoints and quarantine as tables beside the target data, written in the same transaction
 * as each batch — the batch and its checkpoint are one commit, which is what makes a resume exactly-once.
 */
export class SqlStateStore implements StateStore {
  readonly #session: SqlSession;
  readonly #d: StateDialect;

  constructor(session: SqlSession, dialect: StateDialect) {
    this.#session = session;
    this.#d = dialect;
  }

  async ensure(): Promise<void> {
    const d = this.#d;
    for (const sql of d.setup) await this.#session.query(sql);
    const k = d.keyText;
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('runs')} (
      run_id ${k} PRIMARY KEY, plan ${k} NOT NULL, plan_hash TEXT NOT NULL, status TEXT NOT NULL,
      started_at ${k} NOT NULL, finished_at TEXT)`);
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('checkpoints')} (
      run_id ${k} NOT NULL, entity ${k} NOT NULL, last_key ${d.json}, read_rows ${d.bigint} NOT NULL,
      written ${d.bigint} NOT NULL, merged ${d.bigint} NOT NULL, quarantined ${d.bigint} NOT NULL,
      filtered ${d.bigint} NOT NULL, deleted ${d.bigint} NOT NULL, done INTEGER NOT NULL, quality ${d.json}, updated_at TEXT NOT NULL,
      PRIMARY KEY (run_id, entity))`);
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('quarantine')} (
      run_id ${k} NOT NULL, entity ${k} NOT NULL, source_key ${k} NOT NULL, row_data ${d.json} NOT NULL,
      reasons ${d.json} NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (run_id, entity, source_key))`);
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('audit')} (
      plan ${k} NOT NULL, at ${k} NOT NULL, command TEXT NOT NULL, outcome TEXT NOT NULL, run_id ${k},
      os_user TEXT NOT NULL, tool_version TEXT NOT NULL, plan_hash TEXT NOT NULL, source TEXT NOT NULL,
      target TEXT NOT NULL, details ${d.json})`);
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('crosswalk')} (
      plan ${k} NOT NULL, entity ${k} NOT NULL, source_key ${k} NOT NULL, new_key ${d.newKeyText ?? 'TEXT'} NOT NULL, PRIMARY KEY (plan, entity, source_key))`);
    await this.#session.query(d.newKeyIndex);
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('placeholders')} (
      plan ${k} NOT NULL, entity ${k} NOT NULL, source_key ${k} NOT NULL, new_key TEXT NOT NULL, PRIMARY KEY (plan, entity, source_key))`);
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('retried')} (
      plan ${k} NOT NULL, entity ${k} NOT NULL, source_key ${k} NOT NULL, retried_at TEXT NOT NULL, PRIMARY KEY (plan, entity, source_key))`);
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('merges')} (
      plan ${k} NOT NULL, entity ${k} NOT NULL, source_key ${k} NOT NULL, survivor_entity TEXT NOT NULL, survivor_key TEXT NOT NULL,
      probability ${d.float} NOT NULL, why TEXT NOT NULL, PRIMARY KEY (plan, entity, source_key))`);
    // A pair is keyed by a digest of its two records: four key columns would outgrow MySQL's index limit.
    const pair = `pair_id ${k} NOT NULL, entity_a TEXT NOT NULL, key_a TEXT NOT NULL, entity_b TEXT NOT NULL, key_b TEXT NOT NULL`;
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('review')} (
      plan ${k} NOT NULL, ${pair}, probability ${d.float} NOT NULL, why TEXT NOT NULL, PRIMARY KEY (plan, pair_id))`);
    // Who holds a plan's run lock (the lock itself is the database's, and dies with its session).
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('locks')} (
      plan ${k} PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, started_at TEXT NOT NULL)`);
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('decisions')} (
      plan ${k} NOT NULL, ${pair}, same INTEGER NOT NULL, decided_at TEXT NOT NULL, PRIMARY KEY (plan, pair_id))`);
    // Who may commit a chunk's batches: the worker that claimed it last (see claimFence).
    await this.#session.query(`CREATE TABLE IF NOT EXISTS ${d.table('fences')} (
      run_id ${k} NOT NULL, name ${k} NOT NULL, token ${d.bigint} NOT NULL, holder TEXT NOT NULL, PRIMARY KEY (run_id, name))`);
    await this.#session.query(
      `CREATE TABLE IF NOT EXISTS ${d.table('meta')} (name ${k} PRIMARY KEY, value TEXT NOT NULL)`,
    );
    await this.#upgrade();
  }

  /** The state's version, recorded, and brought up to this code's by the migrations in order. */
  async #upgrade(): Promise<void> {
    const d = this.#d;
    const [row] = await this.#session.query(`SELECT value FROM ${d.table('meta')} WHERE name = ${d.param(1)}`, [
      'state_version',
    ]);
    const stored = row ? Number(row.value) : undefined;
    if (stored !== undefined && stored > STATE_VERSION) {
      throw new CrmMigrateError(
        'E_STATE',
        `the target's state was written by a newer crm-migrate (state version ${stored}; this one knows versions up to ${STATE_VERSION})`,
        {
          hint: 'run the crm-migrate version that wrote it, or a newer one',
        },
      );
    }
    for (const migration of MIGRATIONS)
      if (stored !== undefined && migration.version > stored) await migration.run(this.#session, d);
    if (stored !== STATE_VERSION)
      await this.#insertRows('meta', ['name', 'value'], [['state_version', String(STATE_VERSION)]], {
        keys: ['name'],
        update: ['value'],
      });
  }

  /** Records who took the plan's run lock (its own statement). */
  async holdLock(plan: string, holder: LockHolder): Promise<void> {
    await this.#insertRows(
      'locks',
      ['plan', 'host', 'pid', 'started_at'],
      [[plan, holder.host, holder.pid, holder.startedAt]],
      { keys: ['plan'], update: ['host', 'pid', 'started_at'] },
    );
  }

  /** Who took the plan's run lock last. */
  async lockHolder(plan: string): Promise<LockHolder | undefined> {
    const [row] = await this.#session.query(
      `SELECT host, pid, started_at FROM ${this.#d.table('locks')} WHERE plan = ${this.#d.param(1)}`,
      [plan],
    );
    return row && { host: String(row.host), pid: Number(row.pid), startedAt: String(row.started_at) };
  }

  async *placeholders(plan: string, entity: string): AsyncIterable<CrosswalkEntry> {
    for await (const r of this.#entityRows('placeholders', 'new_key', plan, entity))
      yield { plan, entity, sourceKey: String(r.source_key), newKey: String(r.new_key) };
  }

  async *retried(plan: string, entity: string): AsyncIterable<string> {
    for await (const r of this.#entityRows('retried', 'retried_at', plan, entity)) yield String(r.source_key);
  }

  /**
   * An entity's rows of a state table keyed (plan, entity, source_key), in source-key order, a page at a time.
   * None when the table is missing: state written by an earlier version, which had no such table, read by
   * `verify` (read-only: it creates nothing).
   */
  async *#entityRows(
    table: 'placeholders' | 'retried',
    column: string,
    plan: string,
    entity: string,
  ): AsyncIterable<Record<string, unknown>> {
    const p = (i: number) => this.#d.param(i);
    try {
      await this.#session.query(`SELECT 1 FROM ${this.#d.table(table)} WHERE 1 = 0`);
    } catch (error) {
      // Only a missing table means "none": a lost connection or a refused permission is an error, said as one.
      if (this.#d.isMissingTable(error)) return;
      throw error;
    }
    yield* keysetPages((after) =>
      this.#session.query(
        `SELECT source_key, ${column} FROM ${this.#d.table(table)} WHERE plan = ${p(1)} AND entity = ${p(2)} AND source_key > ${p(3)} ORDER BY source_key LIMIT ${PAGE}`,
        [plan, entity, after[1]],
      ),
    );
  }

  async *merges(plan: string): AsyncIterable<MergeEntry> {
    const p = (i: number) => this.#d.param(i);
    const rows = keysetPages((after) =>
      this.#session.query(
        `SELECT entity, source_key, survivor_entity, survivor_key, probability, why FROM ${this.#d.table('merges')}
         WHERE plan = ${p(1)} AND (entity > ${p(2)} OR (entity = ${p(3)} AND source_key > ${p(4)})) ORDER BY entity, source_key LIMIT ${PAGE}`,
        [plan, after[0], after[0], after[1]],
      ),
    );
    for await (const r of rows) {
      yield {
        plan,
        entity: String(r.entity),
        sourceKey: String(r.source_key),
        survivorEntity: String(r.survivor_entity),
        survivorKey: String(r.survivor_key),
        probability: Number(r.probability),
        why: String(r.why),
      };
    }
  }

  async reviewPairs(plan: string): Promise<ReviewPair[]> {
    const rows = await this.#session.query(
      `SELECT entity_a, key_a, entity_b, key_b, probability, why FROM ${this.#d.table('review')} WHERE plan = ${this.#d.param(1)} ORDER BY probability DESC, entity_a, key_a, entity_b, key_b`,
      [plan],
    );
    return rows.map((r) => ({
      entityA: String(r.entity_a),
      keyA: String(r.key_a),
      entityB: String(r.entity_b),
      keyB: String(r.key_b),
      probability: Number(r.probability),
      why: String(r.why),
    }));
  }

  async decisions(plan: string): Promise<PairDecision[]> {
    const rows = await this.#session.query(
      `SELECT entity_a, key_a, entity_b, key_b, same FROM ${this.#d.table('decisions')} WHERE plan = ${this.#d.param(1)}`,
      [plan],
    );
    return rows.map((r) => ({
      entityA: String(r.entity_a),
      keyA: String(r.key_a),
      entityB: String(r.entity_b),
      keyB: String(r.key_b),
      same: Number(r.same) === 1,
    }));
  }

  async decide(plan: string, decisions: readonly PairDecision[]): Promise<void> {
    const now = new Date().toISOString();
    await this.#insertRows(
      'decisions',
      ['plan', 'pair_id', 'entity_a', 'key_a', 'entity_b', 'key_b', 'same', 'decided_at'],
      decisions.map((c) => [plan, pairId(c), c.entityA, c.keyA, c.entityB, c.keyB, c.same ? 1 : 0, now]),
      { keys: ['plan', 'pair_id'], update: ['entity_a', 'key_a', 'entity_b', 'key_b', 'same', 'decided_at'] },
    );
  }

  /** Deletes a plan's lines of an entity by source key from a state table keyed so. */
  #forgetKeys(table: StateTable, keys: EntityKeys): Promise<void> {
    const d = this.#d;
    return this.#deleteKeys(
      table,
      `plan = ${d.param(1)} AND entity = ${d.param(2)}`,
      [keys.plan, keys.entity],
      keys.sourceKeys,
    );
  }

  /** `DELETE … WHERE <where> AND source_key IN (…)`, QUARANTINE_CHUNK keys a statement; `where` binds `params` first. */
  async #deleteKeys(
    table: StateTable,
    where: string,
    params: readonly unknown[],
    keys: readonly string[],
  ): Promise<void> {
    const d = this.#d;
    for (let start = 0; start < keys.length; start += QUARANTINE_CHUNK) {
      const chunk = keys.slice(start, start + QUARANTINE_CHUNK);
      await this.#session.query(
        `DELETE FROM ${d.table(table)} WHERE ${where} AND source_key IN (${chunk.map((_k, i) => d.param(i + params.length + 1)).join(', ')})`,
        [...params, ...chunk],
      );
    }
  }

  /** Multi-row INSERTs, QUARANTINE_CHUNK rows a statement; `upsert` names the conflict keys and the columns it updates. */
  async #insertRows(
    table: StateTable,
    columns: readonly string[],
    rows: readonly (readonly unknown[])[],
    upsert?: { keys: readonly string[]; update: readonly string[] },
    text = false,
  ): Promise<void> {
    const d = this.#d;
    if (text && d.textArrays && rows.length > 0) {
      const conflict = upsert ? ` ${d.upsert(upsert.keys, upsert.update)}` : '';
      for (let start = 0; start < rows.length; start += TEXT_ARRAY_ROWS) {
        const chunk = rows.slice(start, start + TEXT_ARRAY_ROWS);
        const arrays = columns.map((_c, k) =>
          chunk.map((r) => (r[k] === null || r[k] === undefined ? null : String(r[k]))),
        );
        await this.#session.query(
          `INSERT INTO ${d.table(table)} (${columns.join(', ')}) SELECT * FROM ${d.textArrays(columns.length)}${conflict}`,
          arrays,
        );
      }
      return;
    }
    for (let start = 0; start < rows.length; start += QUARANTINE_CHUNK) {
      const chunk = rows.slice(start, start + QUARANTINE_CHUNK);
      const tuples = chunk.map(
        (_r, i) => `(${columns.map((_c, k) => d.param(i * columns.length + k + 1)).join(', ')})`,
      );
      const conflict = upsert ? ` ${d.upsert(upsert.keys, upsert.update)}` : '';
      await this.#session.query(
        `INSERT INTO ${d.table(table)} (${columns.join(', ')}) VALUES ${tuples.join(', ')}${conflict}`,
        chunk.flat(),
      );
    }
  }

  async crosswalk(plan: string, entity: string, sourceKeys: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let at = 0; at < sourceKeys.length; at += QUARANTINE_CHUNK) {
      const chunk = sourceKeys.slice(at, at + QUARANTINE_CHUNK);
      const marks = chunk.map((_k, i) => this.#d.param(i + 3)).join(', ');
      const rows = await this.#session.query(
        `SELECT source_key, new_key FROM ${this.#d.table('crosswalk')} WHERE plan = ${this.#d.param(1)} AND entity = ${this.#d.param(2)} AND source_key IN (${marks})`,
        [plan, entity, ...chunk],
      );
      for (const r of rows) found.set(String(r.source_key), String(r.new_key));
    }
    return found;
  }

  async hasCrosswalk(plan: string, entity: string): Promise<boolean> {
    const p = (i: number) => this.#d.param(i);
    const rows = await this.#session.query(
      `SELECT 1 AS found FROM ${this.#d.table('crosswalk')} WHERE plan = ${p(1)} AND entity = ${p(2)} LIMIT 1`,
      [plan, entity],
    );
    return rows.length > 0;
  }

  async refreshStatistics(): Promise<void> {
    for (const sql of this.#d.analyze ?? []) await this.#session.query(sql);
  }

  async writtenKeys(plan: string, entity: string, newKeys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let at = 0; at < newKeys.length; at += QUARANTINE_CHUNK) {
      const chunk = newKeys.slice(at, at + QUARANTINE_CHUNK);
      const marks = chunk.map((_k, i) => this.#d.param(i + 3)).join(', ');
      const which = this.#d.newKeyIndexSkipsCopies
        ? `((source_key IN (${marks}) AND new_key = source_key) OR (new_key IN (${marks}) AND new_key <> source_key))`
        : `new_key IN (${marks})`;
      const rows = await this.#session.query(
        `SELECT new_key FROM ${this.#d.table('crosswalk')} WHERE plan = ${this.#d.param(1)} AND entity = ${this.#d.param(2)} AND ${which}`,
        [plan, entity, ...chunk],
      );
      for (const r of rows) found.add(String(r.new_key));
    }
    return found;
  }

  async audit(entry: AuditEntry): Promise<void> {
    const p = (i: number) => this.#d.param(i);
    await this.#session.query(
      `INSERT INTO ${this.#d.table('audit')} (plan, at, command, outcome, run_id, os_user, tool_version, plan_hash, source, target, details)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)})`,
      [
        entry.plan,
        entry.at,
        entry.command,
        entry.outcome,
        entry.runId,
        entry.user,
        entry.toolVersion,
        entry.planHash,
        entry.source,
        entry.target,
        storableJson(entry.details ?? null),
      ],
    );
  }

  async history(plan: string): Promise<AuditEntry[]> {
    const rows = await this.#session.query(
      `SELECT plan, at, command, outcome, run_id, os_user, tool_version, plan_hash, source, target, details FROM ${this.#d.table('audit')}
       WHERE plan = ${this.#d.param(1)} ORDER BY at, run_id`,
      [plan],
    );
    return rows.map((r) => ({
      plan: String(r.plan),
      at: String(r.at),
      command: String(r.command),
      outcome: String(r.outcome),
      runId: r.run_id === null ? null : String(r.run_id),
      user: String(r.os_user),
      toolVersion: String(r.tool_version),
      planHash: String(r.plan_hash),
      source: String(r.source),
      target: String(r.target),
      details: r.details === null ? null : parseJson(r.details),
    }));
  }

  async latestRun(plan: string, status?: RunStatus): Promise<RunRecord | undefined> {
    const p = (i: number) => this.#d.param(i);
    const rows = await this.#session.query(
      `SELECT run_id, plan, plan_hash, status, started_at, finished_at FROM ${this.#d.table('runs')}
       WHERE plan = ${p(1)} AND (${p(2)} = '' OR status = ${p(3)}) ORDER BY started_at DESC, run_id DESC LIMIT 1`,
      [plan, status ?? '', status ?? ''],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      runId: String(r.run_id),
      plan: String(r.plan),
      planHash: String(r.plan_hash),
      status: String(r.status) as RunStatus,
      startedAt: String(r.started_at),
      finishedAt: r.finished_at === null ? null : String(r.finished_at),
    };
  }

  async startRun(run: RunRecord): Promise<void> {
    const p = (i: number) => this.#d.param(i);
    await this.#session.query(
      `INSERT INTO ${this.#d.table('runs')} (run_id, plan, plan_hash, status, started_at, finished_at)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, NULL)`,
      [run.runId, run.plan, run.planHash, run.status, run.startedAt],
    );
  }

  async finishRun(runId: string, status: RunStatus): Promise<void> {
    await this.#session.query(
      `UPDATE ${this.#d.table('runs')} SET status = ${this.#d.param(1)}, finished_at = ${this.#d.param(2)} WHERE run_id = ${this.#d.param(3)}`,
      [status, new Date().toISOString(), runId],
    );
  }

  async checkpoints(runId: string): Promise<Checkpoint[]> {
    const rows = await this.#session.query(
      `SELECT entity, last_key, read_rows, written, merged, quarantined, filtered, deleted, done, quality FROM ${this.#d.table('checkpoints')}
       WHERE run_id = ${this.#d.param(1)}`,
      [runId],
    );
    return rows.map((r) => ({
      entity: String(r.entity),
      lastKey: r.last_key === null ? null : (parseJson(r.last_key) as unknown[]),
      counts: {
        read: Number(r.read_rows),
        written: Number(r.written),
        merged: Number(r.merged),
        quarantined: Number(r.quarantined),
        filtered: Number(r.filtered),
        deleted: Number(r.deleted),
      },
      done: Number(r.done) === 1,
      quality: r.quality === null || r.quality === undefined ? undefined : parseJson(r.quality),
    }));
  }

  async *quarantined(runId: string, entity?: string): AsyncIterable<QuarantinedRow> {
    const p = (i: number) => this.#d.param(i);
    const rows = keysetPages((after) =>
      this.#session.query(
        `SELECT entity, source_key, row_data, reasons FROM ${this.#d.table('quarantine')}
         WHERE run_id = ${p(1)} AND (${p(2)} = '' OR entity = ${p(3)})
           AND (entity > ${p(4)} OR (entity = ${p(5)} AND source_key > ${p(6)}))
         ORDER BY entity, source_key LIMIT ${PAGE}`,
        // Each parameter appears once: not every driver can bind one twice.
        [runId, entity ?? '', entity ?? '', after[0], after[0], after[1]],
      ),
    );
    for await (const r of rows) yield quarantinedRow(r);
  }

  async *openQuarantine(plan: string, entity?: string): AsyncIterable<QuarantinedRow> {
    const p = (i: number) => this.#d.param(i);
    const d = this.#d;
    // Newest run first within a row: a row quarantined by two runs (state from before entries were closed) is listed once.
    const rows = keysetPages((after) =>
      this.#session.query(
        `SELECT q.run_id, q.entity, q.source_key, q.row_data, q.reasons FROM ${d.table('quarantine')} q JOIN ${d.table('runs')} r ON r.run_id = q.run_id
         WHERE r.plan = ${p(1)} AND r.status <> 'superseded' AND (${p(2)} = '' OR q.entity = ${p(3)})
           AND (q.entity > ${p(4)} OR (q.entity = ${p(5)} AND q.source_key > ${p(6)}))
         ORDER BY q.entity, q.source_key, r.started_at DESC LIMIT ${PAGE}`,
        [plan, entity ?? '', entity ?? '', after[0], after[0], after[1]],
      ),
    );
    let previous: QuarantinedRow | undefined;
    for await (const r of rows) {
      const row = { runId: String(r.run_id), ...quarantinedRow(r) };
      if (previous?.entity === row.entity && previous.sourceKey === row.sourceKey) continue;
      previous = row;
      yield row;
    }
  }

  /**
   * Makes `holder` the one worker whose batches of `name` commit, and returns its token (one more than the
   * last claim's). A claim waits for the former holder's batches in flight (each share-locks the fence), so
   * whatever the new holder reads of the chunk's checkpoint after this is final.
   * Undefined when another claim came in between: that one holds the fence.
   */
  async claimFence(runId: string, name: string, holder: string): Promise<number | undefined> {
    const d = this.#d;
    const p = (i: number) => d.param(i);
    const upsert = `INSERT INTO ${d.table('fences')} (run_id, name, token, holder) VALUES (${p(1)}, ${p(2)}, 1, ${p(3)})
       ${d.increment(['run_id', 'name'], 'token', 'holder')}`;
    // First the intent, on a row of its own that no batch locks: from here the former holder begins no new
    // batch, so the claim below waits only for the batches it has in flight, and is not starved by the next ones.
    await this.#session.query(upsert, [runId, claimName(name), holder]);
    await this.#session.query(upsert, [runId, name, holder]);
    const [row] = await this.#session.query(
      `SELECT token, holder FROM ${d.table('fences')} WHERE run_id = ${p(1)} AND name = ${p(2)}`,
      [runId, name],
    );
    return row && row.holder === holder ? Number(row.token) : undefined;
  }

  /** The state half of a batch: call inside the transaction that writes the batch's rows. */
  async writeBatchState(
    runId: string,
    quarantine: readonly QuarantinedRow[],
    checkpoint: Checkpoint,
    state: BatchState = {},
  ): Promise<void> {
    const d = this.#d;
    const now = new Date().toISOString();
    await this.#insertRows(
      'merges',
      ['plan', 'entity', 'source_key', 'survivor_entity', 'survivor_key', 'probability', 'why'],
      (state.merges ?? []).map((m) => [
        m.plan,
        m.entity,
        m.sourceKey,
        m.survivorEntity,
        m.survivorKey,
        m.probability,
        m.why,
      ]),
      { keys: ['plan', 'entity', 'source_key'], update: ['survivor_entity', 'survivor_key', 'probability', 'why'] },
    );
    if (state.review) {
      const { plan, pairs } = state.review;
      await this.#session.query(`DELETE FROM ${d.table('review')} WHERE plan = ${d.param(1)}`, [plan]);
      await this.#insertRows(
        'review',
        ['plan', 'pair_id', 'entity_a', 'key_a', 'entity_b', 'key_b', 'probability', 'why'],
        pairs.map((r) => [plan, pairId(r), r.entityA, r.keyA, r.entityB, r.keyB, r.probability, r.why]),
      );
    }
    const keyed = { keys: ['plan', 'entity', 'source_key'], update: ['new_key'] };
    // A placeholder is in the crosswalk too: refs to it resolve like refs to any migrated record.
    const crosswalk = [...(state.crosswalk ?? []), ...(state.placeholders ?? [])];
    await this.#insertRows(
      'crosswalk',
      ['plan', 'entity', 'source_key', 'new_key'],
      crosswalk.map((c) => [c.plan, c.entity, c.sourceKey, c.newKey]),
      keyed,
      true,
    );
    await this.#insertRows(
      'placeholders',
      ['plan', 'entity', 'source_key', 'new_key'],
      (state.placeholders ?? []).map((c) => [c.plan, c.entity, c.sourceKey, c.newKey]),
      keyed,
      true,
    );
    if (state.retired) await this.#forgetKeys('crosswalk', state.retired);
    if (state.retried) {
      // Written now from a fixed file: out of the quarantine, in place of any placeholder that stood in for the
      // record, and remembered as retried (verify cannot recompute values that are in no source).
      const { plan, entity, sourceKeys } = state.retried;
      await this.#deleteKeys(
        'quarantine',
        `run_id = ${d.param(1)} AND entity = ${d.param(2)}`,
        [runId, entity],
        sourceKeys,
      );
      for (const table of ['placeholders', 'retried'] as const) await this.#forgetKeys(table, state.retried);
      await this.#insertRows(
        'retried',
        ['plan', 'entity', 'source_key', 'retried_at'],
        sourceKeys.map((key) => [plan, entity, key, now]),
      );
    }
    if (state.closedQuarantine) {
      const { plan, entity, sourceKeys } = state.closedQuarantine;
      const where = `run_id <> ${d.param(1)} AND entity = ${d.param(2)} AND run_id IN (SELECT run_id FROM ${d.table('runs')} WHERE plan = ${d.param(3)})`;
      await this.#deleteKeys('quarantine', where, [runId, entity, plan], sourceKeys);
    }
    if (state.realized) await this.#forgetKeys('placeholders', state.realized);
    await this.#insertRows(
      'quarantine',
      ['run_id', 'entity', 'source_key', 'row_data', 'reasons', 'created_at'],
      quarantine.map((q) => [runId, q.entity, q.sourceKey, storableJson(q.row), storableJson(q.reasons), now]),
      { keys: ['run_id', 'entity', 'source_key'], update: ['row_data', 'reasons', 'created_at'] },
    );
    const c = checkpoint.counts;
    const p = (i: number) => d.param(i);
    await this.#session.query(
      `INSERT INTO ${d.table('checkpoints')} (run_id, entity, last_key, read_rows, written, merged, quarantined, filtered, deleted, done, quality, updated_at)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)}, ${p(12)})
       ${d.upsert(['run_id', 'entity'], ['last_key', 'read_rows', 'written', 'merged', 'quarantined', 'filtered', 'deleted', 'done', 'quality', 'updated_at'])}`,
      [
        runId,
        checkpoint.entity,
        checkpoint.lastKey === null ? null : JSON.stringify(checkpoint.lastKey),
        c.read,
        c.written,
        c.merged,
        c.quarantined,
        c.filtered,
        c.deleted,
        checkpoint.done ? 1 : 0,
        checkpoint.quality === undefined ? null : storableJson(checkpoint.quality),
        now,
      ],
    );
  }

  /**
   * Call first in a batch's transaction: refuses the batch unless its worker still holds the chunk's fence,
   * and share-locks the fence until the batch ends, so a claim waits for it (a worker's overlapping batches
   * share the lock). The lock waits for a claim in progress.
   */
  async holdFence(runId: string, fence: NonNullable<BatchStart['fence']>): Promise<void> {
    const d = this.#d;
    const holderOf = async (name: string, lock: string) =>
      (
        await this.#session.query(
          `SELECT holder FROM ${d.table('fences')} WHERE run_id = ${d.param(1)} AND name = ${d.param(2)}${lock}`,
          [runId, name],
        )
      )[0]?.holder;
    const claimed = await holderOf(claimName(fence.name), '');
    if (claimed !== fence.holder || (await holderOf(fence.name, d.forShare)) !== fence.holder)
      throw new FencedError(
        `${fence.name} was taken over by another worker (this one lost its job's lock): its batch was not committed`,
        'nothing to do: the worker that took the chunk over goes on from its last committed batch',
      );
  }

  /** The state half of a fresh start: earlier runs of the plan are superseded, their checkpoints and quarantine dropped. */
  async resetPlan(plan: string): Promise<void> {
    const d = this.#d;
    const runs = `SELECT run_id FROM ${d.table('runs')} WHERE plan = ${d.param(1)}`;
    await this.#session.query(`DELETE FROM ${d.table('crosswalk')} WHERE plan = ${d.param(1)}`, [plan]);
    for (const table of ['placeholders', 'retried'] as const)
      await this.#session.query(`DELETE FROM ${d.table(table)} WHERE plan = ${d.param(1)}`, [plan]);
    // Reviewers' decisions stay: they are the user's work, and the next run's matching honours them.
    await this.#session.query(`DELETE FROM ${d.table('merges')} WHERE plan = ${d.param(1)}`, [plan]);
    await this.#session.query(`DELETE FROM ${d.table('review')} WHERE plan = ${d.param(1)}`, [plan]);
    await this.#session.query(`DELETE FROM ${d.table('quarantine')} WHERE run_id IN (${runs})`, [plan]);
    await this.#session.query(`DELETE FROM ${d.table('checkpoints')} WHERE run_id IN (${runs})`, [plan]);
    await this.#session.query(`DELETE FROM ${d.table('fences')} WHERE run_id IN (${runs})`, [plan]);
    await this.#session.query(
      `UPDATE ${d.table('runs')} SET status = 'superseded' WHERE plan = ${d.param(1)} AND status <> 'superseded'`,
      [plan],
    );
  }
}

/** A lock holder that did not say who it is (it had not written its row yet). */
export const UNKNOWN_HOLDER: LockHolder = { host: 'unknown host', pid: 0, startedAt: 'unknown' };

/** Rows per page when a state table is listed. */
const PAGE = 1000;

/**
 * A state table listed in keyset pages: `page(after)` selects up to PAGE rows past the (entity, source_key)
 * position, in that order. A listing of a million rows never sits in memory at once.
 */
async function* keysetPages(
  page: (after: readonly [string, string]) => Promise<Record<string, unknown>[]>,
): AsyncIterable<Record<string, unknown>> {
  let after: readonly [string, string] = ['', ''];
  for (;;) {
    const rows = await page(after);
    yield* rows;
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) return;
    after = [String(last.entity ?? ''), String(last.source_key)];
  }
}

function quarantinedRow(r: Record<string, unknown>): QuarantinedRow {
  return {
    entity: String(r.entity),
    sourceKey: String(r.source_key),
    row: parseJson(r.row_data) as Record<string, unknown>,
    reasons: parseJson(r.reasons) as QuarantinedRow['reasons'],
  };
}

/**
 * JSON for the state tables. PostgreSQL's jsonb refuses U+0000 and broken surrogates, and one bad value in a
 * quarantined row must not fail the batch that quarantines it: in the stored copy they become U+FFFD.
 */
function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'string' && (v.includes('\0') || !v.isWellFormed()) ? v.toWellFormed().replace(/\0/g, '\uFFFD') : v,
  );
}

/** A pair's identity in the review and decision tables: a digest of its two records, in either order. */
function pairId(pair: RecordPair): string {
  const [x, y] = [JSON.stringify([pair.entityA, pair.keyA]), JSON.stringify([pair.entityB, pair.keyB])].sort();
  return createHash('sha256').update(`${x}\n${y}`).digest('hex');
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** The state of a target that does not exist yet, opened for inspection: no runs, and nothing can be written. */
export const INSPECT_ONLY_STATE: StateStore = {
  latestRun: () => Promise.resolve(undefined),
  startRun: () => Promise.reject(new CrmMigrateError('E_TARGET', 'the target was opened for inspection only')),
  finishRun: () => Promise.resolve(),
  checkpoints: () => Promise.resolve([]),
  quarantined: async function* () {},
  openQuarantine: async function* () {},
  audit: () => Promise.reject(new CrmMigrateError('E_TARGET', 'the target was opened for inspection only')),
  history: () => Promise.resolve([]),
  crosswalk: () => Promise.resolve(new Map()),
  writtenKeys: () => Promise.resolve(new Set()),
  hasCrosswalk: () => Promise.resolve(false),
  placeholders: async function* () {},
  retried: async function* () {},
  merges: async function* () {},
  reviewPairs: () => Promise.resolve([]),
  decisions: () => Promise.resolve([]),
  decide: () => Promise.reject(new CrmMigrateError('E_TARGET', 'the target was opened for inspection only')),
};

/**
 * The state store, with crosswalk lookups on a connection of their own (opened when first needed): the
 * target's own connection may be busy streaming a batch (COPY, LOAD DATA) when a chunk's references are
 * resolved, and a lookup queued behind it would wait for a commit that waits for it.
 */
export function withOwnLookups(store: StateStore, lookups: () => Promise<StateStore>): StateStore {
  let opened: Promise<StateStore> | undefined;
  return {
    latestRun: (plan, status) => store.latestRun(plan, status),
    startRun: (run) => store.startRun(run),
    finishRun: (id, status) => store.finishRun(id, status),
    checkpoints: (id) => store.checkpoints(id),
    quarantined: (id, entity) => store.quarantined(id, entity),
    openQuarantine: (plan, entity) => store.openQuarantine(plan, entity),
    audit: (entry) => store.audit(entry),
    history: (plan) => store.history(plan),
    crosswalk: async (plan, entity, keys) => (await (opened ??= lookups())).crosswalk(plan, entity, keys),
    writtenKeys: async (plan, entity, keys) => (await (opened ??= lookups())).writtenKeys(plan, entity, keys),
    refreshStatistics: () => store.refreshStatistics?.() ?? Promise.resolve(),
    ...(store.claimFence && {
      claimFence: (runId: string, name: string, holder: string) =>
        (store.claimFence as NonNullable<StateStore['claimFence']>)(runId, name, holder),
    }),
    hasCrosswalk: (plan, entity) => store.hasCrosswalk(plan, entity),
    placeholders: (plan, entity) => store.placeholders(plan, entity),
    retried: (plan, entity) => store.retried(plan, entity),
    merges: (plan) => store.merges(plan),
    reviewPairs: (plan) => store.reviewPairs(plan),
    decisions: (plan) => store.decisions(plan),
    decide: (plan, decisions) => store.decide(plan, decisions),
  };
}
