import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { TIMESTAMP_TEXT, zoneOffsetMinutes } from '../../timestamps.js';
import type { LogicalType, Row, Value } from '../../values.js';
import { RowsRejected, type Rejection } from '../../errors.js';
import type { BatchStart, BatchWriter, Checkpoint, QuarantinedRow, BatchState, Removal } from '../contract.js';
import { KEYS_PER_STATEMENT, keyInList } from '../shared/keyset.js';
import type { SqlStateStore } from '../shared/sql-state-store.js';
import { encodeRow } from '../shared/tab-text.js';
import { q } from './mysql-catalog.js';
import { mysqlFailure, type MysqlSession } from './mysql-client.js';
import { mysqlRejection } from './mysql-rejection.js';

/** Rows per INSERT statement: well inside max_allowed_packet and the 65,535 placeholders of a statement. */
const ROWS_PER_INSERT = 500;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A timestamp as DATETIME takes it: UTC, a space, no zone. */
function datetime(value: Value): Value {
  if (value instanceof Date)
    return `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())} ${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}:${pad(value.getUTCSeconds())}.${pad(value.getUTCMilliseconds(), 3)}`;
  if (typeof value !== 'string') return value;
  const m = TIMESTAMP_TEXT.exec(value.trim());
  if (!m || !m[9]) return value.replace('T', ' ');
  const [, y, mo, d, , h, mi, s, fraction] = m;
  const utc = new Date(
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)) -
      zoneOffsetMinutes(m[9]) * 60_000,
  );
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
      return (v) =>
        typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v) : v;
  }
}

/** Encoded text is handed to LOAD DATA in pieces of about this size. */
const FLUSH_AT = 256 * 1024;

/** How rows go in: LOAD DATA streams them (measured faster, see BENCHMARKS.md); upserts and bytes need INSERT. */
function loadsData(start: BatchStart, types: readonly LogicalType[]): boolean {
  return !start.upsertKey && !types.includes('bytes') && process.env.CRM_MIGRATE_MYSQL_WRITES !== 'insert';
}

/**
 * One batch as one transaction: rows stream into `LOAD DATA LOCAL INFILE` (or go as multi-row INSERTs for
 * upserts), then the quarantine rows and the checkpoint, then COMMIT: all of it or none.
 */
export async function beginMysqlBatch(
  session: MysqlSession,
  store: SqlStateStore,
  start: BatchStart,
  types: readonly LogicalType[],
  enumColumns: ReadonlySet<string>,
): Promise<BatchWriter> {
  const convert = types.map(toMysql);
  const { db } = session;
  const fail = (what: string, error: unknown) => {
    const failure = mysqlFailure('E_TARGET', `${what} ${start.table} failed`, error);
    const rejection = mysqlRejection(error, enumColumns);
    return rejection ? new RowsRejected(failure.message, rejection, error) : failure;
  };
  const rollback = () =>
    db.query('ROLLBACK').then(
      () => undefined,
      () => undefined,
    );
  await db.query('START TRANSACTION');
  // Before any row: a worker that lost its chunk writes nothing (see SqlStateStore.holdFence).
  if (start.fence)
    await store.holdFence(start.runId, start.fence).catch(async (error: unknown) => {
      await rollback();
      throw error;
    });
  const convertRow = (row: Row): Value[] => {
    const out: Value[] = new Array(row.length);
    for (let i = 0; i < row.length; i++) out[i] = (convert[i] as (v: Value) => Value)(row[i] ?? null);
    return out;
  };

  const insert = insertStatement(start);
  const channel = loadsData(start, types)
    ? loadDataChannel(session, start, convertRow)
    : insertChannel(session, insert, convertRow);

  /** INSERT statements inside a savepoint: LOAD DATA would turn a refused row into a warning and skip it. */
  const attempt = async (rows: readonly Row[]): Promise<Rejection | undefined> => {
    await db.query('SAVEPOINT crm_migrate_attempt');
    try {
      for (let at = 0; at < rows.length; at += ROWS_PER_INSERT)
        await db.query(insert, [rows.slice(at, at + ROWS_PER_INSERT).map(convertRow)]);
      await db.query('RELEASE SAVEPOINT crm_migrate_attempt');
      return undefined;
    } catch (error) {
      const rejection = mysqlRejection(error, enumColumns);
      // A deadlock rolls back the whole transaction, savepoint and all: nothing to go back to.
      if (!rejection || rejection.code === 'conflict') {
        await rollback();
        throw fail('writing a batch to', error);
      }
      await db.query('ROLLBACK TO SAVEPOINT crm_migrate_attempt');
      return rejection;
    }
  };

  return {
    add: channel.add,
    attempt,
    async flush() {
      try {
        await channel.send();
      } catch (error) {
        await rollback();
        throw fail('writing a batch to', error);
      }
    },
    async remove(keys: readonly Row[], how: Removal) {
      try {
        return await removeRows(session, start.table, keys, how);
      } catch (error) {
        await rollback();
        throw fail('removing rows from', error);
      }
    },
    async commit(quarantine: readonly QuarantinedRow[], checkpoint: Checkpoint, state?: BatchState) {
      try {
        await channel.finish();
        await store.writeBatchState(start.runId, quarantine, checkpoint, state);
        await db.query('COMMIT');
      } catch (error) {
        await rollback();
        throw fail('writing a batch to', error);
      }
    },
    abort: rollback,
  };
}

