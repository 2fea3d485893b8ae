import type { Rejection } from '../errors.js';
import type { LogicalType, Row, Value } from '../values.js';

/** A column as a connector describes it, translated to logical types. */
export interface ColumnInfo {
  readonly name: string;
  readonly type: LogicalType;
  /** The database's own type name, for messages only. */
  readonly nativeType: string;
  /** Character limit of a text column, when the database enforces or declares one. */
  readonly maxLength?: number | undefined;
  readonly nullable: boolean;
  readonly hasDefault: boolean;
  /** The column's character set, where the database keeps one per column (MySQL, MariaDB): how to order it by code point. */
  readonly charset?: string | undefined;
  /** The column stores only characters up to U+FFFF (MySQL's utf8mb3): an emoji cannot go in. */
  readonly bmpOnly?: boolean | undefined;
  /** A decimal column's declared digits in all and after the point (`numeric(10,2)`): a bigger number cannot go in. */
  readonly precision?: number | undefined;
  readonly scale?: number | undefined;
  /** The values an enum column accepts (a PostgreSQL enum, a MySQL ENUM); `caseInsensitive` where the database matches them so. */
  readonly labels?: { readonly values: readonly string[]; readonly caseInsensitive: boolean } | undefined;
  /** A float of single precision (PostgreSQL real, MySQL FLOAT): it holds no number beyond ±3.4e38. */
  readonly singlePrecision?: boolean | undefined;
  /** Rows must differ in this column (a unique constraint or index on it alone, the primary key aside). */
  readonly unique?: boolean | undefined;
}

export interface TableInfo {
  readonly name: string;
  readonly columns: readonly ColumnInfo[];
  readonly primaryKey: readonly string[];
}

/** A one-column foreign key of a table: `column` holds keys of `references.table`'s `references.column`. */
export interface ForeignKey {
  readonly column: string;
  readonly references: { readonly table: string; readonly column: string };
}

/** A table the engine asks a target to create. */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly { name: string; type: LogicalType; maxLength?: number | undefined; nullable: boolean }[];
  readonly primaryKey: readonly string[];
}

export interface ReadRequest {
  readonly table: string;
  /** Columns to read, in the order rows will hold them; includes the key columns. */
  readonly columns: readonly string[];
  /**
   * Order columns: rows come in ascending order of these, compared the same way by every connector —
   * numbers by value, text by code point (the byte order of UTF-8), whatever the database's collation —
   * so two connectors' streams can be merged in one pass (delete detection, verify).
   */
  readonly key: readonly string[];
  /** Resume: only rows whose key is strictly greater than this. A shorter list compares the leading key columns only. */
  readonly after?: readonly Value[] | undefined;
  /**
   * A key range's end: only rows whose key is at or before this (a source with `rangeReads`; others ignore it,
   * and the engine does not ask them).
   */
  readonly through?: readonly Value[] | undefined;
  readonly batchSize: number;
}

/** A position in a table's key order: the rows strictly after `after`, and at or before `through` if given. */
export interface Position {
  readonly key: readonly string[];
  readonly after: readonly Value[];
  readonly through?: readonly Value[] | undefined;
}

/**
 * A place in a database's change log, as text that sorts in log order (plain string comparison): where a
 * followed entity's applied changes end. Each connector writes its own (an LSN, a binlog file and offset),
 * always with the change's number within its transaction, so a batch may end inside a large transaction.
 */
export type LogPosition = string;

/** One row change from the log: inserts and updates carry the whole new row, deletes the old row or its key. */
export interface RowChange {
  readonly kind: 'insert' | 'update' | 'delete';
  readonly table: string;
  /** Column values by name, decoded as `read` decodes them. */
  readonly row: Readonly<Record<string, Value>>;
  /** An update that changed the key: the row's key before it (the old row is then deleted). */
  readonly oldKey?: Readonly<Record<string, Value>> | undefined;
  readonly position: LogPosition;
  /** When the source committed the change (ms since the epoch): for latency. */
  readonly committedAt: number;
}

