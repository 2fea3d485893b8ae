import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import pgCopy from 'pg-copy-streams';
import type { Row } from '../../values.js';
import { RowsRejected, type Rejection } from '../../errors.js';
import type { BatchStart, BatchWriter, Checkpoint, QuarantinedRow, BatchState, Removal } from '../contract.js';
import { quoteIdentifier } from '../shared/identifiers.js';
import { KEYS_PER_STATEMENT, keyInList } from '../shared/keyset.js';
import type { SqlStateStore } from '../shared/sql-state-store.js';
import { encodeRow } from './copy-text.js';
import { qualified } from './postgres-catalog.js';
import { pgFailure } from './postgres-client.js';
import { pgRejection, violatedConstraint } from './postgres-rejection.js';

/** Encoded text is handed to the COPY stream in pieces of about this size. */
const FLUSH_AT = 256 * 1024;
/**
 * How much the COPY stream buffers before `flush` waits for the database. Node's default (16 KB) is less
 * than one read chunk, so every flush waited and the database and the mapper took turns; measured on the
 * benchmark, 4 MB lets them overlap and keeps memory bounded.
 */
const COPY_BUFFER = 4 * 1024 * 1024;

const STAGE = '_crm_migrate_stage';

/**
 * Moves the staged rows into the table. A row already there is updated only when a column differs, so
 * re-applying an increment writes nothing; if the stage holds a key twice (a row that changed while it was
 * being read), the one staged last wins.
 */
function upsertFromStage(start: BatchStart, key: readonly string[]): string {
  const q = (c: string) => quoteIdentifier(c);
  const columns = start.columns.map(q).join(', ');
  const keys = key.map(q).join(', ');
  const rest = start.columns.filter((c) => !key.includes(c)).map(q);
  const onConflict =
    rest.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')} WHERE (${rest.map((c) => `dest.${c}`).join(', ')}) IS DISTINCT FROM (${rest.map((c) => `EXCLUDED.${c}`).join(', ')})`;
  return `INSERT INTO ${qualified(start.table)} AS dest (${columns})
    SELECT DISTINCT ON (${keys}) ${columns} FROM ${STAGE} ORDER BY ${keys}, ctid DESC
    ON CONFLICT (${keys}) ${onConflict}`;
}

/**
 * One batch as one transaction: BEGIN, rows streamed into `COPY … FROM STDIN` while they are mapped, then the
 * quarantine rows and the checkpoint, then COMMIT. Rows are encoded the moment they are added, so no batch of
 * row objects ever accumulates in memory, and the database ingests while the next rows are mapped.
 */
export class PostgresBatchWriter implements BatchWriter {
  readonly #client: pg.Client;
  readonly #store: SqlStateStore;
  readonly #start: BatchStart;
  readonly #release: () => void;
  #copy: ReturnType<typeof pgCopy.from> | undefined;
  #failure: unknown;
  #text = '';
  /** Committed or rolled back: the connection is released, once. */
  #ended = false;

  private constructor(client: pg.Client, store: SqlStateStore, start: BatchStart, release: () => void) {
    this.#client = client;
    this.#store = store;
    this.#start = start;
    this.#release = release;
  }

