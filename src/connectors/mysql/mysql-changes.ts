import { createHash } from 'node:crypto';
import ZongJi, {
  type BinlogEvent,
  type DeleteRowsEvent,
  type QueryEvent,
  type RotateEvent,
  type TableMapEntry,
  type UpdateRowData,
  type UpdateRowsEvent,
  type WriteRowsEvent,
} from '@vlasky/zongji';
import { CrmMigrateError } from '../../errors.js';
import type { Value } from '../../values.js';
import type {
  ChangeBatch,
  ChangeFeed,
  ChangeRequirement,
  ChangeStreamName,
  ChangeStreamStatus,
  LogPosition,
  TableInfo,
} from '../contract.js';
import { ChangeQueue } from '../shared/change-queue.js';
import { describeTable, fromMysql } from './mysql-catalog.js';
import { describeMysqlError, mysqlFailure, type MysqlEndpoint, type MysqlSession } from './mysql-client.js';

/**
 * A position is the binlog file's number, the offset where the transaction starts, and the change's number
 * within it (`END` after the whole transaction), then the file's name: text order is log order. Reading
 * again from the transaction's start and skipping what is at or before the stored position is how a batch
 * may end inside a large transaction.
 */
const END = 'zzzzzzzzzz';
export function binlogPosition(file: string, offset: number, seq: number | 'end'): LogPosition {
  const number = /(\d+)$/.exec(file)?.[1] ?? '0';
  return `${number.padStart(10, '0')}.${String(offset).padStart(12, '0')}.${seq === 'end' ? END : String(seq).padStart(10, '0')}@${file}`;
}
function parsePosition(position: LogPosition): { file: string; offset: number } {
  const [head = '', file = ''] = position.split('@');
  return { file, offset: Number(head.split('.')[1] ?? 4) };
}

/** The replica id the follower reads the binlog as: fixed per stream, so two plans never share one. */
const replicaId = (name: string): number =>
  100_000 + (createHash('sha256').update(name).digest().readUInt32BE(0) % 4_000_000_000);