/** A table's columns changed in the log (a DDL change): the follower stops before a wrong row is written. */
export interface SchemaChange {
  readonly table: string;
  readonly columns: readonly string[];
  /** Columns whose type changed. */
  readonly retyped: readonly string[];
  readonly position: LogPosition;
}

/** Changes read from the log, in log order, up to `end`. */
export interface ChangeBatch {
  readonly changes: readonly RowChange[];
  /** Where the batch ends: every change up to here is in it (or in an earlier batch). */
  readonly end: LogPosition;
  /** `end` closes a transaction: once applied, the source may be told it can forget the log up to there. */
  readonly closesTransaction: boolean;
  /** The newest position the source has written (for lag); the changes behind `end` are not yet read. */
  readonly sourceEnd?: LogPosition | undefined;
  readonly schemaChange?: SchemaChange | undefined;
}

/** One thing the source's server must have for change capture, checked: what is wrong and how to fix it. */
export interface ChangeRequirement {
  readonly ok: boolean;
  readonly what: string;
  /** Why it is needed and the SQL or setting that fixes it; shown when not ok. */
  readonly fix?: string | undefined;
}

/** The state of a source's change stream on its server, for `cdc status` and the slot-safety warning. */
export interface ChangeStreamStatus {
  /** The slot's or binlog's name, `exists` false before `cdc setup`. */
  readonly name: string;
  readonly exists: boolean;
  /** Log kept for the follower that it has not confirmed, in bytes (PostgreSQL's retained WAL). */
  readonly retainedBytes?: number | undefined;
  /** The last position the server was told is applied. */
  readonly confirmed?: string | undefined;
  /** The log's end now. */
  readonly current?: string | undefined;
  /** The log the follower needs is gone (`wal_status = lost`, a purged binlog): a new snapshot is needed. */
  readonly lost?: boolean | undefined;
  /** Whether a follower is connected now. */
  readonly active?: boolean | undefined;
}

/** Which change stream of a source: named after the plan, one per plan and source. */
export interface ChangeStreamName {
  readonly name: string;
  readonly tables: readonly string[];
}

/**
 * A source's change log (the `changes` capability). Reading it never changes the legacy data; `setup` and
 * `teardown` create and drop what the server keeps for the follower (a slot and publication), explicitly.
 */
export interface ChangeFeed {
  /** What the server must have, each checked. */
  requirements(stream: ChangeStreamName): Promise<ChangeRequirement[]>;
  /** The statements `setup` runs, for `cdc setup --print`. */
  setupStatements(stream: ChangeStreamName): string[];
  setup(stream: ChangeStreamName): Promise<void>;
  teardownStatements(stream: ChangeStreamName): string[];
  teardown(stream: ChangeStreamName): Promise<void>;
  status(stream: ChangeStreamName): Promise<ChangeStreamStatus>;
  /**
   * A position no later than any change a snapshot read from now on could miss: taken before an entity's
   * snapshot, it is where that entity's stream starts. Changes between it and the snapshot are applied again.
   */
  snapshotStart(stream: ChangeStreamName): Promise<LogPosition>;
  /**
   * Streams changes after `from` (the earliest applied position of the stream's entities), in batches of at
   * most `batchSize` changes; a batch comes at least every `maxWaitMs` while changes flow, and an empty one
   * when the source is idle. The log is read only as fast as batches are taken.
   */
  follow(
    stream: ChangeStreamName,
    from: LogPosition,
    options: { readonly batchSize: number; readonly maxWaitMs: number; readonly signal: AbortSignal },
  ): AsyncIterable<ChangeBatch>;
  /** Tells the server the log up to `position` (a transaction's end) is applied and committed in the target. */
  acknowledge(position: LogPosition): Promise<void>;
  close(): Promise<void>;
}