/** The INSERT of a batch's rows (`VALUES ?` takes a list of rows); an upsert updates the columns not in its key. */
function insertStatement(start: BatchStart): string {
  const into = `INSERT INTO ${q(start.table)} (${start.columns.map(q).join(', ')}) VALUES ?`;
  if (!start.upsertKey) return into;
  const rest = start.columns.filter((c) => !start.upsertKey?.includes(c));
  // An upsert on an unchanged row changes nothing: MySQL leaves a row alone when the new values equal it.
  return `${into} ON DUPLICATE KEY UPDATE ${
    rest.length === 0
      ? `${q(start.upsertKey[0])} = ${q(start.upsertKey[0])}`
      : rest
          .map(q)
          .map((c) => `${c} = VALUES(${c})`)
          .join(', ')
  }`;
}

/** How a batch's rows reach the table: taken one by one, sent as the database can take them, finished at commit. */
interface RowChannel {
  add(row: Row): void;
  send(): Promise<void>;
  finish(): Promise<void>;
}

/** Rows as multi-row INSERTs, ROWS_PER_INSERT a statement. */
function insertChannel(session: MysqlSession, insert: string, convertRow: (row: Row) => Value[]): RowChannel {
  let pending: Value[][] = [];
  const send = async () => {
    while (pending.length > 0) {
      const rows = pending.slice(0, ROWS_PER_INSERT);
      pending = pending.slice(ROWS_PER_INSERT);
      await session.db.query(insert, [rows]);
    }
  };
  return { add: (row) => void pending.push(convertRow(row)), send, finish: send };
}

/** Rows streamed into LOAD DATA LOCAL INFILE as tab-separated text, from the first FLUSH_AT bytes on. */
function loadDataChannel(session: MysqlSession, start: BatchStart, convertRow: (row: Row) => Value[]): RowChannel {
  const { db, raw } = session;
  const columns = start.columns.map(q).join(', ');
  let text = '';
  let stream: PassThrough | undefined;
  let loading: Promise<unknown> | undefined;
  let failure: unknown;
  // LOAD DATA takes its rows from a stream the driver asks for; it starts with the first rows.
  const open = (): PassThrough => {
    const data = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
    const sql = `LOAD DATA LOCAL INFILE 'crm-migrate-batch' INTO TABLE ${q(start.table)} CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${columns})`;
    loading = new Promise((resolve, reject) =>
      raw.query({ sql, infileStreamFactory: () => data }, (error, result) => (error ? reject(error) : resolve(result))),
    );
    loading.catch((error: unknown) => (failure ??= error));
    return data;
  };
  return {
    add: (row) => {
      text += encodeRow(convertRow(row));
    },
    async send() {
      if (failure) throw failure;
      if (text.length < FLUSH_AT) return;
      stream ??= open();
      const chunk = text;
      text = '';
      if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), loading]);
    },
    async finish() {
      if (text.length === 0 && !stream) return;
      stream ??= open();
      stream.end(text);
      text = '';
      const result = (await loading) as { warningStatus?: number };
      // With LOCAL, the server turns errors into warnings and skips the row (a duplicate key, a value that
      // does not convert): a skipped row would be a silently lost row, so any warning fails the batch.
      if ((result.warningStatus ?? 0) > 0) {
        const [warnings] = await db.query({ sql: 'SHOW WARNINGS LIMIT 1', rowsAsArray: true });
        const [level, code, message] = ((warnings as unknown[][])[0] ?? []) as [string, number, string];
        throw Object.assign(new Error(message ?? 'LOAD DATA reported a warning'), {
          sqlMessage: message,
          errno: code,
          code: `${level ?? 'Warning'} ${code ?? ''}`.trim(),
        });
      }
    },
  };
}

/** Deletes (or tombstones) rows by key, KEYS_PER_STATEMENT a statement; the rows changed. */
async function removeRows(session: MysqlSession, table: string, keys: readonly Row[], how: Removal): Promise<number> {
  const keyColumns = how.key.map(q);
  let changed = 0;
  for (let at = 0; at < keys.length; at += KEYS_PER_STATEMENT) {
    const chunk = keys.slice(at, at + KEYS_PER_STATEMENT);
    const match = keyInList(keyColumns, chunk.length, () => '?');
    const params = chunk.flat().map((v) => (typeof v === 'bigint' ? v.toString() : v));
    const tomb = how.tombstone;
    const [result] = tomb
      ? await session.db.query(
          `UPDATE ${q(table)} SET ${q(tomb.column)} = ? WHERE ${q(tomb.column)} IS NULL AND ${match}`,
          [datetime(tomb.at), ...params],
        )
      : await session.db.query(`DELETE FROM ${q(table)} WHERE ${match}`, params);
    changed += (result as { affectedRows?: number }).affectedRows ?? 0;
  }
  return changed;
}
