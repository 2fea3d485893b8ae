import type Database from 'better-sqlite3';
import { CrmMigrateError, RowsRejected } from '../../errors.js';
import type {
  BatchStart,
  BatchWriter,
  ForeignKey,
  LockHolder,
  Checkpoint,
  QuarantinedRow,
  BatchState,
  ReadRequest,
  Removal,
  StateStore,
  TableInfo,
  TableSpec,
  Target,
  TargetCapabilities,
} from '../contract.js';
import { KEYS_PER_STATEMENT, keyInList } from '../shared/keyset.js';
import { lockFileFor, takeLockFile } from '../shared/lock-file.js';
import { readPages } from './sqlite-read.js';
import type { Row } from '../../values.js';
import { INSPECT_ONLY_STATE, SqlStateStore } from '../shared/sql-state-store.js';
import {
  describeTable,
  foreignKeys,
  inWriteTransaction,
  listTables,
  q,
  SQLITE_STATE_DIALECT,
  sqliteSession,
  toSqlite,
} from './sqlite-database.js';
import { declaredTypeOf } from './sqlite-types.js';
import { sqliteRejection } from './sqlite-rejection.js';

export class SqliteTarget implements Target {
  readonly display: string;
  readonly capabilities: TargetCapabilities = {
    transactionalDdl: true,
    bulkLoad: false,
    overlappingBatches: false,
    updates: true,
    concurrentWriters: false,
  };
  readonly state: StateStore;
  readonly #db: Database.Database | undefined;
  readonly #store: SqlStateStore | undefined;
  readonly #inserts = new Map<string, Database.Statement>();
  #releaseLock: (() => void) | undefined;

  /** `db` is undefined when inspecting a target file that does not exist yet: it reads as empty. */
  constructor(db: Database.Database | undefined, display: string) {
    this.#db = db;
    this.display = display;
    this.#store = db ? new SqlStateStore(sqliteSession(db), SQLITE_STATE_DIALECT) : undefined;
    this.state = this.#store ?? INSPECT_ONLY_STATE;
  }