/** A database or file that data is read from. Reads never change it. */
export interface Source {
  /** The connection, with any password redacted: safe to print. */
  readonly display: string;
  /**
   * Each `read` sees one consistent snapshot, so a key comes once even while the source is being changed.
   * Without it, a row updated mid-read can come twice (it moves ahead in cursor order), and writes must upsert.
   */
  readonly snapshotReads: boolean;
  /**
   * Reads and counts honour `through`, the end of a key range, in the database: a table can be loaded as
   * chunks of its key order, side by side (src/engine/scale/). A file is sorted whole for every read: not yet.
   */
  readonly rangeReads?: boolean | undefined;
  listTables(): Promise<string[]>;
  describe(table: string): Promise<TableInfo | undefined>;
  /** Rows in the table, or only those after a position. */
  count(table: string, position?: Position): Promise<number>;
  /** Rows whose `column` is NULL (an incremental cursor must never be). */
  countNull(table: string, column: string): Promise<number>;
  /** The longest value of each of these text columns, in characters (0 for an empty table): what `init` warns against. */
  maxLengths(table: string, columns: readonly string[]): Promise<Record<string, number>>;
  /** The rows of `table` whose `key` column has one of these values, as `[key, ...columns]`: for joins. */
  lookup(table: string, key: string, values: readonly Value[], columns: readonly string[]): Promise<Row[]>;
  /** Streams the table in key order, in batches, pulling the next batch only when the consumer asks. */
  read(request: ReadRequest): AsyncIterable<Row[]>;
  /** The source's change log, where the database keeps one a follower can read (PostgreSQL, MySQL/MariaDB). */
  changes?(): ChangeFeed;
  close(): Promise<void>;
}

export interface Counts {
  read: number;
  written: number;
  merged: number;
  quarantined: number;
  filtered: number;
  /** Target rows deleted (or tombstoned) because their source row is gone; not a bucket of `read`. */
  deleted: number;
}

/** Why a row was quarantined: which target field, which rule, which code. Never the value. */
export interface Reason {
  readonly field: string;
  readonly rule: string;
  readonly code: string;
  /** A fact about the rule, never a value: how many joined rows matched (`3 rows of email_addr_bean_rel`). */
  readonly detail?: string | undefined;
}

export interface QuarantinedRow {
  /** The run that quarantined the row: set on rows listed by `openQuarantine`. */
  readonly runId?: string | undefined;
  readonly entity: string;
  /** The source key: the value itself for a one-column key, a JSON array for a composite key. */
  readonly sourceKey: string;
  /** The source columns that were read, as JSON-able values. */
  readonly row: Readonly<Record<string, unknown>>;
  readonly reasons: readonly Reason[];
}

/** One line of the id crosswalk: the key a migrated record has in the target, by its source key. */
export interface CrosswalkEntry {
  readonly plan: string;
  readonly entity: string;
  readonly sourceKey: string;
  readonly newKey: string;
}

/** One line of the merge map: a record merged into another (its survivor), and how sure the match was. */
export interface MergeEntry {
  readonly plan: string;
  readonly entity: string;
  readonly sourceKey: string;
  readonly survivorEntity: string;
  readonly survivorKey: string;
  /** Match probability of the pair that joined the record to its cluster. */
  readonly probability: number;
  /** Why: each compared field's agreement level and weight — never the values. */
  readonly why: string;
}

/** A pair of records, by entity and source key (a pair across linked entities names two). */
export interface RecordPair {
  readonly entityA: string;
  readonly keyA: string;
  readonly entityB: string;
  readonly keyB: string;
}

/** A pair in the review band: neither merged nor kept apart until someone decides. */
export interface ReviewPair extends RecordPair {
  readonly probability: number;
  readonly why: string;
}

/** A reviewer's verdict on a pair, honoured by every later run of the plan. */
export interface PairDecision extends RecordPair {
  readonly same: boolean;
}

/** Some records of one entity of a plan, by source key. */
export interface EntityKeys {
  readonly plan: string;
  readonly entity: string;
  readonly sourceKeys: readonly string[];
}

