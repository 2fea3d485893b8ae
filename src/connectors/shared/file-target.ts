import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { CrmMigrateError } from '../../errors.js';
import type { Row, Value } from '../../values.js';
import type {
  BatchStart,
  BatchWriter,
  Checkpoint,
  ForeignKey,
  LockHolder,
  QuarantinedRow,
  BatchState,
  ReadRequest,
  StateStore,
  TableInfo,
  TableSpec,
  Target,
  TargetCapabilities,
} from '../contract.js';
import { inWriteTransaction, openDatabase, SQLITE_STATE_DIALECT, sqliteSession } from '../sqlite/sqlite-database.js';
import { FileSource, type FileFormat } from './file-source.js';
import { lockFileFor, takeLockFile } from './lock-file.js';
import { INSPECT_ONLY_STATE, SqlStateStore } from './sql-state-store.js';

/** How a format writes: the first line of a new file, and one row as a line. */
export interface FileWriting {
  header(columns: readonly string[]): string;
  line(columns: readonly string[], row: readonly Value[]): string;
}

/** The sidecar SQLite file that holds the state of a folder target, and the committed length of each file. */
const STATE_FILE = '.crm-migrate-state.db';

/**
 * A folder of files as a target (an archive of what was migrated): one file per table, appended to. Files
 * have no transactions, so exactly-once comes from a sidecar SQLite file: each batch's rows are appended and
 * flushed to disk, then the checkpoint and each file's new length commit together there. A batch that did
 * not commit leaves bytes past the committed length, and they are cut off when the target is next opened.
 */
export class FileTarget implements Target {
  readonly display: string;
  readonly capabilities: TargetCapabilities = {
    transactionalDdl: false,
    bulkLoad: true,
    overlappingBatches: false,
    updates: false,
    concurrentWriters: false,
  };
  readonly state: StateStore;
  readonly #dir: string;
  #releaseLock: (() => void) | undefined;
  readonly #format: FileFormat;
  readonly #writing: FileWriting;
  readonly #db: Database.Database | undefined;
  readonly #store: SqlStateStore | undefined;