  /**
   * `release` hands the connection back once the batch has committed or rolled back.
   *
   * The batch commits with synchronous_commit off: a server crash may then lose the last few batches, but
   * each only together with its own checkpoint (they are one transaction), so a resume re-reads exactly
   * those rows: exactly-once holds, and no batch waits for a WAL flush. BEGIN is not awaited: node-postgres
   * sends queries in order, and a failure surfaces at the next statement the batch awaits.
   */
  static begin(client: pg.Client, store: SqlStateStore, start: BatchStart, release: () => void): PostgresBatchWriter {
    const writer = new PostgresBatchWriter(client, store, start, release);
    // Upserts are staged: COPY into a temporary table, then one INSERT … ON CONFLICT at commit.
    const columns = start.columns.map((c) => quoteIdentifier(c)).join(', ');
    const stage = start.upsertKey
      ? `; CREATE TEMP TABLE ${STAGE} ON COMMIT DROP AS SELECT ${columns} FROM ${qualified(start.table)} WITH NO DATA`
      : '';
    client
      .query(`BEGIN; SET LOCAL synchronous_commit = off${stage}`)
      .catch((error: unknown) => (writer.#failure ??= error));
    return writer;
  }

  add(row: Row): void {
    this.#text += encodeRow(row);
    if (this.#text.length >= FLUSH_AT) this.#send();
  }

  async flush(): Promise<void> {
    if (!this.#send())
      await Promise.race([
        once(this.#copy as NodeJS.EventEmitter, 'drain'),
        finished(this.#copy as NodeJS.WritableStream),
      ]);
    if (this.#failure) throw this.#failed();
  }

  async attempt(rows: readonly Row[]): Promise<Rejection | undefined> {
    if (this.#failure) throw this.#failed();
    const client = this.#client;
    await client.query('SAVEPOINT crm_migrate_attempt');
    try {
      const columns = this.#start.columns.map((c) => quoteIdentifier(c)).join(', ');
      const into = this.#start.upsertKey ? STAGE : `${qualified(this.#start.table)} (${columns})`;
      const copy = client.query(pgCopy.from(`COPY ${into} FROM STDIN`));
      const done = finished(copy);
      copy.end(rows.map(encodeRow).join(''));
      await done;
      if (this.#start.upsertKey) {
        await client.query(upsertFromStage(this.#start, this.#start.upsertKey));
        await client.query(`TRUNCATE ${STAGE}`);
      }
      await client.query('RELEASE SAVEPOINT crm_migrate_attempt');
      return undefined;
    } catch (error) {
      const rejection = pgRejection(error);
      if (!rejection) {
        await this.abort();
        throw pgFailure('E_TARGET', `writing a batch to ${this.#start.table} failed`, error);
      }
      await client.query('ROLLBACK TO SAVEPOINT crm_migrate_attempt');
      if (rejection.code === 'unique_violation' && (await this.#isPrimaryKey(violatedConstraint(error))))
        return { ...rejection, code: 'key_exists' };
      return rejection;
    }
  }

  async #isPrimaryKey(constraint: string | undefined): Promise<boolean> {
    if (!constraint) return false;
    const found = await this.#client.query(
      `SELECT 1 FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass AND contype = 'p'`,
      [constraint, qualified(this.#start.table)],
    );
    return found.rows.length > 0;
  }

  async remove(keys: readonly Row[], how: Removal): Promise<number> {
    const table = qualified(this.#start.table);
    const columns = how.key.map((k) => quoteIdentifier(k));
    let changed = 0;
    for (let at = 0; at < keys.length; at += KEYS_PER_STATEMENT) {
      const chunk = keys.slice(at, at + KEYS_PER_STATEMENT);
      const params: unknown[] = chunk.flat();
      const firstKeyParam = how.tombstone ? 2 : 1;
      const match = keyInList(columns, chunk.length, (i) => `$${i}`, firstKeyParam);
      const sql = how.tombstone
        ? `UPDATE ${table} SET ${quoteIdentifier(how.tombstone.column)} = $1 WHERE ${quoteIdentifier(how.tombstone.column)} IS NULL AND ${match}`
        : `DELETE FROM ${table} WHERE ${match}`;
      if (how.tombstone) params.unshift(how.tombstone.at);
      try {
        changed += (await this.#client.query(sql, params)).rowCount ?? 0;
      } catch (error) {
        await this.abort();
        throw pgFailure('E_TARGET', `removing rows from ${this.#start.table} failed`, error);
      }
    }
    return changed;
  }

  async commit(quarantine: readonly QuarantinedRow[], checkpoint: Checkpoint, state?: BatchState): Promise<void> {
    try {
      this.#send();
      if (this.#copy) {
        this.#copy.end();
        await finished(this.#copy);
        if (this.#start.upsertKey) await this.#client.query(upsertFromStage(this.#start, this.#start.upsertKey));
      }
      await this.#store.writeBatchState(this.#start.runId, quarantine, checkpoint, state);
      await this.#client.query('COMMIT');
      this.#ended = true;
      this.#release();
    } catch (error) {
      await this.abort();
      throw batchFailure(this.#start.table, this.#failure ?? error);
    }
  }

  async abort(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#copy?.destroy();
    await this.#client.query('ROLLBACK').catch(() => undefined);
    this.#release();
  }

  /** Hands the encoded text to COPY; false when the stream wants the caller to wait for 'drain'. */
  #send(): boolean {
    if (this.#text === '') return true;
    if (!this.#copy) {
      const columns = this.#start.columns.map((c) => quoteIdentifier(c)).join(', ');
      const into = this.#start.upsertKey ? STAGE : `${qualified(this.#start.table)} (${columns})`;
      this.#copy = this.#client.query(pgCopy.from(`COPY ${into} FROM STDIN`, { highWaterMark: COPY_BUFFER }));
      // Recorded, and thrown by the next flush or commit: a COPY error must not go unhandled in between.
      this.#copy.on('error', (error: unknown) => (this.#failure ??= error));
    }
    const text = this.#text;
    this.#text = '';
    return this.#copy.write(text);
  }

  #failed(): Error {
    return batchFailure(this.#start.table, this.#failure);
  }
}

/** A failed batch: `RowsRejected` when the database refused a row for its data, so the engine can find it. */
function batchFailure(table: string, error: unknown): Error {
  const failure = pgFailure('E_TARGET', `writing a batch to ${table} failed`, error);
  const rejection = pgRejection(error);
  return rejection ? new RowsRejected(failure.message, rejection, error) : failure;
}