/** What a batch's commit records besides its rows, quarantine and checkpoint. */
export interface BatchState {
  /** Merge-map lines of the rows merged into a survivor. */
  readonly merges?: readonly MergeEntry[] | undefined;
  /** Pairs set aside for review (written with an entity's first batch). */
  readonly review?: { readonly plan: string; readonly pairs: readonly ReviewPair[] } | undefined;
  /**
   * Rows a retry wrote from a fixed file: they leave the quarantine of the batch's run, are placeholders no
   * more, and are remembered as retried.
   */
  readonly retried?: EntityKeys | undefined;
  /** Crosswalk lines of the rows written. */
  readonly crosswalk?: readonly CrosswalkEntry[] | undefined;
  /**
   * Source keys whose records a change stream removed for good (`deletes: hard`): their crosswalk lines go, so
   * a ref to one of them is an orphan from then on, in the writer and in verify alike.
   */
  readonly retired?: EntityKeys | undefined;
  /**
   * Source keys whose quarantine entries from the plan's earlier runs are closed: an increment wrote the row or
   * quarantined it again (its newer entry is the one that counts), or the row is gone from the source.
   */
  readonly closedQuarantine?: EntityKeys | undefined;
  /** Source keys whose real record an increment wrote over its placeholder: they are placeholders no more. */
  readonly realized?: EntityKeys | undefined;
  /** Placeholder records written for orphan refs (into the crosswalk as well, so refs to them resolve). */
  readonly placeholders?: readonly CrosswalkEntry[] | undefined;
}

export interface Checkpoint {
  readonly entity: string;
  /** Key of the last source row accounted for (JSON-able), null before the first batch. */
  readonly lastKey: readonly unknown[] | null;
  readonly counts: Readonly<Counts>;
  readonly done: boolean;
  /** The engine's cleaning-quality counts so far (opaque JSON to the store), so a resumed run reports totals. */
  readonly quality?: unknown;
}

/** `interrupted`: stopped on request (SIGINT/SIGTERM) after a committed batch; resumed like `failed`. */
export type RunStatus = 'running' | 'done' | 'failed' | 'interrupted' | 'superseded';

