import type pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
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
import { quoteIdentifier } from '../shared/identifiers.js';
import { ChangeQueue } from '../shared/change-queue.js';
import { describeTable, fieldParser, qualified } from './postgres-catalog.js';
import { connect, describePgError, pgFailure, type PgEndpoint } from './postgres-client.js';

/**
 * A position is the transaction's commit LSN (16 hex digits, so text order is log order) and the change's
 * number within it; `END` after a whole transaction. A keepalive's position (idle source) is its LSN and 0.
 */
const END = 'zzzzzzzzzz';
const lsnText = (lsn: string): string => {
  const [hi = '0', lo = '0'] = lsn.split('/');
  return hi.padStart(8, '0').toUpperCase() + lo.padStart(8, '0').toUpperCase();
};
const lsnOf = (text: string): bigint => BigInt(`0x${text.slice(0, 16)}`);
const lsnString = (n: bigint): string =>
  `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
export const pgPosition = (lsn: string, seq: number | 'end'): LogPosition =>
  `${lsnText(lsn)}:${seq === 'end' ? END : String(seq).padStart(10, '0')}`;

/** Values as text, decoded by the column's logical type as COPY reads are (not by node-postgres' own parsers). */
class TextPgoutput extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer);
    if (message.tag === 'relation') for (const column of message.columns) column.parser = (raw: unknown) => raw;
    return message;
  }
}

const slotLiteral = (client: pg.Client, name: string) => client.escapeLiteral(name);

/**
 * PostgreSQL's change log through logical replication: the `pgoutput` plugin, read by pg-logical-replication
 * with its automatic acknowledgement and keepalive off (its keepalive would confirm what was only received),
 * and its flow control on, so the socket is read only as fast as the engine applies batches.
 */
export class PostgresChanges implements ChangeFeed {
  #service: LogicalReplicationService | undefined;

  constructor(
    private readonly url: PgEndpoint,
    private readonly client: pg.Client,
  ) {}

  async requirements(stream: ChangeStreamName): Promise<ChangeRequirement[]> {
    const q = <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) =>
      this.client.query<T>(sql, values).then((r) => r.rows);
    const [level] = await q<{ wal_level: string }>('SHOW wal_level');
    const [role] = await q<{ ok: boolean }>(
      'SELECT rolreplication OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user',
    );
    const published = new Set(
      (
        await q<{ t: string }>(
          "SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1",
          [stream.name],
        )
      ).map((r) => r.t),
    );
    const [slot] = await q<{ plugin: string; wal_status: string | null }>(
      'SELECT plugin, wal_status FROM pg_replication_slots WHERE slot_name = $1',
      [stream.name],
    );
    const checks: ChangeRequirement[] = [
      {
        ok: level?.wal_level === 'logical',
        what: `wal_level is logical (it is ${level?.wal_level ?? 'unknown'})`,
        fix: 'set wal_level = logical in postgresql.conf and restart the server',
      },
      {
        ok: role?.ok === true,
        what: 'the role may replicate',
        fix: 'ALTER ROLE <the source user> REPLICATION',
      },
    ];
    for (const table of stream.tables) {
      const identity = await this.#identity(table);
      checks.push({
        ok: published.has(await this.#qualifiedName(table)),
        what: `publication ${stream.name} has ${table}`,
        fix: 'crm-migrate cdc setup PLAN',
      });
      checks.push({
        ok: identity.full || (identity.default && identity.hasKey),
        what: `${table} sends the old row's key with updates and deletes (REPLICA IDENTITY ${identity.full ? 'FULL' : identity.default ? 'DEFAULT' : 'other'}${identity.hasKey ? '' : ', no primary key'})`,
        fix: `ALTER TABLE ${table} REPLICA IDENTITY FULL (without it, the server refuses the old CRM's updates of a table with no primary key once it is published)`,
      });
    }
    checks.push({
      ok: slot !== undefined && slot.plugin === 'pgoutput' && slot.wal_status !== 'lost',
      what: `replication slot ${stream.name} exists${slot?.wal_status === 'lost' ? ' (it has lost WAL: a new snapshot is needed)' : ''}`,
      fix: 'crm-migrate cdc setup PLAN',
    });
    return checks;
  }

  async #qualifiedName(table: string): Promise<string> {
    const [row] = (
      await this.client.query<{ n: string }>(
        'SELECT n.nspname || $2 || c.relname AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass',
        [qualified(table), '.'],
      )
    ).rows;
    return row?.n ?? table;
  }

  async #identity(table: string): Promise<{ full: boolean; default: boolean; hasKey: boolean }> {
    const [row] = (
      await this.client.query<{ ident: string; haskey: boolean }>(
        'SELECT relreplident AS ident, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS haskey FROM pg_class c WHERE c.oid = $1::regclass',
        [qualified(table)],
      )
    ).rows;
    return { full: row?.ident === 'f', default: row?.ident === 'd', hasKey: row?.haskey === true };
  }

  setupStatements(stream: ChangeStreamName): string[] {
    return [
      `CREATE PUBLICATION ${quoteIdentifier(stream.name)} FOR TABLE ${stream.tables.map(qualified).join(', ')}`,
      `SELECT pg_create_logical_replication_slot(${slotLiteral(this.client, stream.name)}, 'pgoutput')`,
    ];
  }

  async setup(stream: ChangeStreamName): Promise<void> {
    // The source connection is read-only; these two statements are the only ones crm-migrate runs that change
    // the server, and they create what the follower reads, never a legacy row.
    const admin = await connect(this.url);
    try {
      const exists = await admin.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [stream.name]);
      const tables = stream.tables.map(qualified).join(', ');
      await admin.query(
        exists.rowCount
          ? `ALTER PUBLICATION ${quoteIdentifier(stream.name)} SET TABLE ${tables}`
          : `CREATE PUBLICATION ${quoteIdentifier(stream.name)} FOR TABLE ${tables}`,
      );
      const slot = await admin.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [stream.name]);
      if (!slot.rowCount) await admin.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [stream.name]);
    } catch (error) {
      throw pgFailure('E_SOURCE', `setting up change capture ${stream.name} failed`, error);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  teardownStatements(stream: ChangeStreamName): string[] {
    return [
      `SELECT pg_drop_replication_slot(${slotLiteral(this.client, stream.name)})`,
      `DROP PUBLICATION IF EXISTS ${quoteIdentifier(stream.name)}`,
    ];
  }

  async teardown(stream: ChangeStreamName): Promise<void> {
    const admin = await connect(this.url);
    try {
      await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [
        stream.name,
      ]);
      await admin.query(`DROP PUBLICATION IF EXISTS ${quoteIdentifier(stream.name)}`);
    } catch (error) {
      throw pgFailure('E_SOURCE', `dropping change capture ${stream.name} failed`, error);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  async status(stream: ChangeStreamName): Promise<ChangeStreamStatus> {
    const [row] = (
      await this.client.query<{
        active: boolean;
        confirmed: string | null;
        wal_status: string | null;
        current: string;
        retained: string | null;
      }>(
        `SELECT active, confirmed_flush_lsn::text AS confirmed, wal_status, pg_current_wal_lsn()::text AS current,
                pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS retained
           FROM pg_replication_slots WHERE slot_name = $1`,
        [stream.name],
      )
    ).rows;
    if (!row) return { name: stream.name, exists: false };
    return {
      name: stream.name,
      exists: true,
      active: row.active,
      confirmed: row.confirmed ?? undefined,
      current: row.current,
      retainedBytes: row.retained === null ? undefined : Number(row.retained),
      lost: row.wal_status === 'lost',
    };
  }

  async snapshotStart(stream: ChangeStreamName): Promise<LogPosition> {
    const status = await this.status(stream);
    this.#usable(stream, status);
    // The slot holds every change from its confirmed position on; the follower confirms only what it applied.
    return pgPosition(status.confirmed ?? '0/0', 0);
  }

  #usable(stream: ChangeStreamName, status: ChangeStreamStatus): void {
    if (!status.exists)
      throw new CrmMigrateError('E_STATE', `the source has no replication slot ${stream.name}`, {
        hint: 'crm-migrate cdc setup PLAN creates it (and its publication); if it was dropped, a new snapshot is needed: sync --fresh',
      });
    if (status.lost)
      throw new CrmMigrateError(
        'E_STATE',
        `replication slot ${stream.name} has lost WAL it needed (wal_status = lost)`,
        {
          hint: 'changes are gone: run cdc teardown and cdc setup, then a new snapshot with sync --fresh',
        },
      );
  }

  async *follow(
    stream: ChangeStreamName,
    from: LogPosition,
    options: { readonly batchSize: number; readonly maxWaitMs: number; readonly signal: AbortSignal },
  ): AsyncIterable<ChangeBatch> {
    const status = await this.status(stream);
    this.#usable(stream, status);
    // A slot confirmed beyond what was applied is not the one the target followed (dropped and made again).
    if (status.confirmed && lsnOf(pgPosition(status.confirmed, 0)) > lsnOf(from) + 1n)
      throw new CrmMigrateError(
        'E_STATE',
        `replication slot ${stream.name} starts after the last change the target applied: changes in between are gone`,
        { hint: 'the slot was dropped and made again: a new snapshot is needed (sync --fresh)' },
      );
    const tables = new Map<string, { name: string; info: TableInfo; decode: TupleDecoder }>();
    for (const table of stream.tables) {
      const info = await describeTable(this.client, table);
      if (info) tables.set(await this.#qualifiedName(table), { name: table, info, decode: tupleDecoder(info) });
    }
    const queue = new ChangeQueue(options);
    const service = new LogicalReplicationService(
      {
        connectionString: this.url.url,
        ...(this.url.ssl === undefined ? {} : { ssl: this.url.ssl }),
        options: '-c datestyle=ISO -c intervalstyle=iso_8601 -c bytea_output=hex',
      },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.#service = service;
    let commitLsn = '0/0';
    let committedAt = 0;
    let seq = 0;
    const shapes = new Map<number, Map<string, number>>();
    service.on('data', async (_lsn: string, message: Pgoutput.Message) => {
      switch (message.tag) {
        case 'begin':
          commitLsn = message.commitLsn ?? '0/0';
          committedAt = Number(message.commitTime) / 1000;
          seq = 0;
          return queue.begin();
        case 'commit':
          return queue.close(pgPosition(commitLsn, 'end'));
        case 'relation': {
          const table = tables.get(`${message.schema}.${message.name}`);
          if (!table) return;
          const shape = new Map(message.columns.map((c) => [c.name, c.typeOid]));
          const before = shapes.get(message.relationOid);
          shapes.set(message.relationOid, shape);
          const names = [...shape.keys()];
          const retyped = before ? names.filter((n) => before.has(n) && before.get(n) !== shape.get(n)) : [];
          const known = before ? [...before.keys()] : table.info.columns.map((c) => c.name);
          if (retyped.length === 0 && known.join(',') === names.join(',')) return;
          return queue.schemaChange({
            table: table.name,
            columns: names,
            retyped,
            position: pgPosition(commitLsn, seq),
          });
        }
        case 'truncate': {
          const hit = message.relations.filter((r) => tables.has(`${r.schema}.${r.name}`));
          if (hit.length > 0)
            queue.fail(
              new CrmMigrateError(
                'E_STATE',
                `${hit.map((r) => r.name).join(', ')} ${hit.length === 1 ? 'was' : 'were'} emptied in the source (TRUNCATE): the stream stopped rather than empty the target`,
                {
                  hint: 'if the table was emptied on purpose, load it again with sync --fresh',
                },
              ),
            );
          return;
        }
        case 'insert':
        case 'update':
        case 'delete': {
          const table = tables.get(`${message.relation.schema}.${message.relation.name}`);
          if (!table) return;
          seq += 1;
          const { decode } = table;
          const position = pgPosition(commitLsn, seq);
          if (message.tag === 'delete') {
            return queue.push({
              kind: 'delete',
              table: table.name,
              row: decode(message.old ?? message.key),
              position,
              committedAt,
            });
          }
          const row = decode(message.new);
          const oldKey = message.tag === 'update' ? decode(message.key ?? message.old) : undefined;
          const keyChanged =
            oldKey !== undefined &&
            table.info.primaryKey.some((k) => k in oldKey && String(oldKey[k]) !== String(row[k]));
          return queue.push({
            kind: message.tag,
            table: table.name,
            row,
            oldKey: keyChanged ? oldKey : undefined,
            position,
            committedAt,
          });
        }
        default:
          return;
      }
    });
    // An idle source: the server's keepalive says where the log ends; once everything before it is applied,
    // confirming it lets the slot move on (PostgreSQL keeps WAL for the slot until it is confirmed).
    service.on('heartbeat', (lsn: string) => queue.idle(pgPosition(lsn, 0)));
    let failure: unknown;
    service.on('error', (error: unknown) => {
      failure = error;
      queue.fail(error);
    });
    const started = service
      .subscribe(new TextPgoutput({ protoVersion: 1, publicationNames: [stream.name] }), stream.name)
      .catch((error: unknown) => {
        failure = error;
        queue.fail(error);
      });
    // Streaming has begun (or failed) before anything can stop it: a stop while the replication connection is
    // still being made would leave that connection open, unowned.
    await Promise.race([new Promise<void>((resolve) => service.once('start', () => resolve())), started]);
    const ping = setInterval(() => {
      void service.acknowledge(lsnString(this.#confirmed), true).catch(() => undefined);
    }, 5000);
    this.#confirmed = lsnOf(from) === 0n ? 0n : lsnOf(from) - 1n;
    try {
      yield* queue.batches();
      if (failure) throw failure;
    } catch (error) {
      if (error instanceof CrmMigrateError) throw error;
      const gone = /does not exist/.test(describePgError(error));
      throw new CrmMigrateError(
        gone ? 'E_STATE' : 'E_SOURCE',
        `following replication slot ${stream.name} failed: ${describePgError(error)}`,
        {
          cause: error,
          hint: gone ? 'the slot is gone: crm-migrate cdc setup PLAN, then a new snapshot (sync --fresh)' : undefined,
        },
      );
    } finally {
      clearInterval(ping);
      // stop, not destroy: the error listener stays, for the connection's last words.
      await service.stop().catch(() => undefined);
      await started;
      this.#service = undefined;
    }
  }

  #confirmed = 0n;

  async acknowledge(position: LogPosition): Promise<void> {
    // A whole transaction: confirm its commit LSN (the server then skips it); a keepalive's LSN: the one before.
    const lsn = position.endsWith(END) ? lsnOf(position) : lsnOf(position) - 1n;
    if (lsn <= this.#confirmed) return;
    this.#confirmed = lsn;
    await this.#service?.acknowledge(lsnString(lsn));
  }

  async close(): Promise<void> {
    await this.#service?.stop().catch(() => undefined);
  }
}

type TupleDecoder = (tuple: Record<string, unknown> | null | undefined) => Record<string, Value>;

/** Turns a pgoutput tuple into values by column name, decoded by logical type; an unchanged TOASTed value stays out. */
function tupleDecoder(info: TableInfo): TupleDecoder {
  const columns = info.columns.map((c) => ({ name: c.name, parse: fieldParser(c.type) }));
  return (tuple) => {
    const row: Record<string, Value> = {};
    if (!tuple) return row;
    for (const { name, parse } of columns) {
      const raw = tuple[name];
      if (raw === undefined) continue;
      row[name] = raw === null ? null : parse(String(raw));
    }
    return row;
  };
}