/** A TRUNCATE statement in the binlog, and the table it empties. */
const TRUNCATE = /^\s*truncate\s+(?:table\s+)?`?(?:[^`.\s]+`?\.`?)?([^`\s;]+)`?/i;

/**
 * MySQL's and MariaDB's change log through the binlog, read by @vlasky/zongji (row events with whole row
 * images, MariaDB GTIDs understood). The binlog serves every reader: there is no slot to create, and the
 * server keeps the log by its own retention, so a follower that stops too long finds it purged.
 */
export class MysqlChanges implements ChangeFeed {
  #zongji: ZongJi | undefined;

  constructor(
    private readonly endpoint: MysqlEndpoint,
    private readonly session: MysqlSession,
  ) {}

  async #variables(): Promise<Record<string, string>> {
    const [rows] = await this.session.db.query({
      sql: "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', 'server_id', 'expire_logs_days', 'binlog_expire_logs_seconds')",
      rowsAsArray: true,
    });
    return Object.fromEntries((rows as [string, string][]).map(([k, v]) => [k.toLowerCase(), String(v)]));
  }

  async requirements(stream: ChangeStreamName): Promise<ChangeRequirement[]> {
    const v = await this.#variables();
    const [grantRows] = await this.session.db.query({ sql: 'SHOW GRANTS', rowsAsArray: true });
    const grants = (grantRows as string[][]).map((r) => String(r[0])).join('\n');
    const may = (privilege: RegExp) => /ALL PRIVILEGES ON \*\.\*/i.test(grants) || privilege.test(grants);
    const checks: ChangeRequirement[] = [
      {
        ok: /^(on|1)$/i.test(v.log_bin ?? ''),
        what: 'the binlog is on (log_bin)',
        fix: 'start the server with log_bin (log-bin = mysql-bin in my.cnf) and restart it',
      },
      {
        ok: (v.binlog_format ?? '').toUpperCase() === 'ROW',
        what: `binlog_format is ROW (it is ${v.binlog_format ?? 'unknown'})`,
        fix: 'SET GLOBAL binlog_format = ROW (and in my.cnf)',
      },
      {
        ok: (v.binlog_row_image ?? 'FULL').toUpperCase() === 'FULL',
        what: `binlog_row_image is FULL (it is ${v.binlog_row_image ?? 'unknown'})`,
        fix: 'SET GLOBAL binlog_row_image = FULL: every change must carry the whole row',
      },
      {
        ok: Number(v.server_id ?? 0) > 0 && Number(v.server_id) !== replicaId(stream.name),
        what: `the server has a server_id of its own (${v.server_id ?? 'none'})`,
        fix: 'set server_id in my.cnf to a number no replica uses',
      },
      {
        ok: may(/REPLICATION SLAVE|REPLICATION REPLICA/i),
        what: 'the user may read the binlog (REPLICATION SLAVE)',
        fix: 'GRANT REPLICATION SLAVE ON *.* TO <the source user>',
      },
      {
        ok: may(/REPLICATION CLIENT|BINLOG MONITOR/i),
        what: 'the user may see binlog positions (REPLICATION CLIENT / BINLOG MONITOR)',
        fix: 'GRANT REPLICATION CLIENT ON *.* TO <the source user>',
      },
    ];
    for (const table of stream.tables) {
      const info = await describeTable(this.session.db, table);
      checks.push({
        ok: (info?.primaryKey.length ?? 0) > 0,
        what: `${table} has a primary key (changes are applied by key)`,
        fix: `ALTER TABLE ${table} ADD PRIMARY KEY (…)`,
      });
    }
    const days = Number(v.expire_logs_days ?? 0);
    const seconds = Number(v.binlog_expire_logs_seconds ?? days * 86_400);
    checks.push({
      ok: true,
      what:
        seconds > 0
          ? `the binlog is kept ${Math.round(seconds / 3600)} hours: a follower stopped longer needs a new snapshot`
          : 'the binlog is kept until purged by hand',
    });
    return checks;
  }

  setupStatements(): string[] {
    return [];
  }

  async setup(): Promise<void> {
    // The binlog serves every reader: nothing to create on the server.
  }

  teardownStatements(): string[] {
    return [];
  }

  async teardown(): Promise<void> {
    // Nothing was created: the binlog goes on by the server's retention.
  }

  async #masterStatus(): Promise<{ file: string; offset: number } | undefined> {
    const [rows] = await this.session.db.query({ sql: 'SHOW MASTER STATUS', rowsAsArray: true });
    const row = (rows as unknown[][])[0];
    return row ? { file: String(row[0]), offset: Number(row[1]) } : undefined;
  }

  async status(stream: ChangeStreamName): Promise<ChangeStreamStatus> {
    const at = await this.#masterStatus();
    return {
      name: stream.name,
      exists: at !== undefined,
      current: at && `${at.file}:${at.offset}`,
      active: this.#zongji !== undefined,
    };
  }

  async snapshotStart(): Promise<LogPosition> {
    // MariaDB tells the binlog position of a consistent snapshot: every transaction before it is committed in
    // the snapshot, so a snapshot read later sees them all. MySQL has no such status: its position now.
    const raw = this.session.db;
    try {
      await raw.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      const [rows] = await raw.query({ sql: "SHOW STATUS LIKE 'binlog_snapshot_%'", rowsAsArray: true });
      const status = Object.fromEntries((rows as [string, string][]).map(([k, v]) => [k.toLowerCase(), v]));
      await raw.query('COMMIT');
      const file = status.binlog_snapshot_file;
      const offset = Number(status.binlog_snapshot_position);
      if (file && offset > 0) return binlogPosition(file, offset, 0);
    } catch (error) {
      throw mysqlFailure('E_SOURCE', 'reading the binlog position failed', error);
    }
    const at = await this.#masterStatus();
    if (!at)
      throw new CrmMigrateError('E_STATE', 'the source writes no binlog', { hint: 'crm-migrate cdc status PLAN' });
    return binlogPosition(at.file, at.offset, 0);
  }

  async *follow(
    stream: ChangeStreamName,
    from: LogPosition,
    options: { readonly batchSize: number; readonly maxWaitMs: number; readonly signal: AbortSignal },
  ): AsyncIterable<ChangeBatch> {
    const start = parsePosition(from);
    const [logs] = await this.session.db.query({ sql: 'SHOW BINARY LOGS', rowsAsArray: true });
    if (!(logs as unknown[][]).some((r) => String(r[0]) === start.file))
      throw new CrmMigrateError(
        'E_STATE',
        `binlog ${start.file}, where the target's last applied change is, has been purged from the source`,
        {
          hint: 'the changes since are gone: a new snapshot is needed (sync --fresh); keep the binlog longer (binlog_expire_logs_seconds) while following',
        },
      );
    const [current] = await this.session.db.query({ sql: 'SELECT DATABASE()', rowsAsArray: true });
    const schema = String((current as unknown[][])[0]?.[0] ?? '');
    const tables = new Map<
      string,
      { info: TableInfo; decode: (row: Record<string, unknown>) => Record<string, Value> }
    >();
    for (const table of stream.tables) {
      const info = await describeTable(this.session.db, table);
      if (info) tables.set(table, { info, decode: rowDecoder(info) });
    }
    const queue = new ChangeQueue(options);
    const url = new URL(this.endpoint.url);
    const zongji = new ZongJi({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: schema,
      ...(this.endpoint.ssl ? { ssl: this.endpoint.ssl } : {}),
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      timezone: 'Z',
      charset: 'UTF8MB4_UNICODE_CI',
    });
    this.#zongji = zongji;
    let file = start.file;
    let txStart = start.offset;
    let seq = 0;
    const shapes = new Map<string, { tableId: number; columns: Map<string, string> }>();
    /** A new table id for a followed table: its columns may have changed (ALTER TABLE) since the last one. */
    const reshaped = async (name: string, map: TableMapEntry, tableId: number) => {
      const known = shapes.get(name);
      if (known?.tableId === tableId) return;
      const columns = new Map(map.columnSchemas.map((c) => [c.COLUMN_NAME, c.COLUMN_TYPE]));
      shapes.set(name, { tableId, columns });
      const before = known ? [...known.columns.keys()] : (tables.get(name)?.info.columns.map((c) => c.name) ?? []);
      const retyped = known
        ? [...columns].filter(([c, type]) => known.columns.has(c) && known.columns.get(c) !== type).map(([c]) => c)
        : [];
      if (retyped.length === 0 && before.join(',') === [...columns.keys()].join(',')) return;
      await queue.schemaChange({
        table: name,
        columns: [...columns.keys()],
        retyped,
        position: binlogPosition(file, txStart, seq),
      });
    };
    /** One event, in order: the reader hands events over faster than they may be applied, so they wait here. */
    const handle = async (event: BinlogEvent): Promise<void> => {
      const kind = event.getEventName();
      if (kind === 'rotate') {
        const rotate = event as RotateEvent;
        file = rotate.binlogName;
        txStart = rotate.position;
        return;
      }
      if (kind === 'mariadbgtid' || kind === 'gtid') return queue.begin();
      if (kind === 'xid' || (kind === 'query' && event.nextPosition > 0)) {
        const query = kind === 'query' ? (event as QueryEvent).query : '';
        if (/^\s*BEGIN/i.test(query)) return queue.begin();
        const table = TRUNCATE.exec(query)?.[1];
        if (table && tables.has(table))
          queue.fail(
            new CrmMigrateError(
              'E_STATE',
              `${table} was emptied in the source (TRUNCATE): the stream stopped rather than empty the target`,
              {
                hint: 'if the table was emptied on purpose, load it again with sync --fresh',
              },
            ),
          );
        queue.close(binlogPosition(file, txStart, 'end'));
        txStart = event.nextPosition;
        seq = 0;
        return;
      }
      if (kind !== 'writerows' && kind !== 'updaterows' && kind !== 'deleterows') return;
      const rows = event as WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent;
      const map = rows.tableMap[rows.tableId];
      const table = map && map.parentSchema === schema ? tables.get(map.tableName) : undefined;
      if (!table || !map) return;
      await reshaped(map.tableName, map, rows.tableId);
      for (const row of rows.rows as unknown[]) {
        seq += 1;
        const at = { table: map.tableName, position: binlogPosition(file, txStart, seq), committedAt: event.timestamp };
        if (kind === 'updaterows') {
          const { before, after } = row as UpdateRowData;
          const old = table.decode(before);
          const now = table.decode(after);
          const keyChanged = table.info.primaryKey.some((k) => String(old[k]) !== String(now[k]));
          await queue.push({ ...at, kind: 'update', row: now, oldKey: keyChanged ? old : undefined });
        } else {
          await queue.push({
            ...at,
            kind: kind === 'writerows' ? 'insert' : 'delete',
            row: table.decode(row as Record<string, unknown>),
          });
        }
      }
    };
    const inbox: BinlogEvent[] = [];
    let draining = false;
    let paused = false;
    const drain = async () => {
      if (draining) return;
      draining = true;
      try {
        while (inbox.length > 0) await handle(inbox.shift() as BinlogEvent);
      } catch (error) {
        queue.fail(error);
      } finally {
        draining = false;
        if (paused) zongji.connection?.resume();
        paused = false;
      }
    };
    zongji.on('binlog', (event: BinlogEvent) => {
      inbox.push(event);
      // Backpressure: the socket is paused while events wait to be applied.
      if (inbox.length > options.batchSize && !paused) {
        paused = true;
        zongji.connection?.pause();
      }
      void drain();
    });
    zongji.on('error', (error: unknown) => queue.fail(error));
    const ready = new Promise<void>((resolve, reject) => {
      zongji.once('ready', () => {
        countPauses(zongji.connection);
        resolve();
      });
      zongji.once('error', reject);
    });
    zongji.start({
      serverId: replicaId(stream.name),
      filename: start.file,
      position: start.offset,
      includeEvents: [
        'rotate',
        'tablemap',
        'writerows',
        'updaterows',
        'deleterows',
        'xid',
        'query',
        'mariadbgtid',
        'gtid',
      ],
    });
    try {
      await ready;
      yield* queue.batches();
    } catch (error) {
      if (error instanceof CrmMigrateError) throw error;
      throw new CrmMigrateError('E_SOURCE', `reading the binlog failed: ${describeMysqlError(error)}`, {
        cause: error,
      });
    } finally {
      zongji.stop();
      this.#zongji = undefined;
    }
  }

  async acknowledge(): Promise<void> {
    // The binlog is not kept for one reader: nothing to confirm.
  }

  async close(): Promise<void> {
    this.#zongji?.stop();
  }
}

/**
 * Makes a connection's pause and resume counted, so two parties can hold it paused: zongji pauses the binlog
 * socket while it reads a new table's columns, and the follower while events wait to be applied. Plain
 * pause/resume let one party's resume end the other's pause — rows decoded before their columns were known
 * are then dropped (seen: every update lost after the first table map).
 */
function countPauses(connection: { pause(): void; resume(): void } | null): void {
  if (!connection) return;
  const pause = connection.pause.bind(connection);
  const resume = connection.resume.bind(connection);
  let holds = 0;
  connection.pause = () => {
    if (holds++ === 0) pause();
  };
  connection.resume = () => {
    if (holds > 0 && --holds === 0) resume();
  };
}

/** Turns a binlog row image into values by column name, as a read decodes them. */
function rowDecoder(info: TableInfo): (row: Record<string, unknown>) => Record<string, Value> {
  const columns = info.columns.map((c) => ({ name: c.name, convert: fromMysql(c.type) }));
  return (raw) => {
    const row: Record<string, Value> = {};
    for (const { name, convert } of columns) if (name in raw) row[name] = convert(raw[name] ?? null);
    return row;
  };
}