export interface RunRecord {
  readonly runId: string;
  readonly plan: string;
  readonly planHash: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

/** Where a batch goes: the target table and the columns each added row holds, in order. */
export interface BatchStart {
  readonly runId: string;
  readonly table: string;
  readonly columns: readonly string[];
  /**
   * Upsert on these target columns (a primary key): a row whose key exists replaces it, and a row equal to the
   * stored one is not written at all, so re-applying the same rows changes nothing. Absent: plain inserts.
   */
  readonly upsertKey?: readonly string[] | undefined;
  /**
   * A chunk loaded by a queue worker: the batch begins only while this worker holds the chunk's fence (see
   * StateStore.claimFence) and keeps it share-locked until it ends, so a claim waits for the batches in flight,
   * and a worker that lost its job to another writes no row after it.
   */
  readonly fence?: { readonly name: string; readonly holder: string } | undefined;
}

/** How `remove` takes rows away: deleted, or kept with the deletion time in a tombstone column. */
export interface Removal {
  readonly key: readonly string[];
  readonly tombstone?: { readonly column: string; readonly at: string } | undefined;
}

/**
 * One transaction's worth of rows, streamed: rows are handed over as they are mapped (`add`), reach the
 * database as it can take them (`flush` waits when it is behind), and become visible only with `commit`,
 * which writes the quarantined rows and the checkpoint in the same transaction — all of it or none.
 */
export interface BatchWriter {
  add(row: Row): void;
  /** Waits while the database is behind. Rejects with `RowsRejected` when it refused a row for its data (as `commit` may). */
  flush(): Promise<void>;
  /**
   * Writes these rows inside a savepoint of the batch: all of them, or none and why the target refused them for
   * their data (the engine narrows a refused batch down to its refused rows this way). Rejects for any other
   * failure. Not mixed with `add` in one batch.
   */
  attempt(rows: readonly Row[]): Promise<Rejection | undefined>;
  /** Deletes (or tombstones) the rows with these keys inside the batch's transaction; resolves to the rows changed. */
  remove(keys: readonly Row[], how: Removal): Promise<number>;
  /** `quarantine` rows replace any stored row with the same run, entity and source key (see BatchState for the rest). */
  commit(quarantine: readonly QuarantinedRow[], checkpoint: Checkpoint, state?: BatchState): Promise<void>;
  /** Rolls back whatever was added; safe to call after a failure. */
  abort(): Promise<void>;
}

/** One line of the audit trail: who did what to the target with which plan, and how it ended. */
export interface AuditEntry {
  readonly plan: string;
  readonly at: string;
  /** `run`, `sync` (one increment), `verify`, `retry`. */
  readonly command: string;
  /** `done`, `failed`, `interrupted`, `equal`, `different`. */
  readonly outcome: string;
  readonly runId: string | null;
  /** The operating-system user that ran the command. */
  readonly user: string;
  readonly toolVersion: string;
  readonly planHash: string;
  /** Connection URLs as printed: passwords redacted. */
  readonly source: string;
  readonly target: string;
  /** The accounting (or verify's counts) per entity; the error's code and message when it failed. Never values. */
  readonly details: unknown;
}

/** Runs, checkpoints and quarantine, kept in the target next to the data. */
export interface StateStore {
  /** The plan's newest run, or its newest run with this status. */
  latestRun(plan: string, status?: RunStatus): Promise<RunRecord | undefined>;
  startRun(run: RunRecord): Promise<void>;
  finishRun(runId: string, status: RunStatus): Promise<void>;
  checkpoints(runId: string): Promise<Checkpoint[]>;
  quarantined(runId: string, entity?: string): AsyncIterable<QuarantinedRow>;
  /**
   * The plan's open quarantine: the rows its runs since the last fresh start quarantined and nothing wrote
   * since (each increment of a sync is a run of its own), newest entry per row, in (entity, source key) order.
   */
  openQuarantine(plan: string, entity?: string): AsyncIterable<QuarantinedRow>;
  /** Appends to the audit trail (its own transaction). */
  audit(entry: AuditEntry): Promise<void>;
  /** The plan's audit trail, oldest first. */
  history(plan: string): Promise<AuditEntry[]>;
  /** Target keys of already migrated records of `entity`, by source key; keys not migrated are absent. */
  crosswalk(plan: string, entity: string, sourceKeys: readonly string[]): Promise<Map<string, string>>;
  /**
   * Which of these target keys hold a record `entity` wrote (its crosswalk has them): so verify and delete
   * detection touch only the entity's own rows of a table that another entity, or the new CRM, fills too.
   */
  writtenKeys(plan: string, entity: string, newKeys: readonly string[]): Promise<Set<string>>;
  /**
   * Brings the query planner's statistics of the crosswalk up to date after a load put many rows in. Until
   * autovacuum comes round, PostgreSQL plans a lookup of 500 keys in a fresh 1,000,000-line crosswalk as a
   * scan of all of them (0.3-0.7 s a chunk instead of 0.2 ms). Absent where the database keeps them itself.
   */
  refreshStatistics?(): Promise<void>;
  /**
   * Makes `holder` the one worker whose batches of the chunk `name` commit (BatchState.fence), and resolves to
   * its token, or undefined when another claim came in between. Absent where no second worker can write (files).
   */
  claimFence?(runId: string, name: string, holder: string): Promise<number | undefined>;
  /**
   * Whether the crosswalk holds any line of `entity`: a target loaded by a version that kept none for it (an
   * incremental entity without deletes, before increments checked which rows are their own) answers false.
   */
  hasCrosswalk(plan: string, entity: string): Promise<boolean>;
  /** The placeholder records made in `entity`'s table for orphan refs, by source key. */
  placeholders(plan: string, entity: string): AsyncIterable<CrosswalkEntry>;
  /** Source keys of `entity`'s records written by `retry` from a fixed file (their values are not the source's). */
  retried(plan: string, entity: string): AsyncIterable<string>;
  /** The plan's merge map, by entity and source key. */
  merges(plan: string): AsyncIterable<MergeEntry>;
  /** The plan's pairs awaiting review (from its latest run). */
  reviewPairs(plan: string): Promise<ReviewPair[]>;
  /** Reviewers' verdicts, kept across runs (a fresh start keeps them too). */
  decisions(plan: string): Promise<PairDecision[]>;
  /** Stores verdicts (its own transaction); a new verdict on a pair replaces the old one. */
  decide(plan: string, decisions: readonly PairDecision[]): Promise<void>;
}

export interface TargetCapabilities {
  /** CREATE TABLE can be rolled back with the transaction it ran in. */
  readonly transactionalDdl: boolean;
  /** Writes go through the database's bulk-load path (COPY, LOAD DATA) rather than INSERT statements. */
  readonly bulkLoad: boolean;
  /**
   * A second batch can be open while the first commits (it streams on another connection). The engine still
   * commits batches strictly in order; this only hides the commit's round trips behind the next batch.
   */
  readonly overlappingBatches: boolean;
  /** Rows can be replaced or removed by key (upserts, deletes): a database can, a file only appends. */
  readonly updates: boolean;
  /**
   * Several connections can write one table at once, each batch in its own transaction (chunk workers side
   * by side): a database server can; SQLite takes one writer at a time, a file one appender.
   */
  readonly concurrentWriters: boolean;
  /**
   * The longest table or column name the target keeps as it is. PostgreSQL cuts a longer one to 63 bytes
   * when it creates the table, and then never finds the table by its full name again.
   */
  readonly identifierLimit?: { readonly max: number; readonly unit: 'bytes' | 'characters' } | undefined;
}

/** Who holds a plan's run lock on a target: named to a run that is refused. */
export interface LockHolder {
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
}

/** A database or file that data is written to. */
export interface Target {
  readonly display: string;
  readonly capabilities: TargetCapabilities;
  readonly state: StateStore;
  listTables(): Promise<string[]>;
  describe(table: string): Promise<TableInfo | undefined>;
  /** The table's one-column foreign keys (none for a file): what `init` turns into `ref:` fields. */
  foreignKeys(table: string): Promise<readonly ForeignKey[]>;
  /** Reads a target table back, as `Source.read` does: delete detection and verify merge it with the source. */
  read(request: ReadRequest): AsyncIterable<Row[]>;
  /** Creates the state tables if missing. Until then the target is untouched. */
  prepare(): Promise<void>;
  createTable(spec: TableSpec): Promise<void>;
  /** Opens a transaction for one batch: one at a time, or two with `overlappingBatches`. */
  beginBatch(start: BatchStart): Promise<BatchWriter>;
  /**
   * Takes the plan's run lock on this target until the target is closed: one run of a plan per target at a
   * time. Resolves to undefined once taken, or to the holder when another run has it and `wait` is false. The
   * lock dies with its holder's process or connection, so a killed run never blocks the next one.
   */
  lockRun(plan: string, me: LockHolder, wait: boolean): Promise<LockHolder | undefined>;
  /**
   * For a fresh start: empties the tables and drops the plan's earlier checkpoints and quarantine, atomically.
   * Tables come in load order, a table after those it references, so they can be emptied last first.
   */
  reset(plan: string, tables: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** How a network connection must be secured; from the plan's `tls:`. */
export interface TlsSettings {
  /** `require`: encrypted; `verify-ca`: and the server's certificate signed by `ca`; `verify-full`: and issued for its host name. */
  readonly mode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  /** A PEM file of the certificate authorities to trust (absolute path); default: the system's. */
  readonly ca?: string | undefined;
}

export interface OpenOptions {
  /** The plan's TLS demand for this connection; absent: whatever the URL says. */
  readonly tls?: TlsSettings | undefined;
  /** Folder that relative file paths in the URL are read from (the plan file's folder). */
  readonly baseDir: string;
  /** Open for inspection only (`plan`): the target is neither created nor changed. */
  readonly readOnly?: boolean | undefined;
}

/** One per database or file format: the only place that knows its driver. */
export interface Connector {
  openSource(url: string, options: OpenOptions): Promise<Source>;
  openTarget(url: string, options: OpenOptions): Promise<Target>;
}