  constructor(dir: string, format: FileFormat, writing: FileWriting, display: string, readOnly: boolean) {
    this.#dir = dir;
    this.#format = format;
    this.#writing = writing;
    this.display = display;
    if (!readOnly) mkdirSync(dir, { recursive: true });
    this.#db =
      readOnly && !existsSync(path.join(dir, STATE_FILE))
        ? undefined
        : openDatabase(path.join(dir, STATE_FILE), readOnly ? 'read' : 'write');
    this.#store = this.#db ? new SqlStateStore(sqliteSession(this.#db), SQLITE_STATE_DIALECT) : undefined;
    this.state = this.#store ?? INSPECT_ONLY_STATE;
    if (this.#db && !readOnly) this.#cutUncommitted();
  }

  listTables(): Promise<string[]> {
    return this.#source().listTables();
  }

  describe(table: string): Promise<TableInfo | undefined> {
    return this.#source().describe(table);
  }

  /** Files have no constraints. */
  foreignKeys(): Promise<ForeignKey[]> {
    return Promise.resolve([]);
  }

  read(request: ReadRequest): AsyncIterable<Row[]> {
    return this.#source().read(request);
  }

  async prepare(): Promise<void> {
    const { db, store } = this.#writable();
    await store.ensure();
    db.exec('CREATE TABLE IF NOT EXISTS _crm_migrate_files (name TEXT PRIMARY KEY, length INTEGER NOT NULL)');
  }

  createTable(spec: TableSpec): Promise<void> {
    const { db } = this.#writable();
    const file = this.#file(spec.name);
    if (existsSync(file)) throw new CrmMigrateError('E_TARGET', `${path.basename(file)} exists already`);
    const fd = openSync(file, 'wx');
    writeSync(fd, this.#writing.header(spec.columns.map((c) => c.name)));
    fsyncSync(fd);
    db.prepare('INSERT OR REPLACE INTO _crm_migrate_files (name, length) VALUES (?, ?)').run(
      spec.name,
      fstatSync(fd).size,
    );
    closeSync(fd);
    return Promise.resolve();
  }

  beginBatch(start: BatchStart): Promise<BatchWriter> {
    const { db, store } = this.#writable();
    // A rejected promise, not a throw: callers await beginBatch like any other target's.
    if (start.upsertKey)
      return Promise.reject(
        new CrmMigrateError('E_PLAN', `${start.table}: a file target cannot update rows`, {
          hint: 'load incremental entities into a database; a file is an archive of full loads',
        }),
      );
    const file = this.#file(start.table);
    const fd = openSync(file, 'a');
    const from = fstatSync(fd).size;
    const writing = this.#writing;
    let text = '';
    const send = () => {
      if (text.length > 0) writeSync(fd, text);
      text = '';
    };
    const cut = () => {
      closeSync(fd);
      truncateSync(file, from);
    };
    return Promise.resolve({
      add(row: Row) {
        text += writing.line(start.columns, row);
        if (text.length >= 1 << 20) send();
      },
      flush() {
        send();
        return Promise.resolve();
      },
      attempt(rows: readonly Row[]) {
        // A file has no constraints: it never refuses a row.
        for (const row of rows) text += writing.line(start.columns, row);
        send();
        return Promise.resolve(undefined);
      },
      remove() {
        return Promise.reject(
          new CrmMigrateError('E_PLAN', `${start.table}: a file target cannot delete rows`, {
            hint: 'use deletes: ignore, or a database target',
          }),
        );
      },
      async commit(quarantine: readonly QuarantinedRow[], checkpoint: Checkpoint, state?: BatchState) {
        try {
          send();
          fsyncSync(fd);
          const length = fstatSync(fd).size;
          db.exec('BEGIN IMMEDIATE');
          await store.writeBatchState(start.runId, quarantine, checkpoint, state);
          db.prepare('INSERT OR REPLACE INTO _crm_migrate_files (name, length) VALUES (?, ?)').run(start.table, length);
          db.exec('COMMIT');
          closeSync(fd);
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          cut();
          throw new CrmMigrateError(
            'E_TARGET',
            `writing a batch to ${path.basename(file)} failed: ${(error as Error).message}`,
            { cause: error },
          );
        }
      },
      abort() {
        cut();
        return Promise.resolve();
      },
    });
  }

  async lockRun(plan: string, me: LockHolder, wait: boolean): Promise<LockHolder | undefined> {
    this.#writable();
    const taken = await takeLockFile(lockFileFor(path.join(this.#dir, STATE_FILE), plan), me, wait);
    if ('holder' in taken) return taken.holder;
    this.#releaseLock = taken.release;
    return undefined;
  }

  async reset(plan: string, tables: readonly string[]): Promise<void> {
    const { db, store } = this.#writable();
    await inWriteTransaction(db, async () => {
      for (const table of tables) {
        const file = this.#file(table);
        if (!existsSync(file)) continue;
        const header = Buffer.byteLength(
          this.#writing.header((await this.describe(table))?.columns.map((c) => c.name) ?? []),
        );
        truncateSync(file, header);
        db.prepare('INSERT OR REPLACE INTO _crm_migrate_files (name, length) VALUES (?, ?)').run(table, header);
      }
      await store.resetPlan(plan);
    });
  }

  close(): Promise<void> {
    this.#releaseLock?.();
    this.#db?.close();
    return Promise.resolve();
  }

  /** Cuts every file back to its committed length: what a crash left past it belongs to no checkpoint. */
  #cutUncommitted(): void {
    const db = this.#db as Database.Database;
    const known = db.prepare("SELECT name FROM sqlite_schema WHERE name = '_crm_migrate_files'").get();
    if (!known) return;
    for (const { name, length } of db.prepare('SELECT name, length FROM _crm_migrate_files').all() as {
      name: string;
      length: number;
    }[]) {
      const file = this.#file(name);
      if (existsSync(file) && statSync(file).size > Number(length)) truncateSync(file, Number(length));
    }
  }

  #source(): FileSource {
    return new FileSource(this.#dir, this.#format, this.display, { mayBeMissing: true });
  }

  #file(table: string): string {
    if (table.includes('/') || table.includes('\\') || table.startsWith('.'))
      throw new CrmMigrateError('E_PLAN', `"${table}" is not a file name for the target folder`);
    return path.join(this.#dir, `${table}.${this.#format.extension}`);
  }

  #writable(): { db: Database.Database; store: SqlStateStore } {
    if (!this.#db || !this.#store) throw new CrmMigrateError('E_TARGET', 'the target was opened for inspection only');
    return { db: this.#db, store: this.#store };
  }
}