  listTables(): Promise<string[]> {
    return Promise.resolve(this.#db ? listTables(this.#db) : []);
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return Promise.resolve(this.#db ? describeTable(this.#db, table) : undefined);
  }

  foreignKeys(table: string): Promise<ForeignKey[]> {
    return Promise.resolve(this.#db ? foreignKeys(this.#db, table) : []);
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    if (this.#db) yield* readPages(this.#db, request);
  }

  async prepare(): Promise<void> {
    await this.#writable().store.ensure();
  }

  createTable(spec: TableSpec): Promise<void> {
    const columns = spec.columns.map(
      (c) => `${q(c.name)} ${declaredTypeOf(c.type, c.maxLength)}${c.nullable ? '' : ' NOT NULL'}`,
    );
    if (spec.primaryKey.length > 0) columns.push(`PRIMARY KEY (${spec.primaryKey.map(q).join(', ')})`);
    this.#writable().db.exec(`CREATE TABLE ${q(spec.name)} (\n  ${columns.join(',\n  ')}\n)`);
    return Promise.resolve();
  }

  /** SQLite is in-process: rows go straight into the open transaction as they are added. */
  async beginBatch(start: BatchStart): Promise<BatchWriter> {
    const { db, store } = this.#writable();
    const insert = this.#insert(start);
    db.exec('BEGIN IMMEDIATE');
    if (start.fence)
      await store.holdFence(start.runId, start.fence).catch((error: unknown) => {
        db.exec('ROLLBACK');
        throw error;
      });
    const fail = (error: unknown) => {
      if (db.inTransaction) db.exec('ROLLBACK');
      // SQLite's messages name the constraint and column ("UNIQUE constraint failed: t.id"), never a value.
      const message = `writing a batch to ${start.table} failed: ${(error as Error).message}`;
      const rejection = sqliteRejection(error);
      return rejection
        ? new RowsRejected(message, rejection, error)
        : new CrmMigrateError('E_TARGET', message, { cause: error });
    };
    let failure: unknown;
    return Promise.resolve({
      add(row: Row) {
        if (failure) return;
        try {
          insert.run(row.map(toSqlite));
        } catch (error) {
          failure = error;
        }
      },
      flush: () => (failure ? Promise.reject(fail(failure)) : Promise.resolve()),
      attempt(rows: readonly Row[]) {
        if (failure) return Promise.reject(fail(failure));
        db.exec('SAVEPOINT crm_migrate_attempt');
        try {
          for (const row of rows) insert.run(row.map(toSqlite));
          db.exec('RELEASE crm_migrate_attempt');
          return Promise.resolve(undefined);
        } catch (error) {
          const rejection = sqliteRejection(error);
          if (!rejection) return Promise.reject(fail(error));
          db.exec('ROLLBACK TO crm_migrate_attempt; RELEASE crm_migrate_attempt');
          return Promise.resolve(rejection);
        }
      },
      remove(keys: readonly Row[], how: Removal) {
        if (failure) return Promise.reject(fail(failure));
        const columns = how.key.map(q);
        let changed = 0;
        try {
          for (let at = 0; at < keys.length; at += KEYS_PER_STATEMENT) {
            const chunk = keys.slice(at, at + KEYS_PER_STATEMENT);
            const match = keyInList(columns, chunk.length, () => '?');
            const params = chunk.flat().map(toSqlite);
            const tomb = how.tombstone;
            changed += tomb
              ? db
                  .prepare(
                    `UPDATE ${q(start.table)} SET ${q(tomb.column)} = ? WHERE ${q(tomb.column)} IS NULL AND ${match}`,
                  )
                  .run(tomb.at, ...params).changes
              : db.prepare(`DELETE FROM ${q(start.table)} WHERE ${match}`).run(...params).changes;
          }
        } catch (error) {
          return Promise.reject(fail(error));
        }
        return Promise.resolve(changed);
      },
      async commit(quarantine: readonly QuarantinedRow[], checkpoint: Checkpoint, state?: BatchState) {
        if (failure) throw fail(failure);
        try {
          await store.writeBatchState(start.runId, quarantine, checkpoint, state);
          db.exec('COMMIT');
        } catch (error) {
          throw fail(error);
        }
      },
      abort() {
        if (db.inTransaction) db.exec('ROLLBACK');
        return Promise.resolve();
      },
    });
  }

  async lockRun(plan: string, me: LockHolder, wait: boolean): Promise<LockHolder | undefined> {
    const { db } = this.#writable();
    if (db.memory) return undefined; // an in-memory database is this process's alone
    const taken = await takeLockFile(lockFileFor(db.name, plan), me, wait);
    if ('holder' in taken) return taken.holder;
    this.#releaseLock = taken.release;
    return undefined;
  }

  async reset(plan: string, tables: readonly string[]): Promise<void> {
    const { db, store } = this.#writable();
    await inWriteTransaction(db, async () => {
      // Last loaded first: a table is emptied before the tables it references.
      for (const table of [...tables].reverse()) if (describeTable(db, table)) db.exec(`DELETE FROM ${q(table)}`);
      await store.resetPlan(plan);
    });
  }

  close(): Promise<void> {
    this.#releaseLock?.();
    this.#db?.close();
    return Promise.resolve();
  }

  /** INSERT, or with an upsert key an INSERT … ON CONFLICT that leaves a row equal to the stored one untouched. */
  #insert(start: BatchStart): Database.Statement {
    const { table, columns, upsertKey } = start;
    let sql = `INSERT INTO ${q(table)} AS dest (${columns.map(q).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    if (upsertKey) {
      const rest = columns.filter((c) => !upsertKey.includes(c)).map(q);
      sql +=
        ` ON CONFLICT (${upsertKey.map(q).join(', ')}) ` +
        (rest.length === 0
          ? 'DO NOTHING'
          : `DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')} WHERE (${rest.map((c) => `dest.${c}`).join(', ')}) IS NOT (${rest.map((c) => `excluded.${c}`).join(', ')})`);
    }
    let statement = this.#inserts.get(sql);
    if (!statement) {
      statement = this.#writable().db.prepare(sql);
      this.#inserts.set(sql, statement);
    }
    return statement;
  }

  #writable(): { db: Database.Database; store: SqlStateStore } {
    if (!this.#db || !this.#store) throw new CrmMigrateError('E_TARGET', 'the target was opened for inspection only');
    return { db: this.#db, store: this.#store };
  }
}
