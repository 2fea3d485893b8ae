import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CrmMigrateError } from '../../errors.js';
import type { Value } from '../../values.js';
import type { ColumnInfo, ForeignKey, TableInfo } from '../contract.js';
import { onConflict, onConflictIncrement, type SqlSession } from '../shared/sql-state-store.js';
import { quoteIdentifier } from '../shared/identifiers.js';
import { logicalTypeOf } from './sqlite-types.js';

/** `sqlite:PATH` (relative to the plan's folder), `sqlite://PATH` or `sqlite::memory:`. */
export function sqliteFile(url: string, baseDir: string): string {
  const rest = url.replace(/^sqlite:(\/\/)?/, '');
  if (rest === ':memory:') return rest;
  return path.resolve(baseDir, rest);
}

export function openDatabase(file: string, mode: 'read' | 'write' | 'inspect'): Database.Database | undefined {
  if (mode !== 'write' && file !== ':memory:' && !existsSync(file)) {
    if (mode === 'inspect') return undefined;
    throw new CrmMigrateError('E_CONNECT', `SQLite database not found: ${path.basename(file)}`, {
      hint: "check the path in the plan: it is read from the plan file's folder",
    });
  }
  if (mode === 'write' && file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { readonly: mode !== 'write', fileMustExist: mode !== 'write' });
  if (mode === 'write') {
    // WAL with synchronous=NORMAL: a killed process never loses a committed batch.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.defaultSafeIntegers(true);
  return db;
}

/** Integers come out of SQLite as BigInt so none beyond 2^53 is rounded; safe ones become numbers. */
export function fromSqlite(value: unknown): Value {
  if (typeof value === 'bigint')
    return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER ? Number(value) : value;
  return value as Value;
}

export function toSqlite(value: Value): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value);
  return value;
}

export function listTables(db: Database.Database): string[] {
  return db
    .prepare(
      `SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_crm\\_migrate\\_%' ESCAPE '\\' ORDER BY name`,
    )
    .pluck()
    .all() as string[];
}

/** One-column foreign keys (a key of several columns lists its columns under one id: left out). */
export function foreignKeys(db: Database.Database, table: string): ForeignKey[] {
  const rows = db
    .prepare('SELECT id, "table" AS ref, "from" AS col, "to" AS to_col FROM pragma_foreign_key_list(?)')
    .all(table) as { id: number; ref: string; col: string; to_col: string | null }[];
  const position = new Map(describeTable(db, table)?.columns.map((c, i) => [c.name, i]));
  const single = rows
    .filter((r) => rows.filter((o) => o.id === r.id).length === 1)
    .sort((a, b) => (position.get(a.col) ?? 0) - (position.get(b.col) ?? 0));
  // A key that names no column references the other table's primary key.
  return single.map((r) => ({
    column: r.col,
    references: { table: r.ref, column: r.to_col ?? describeTable(db, r.ref)?.primaryKey[0] ?? 'rowid' },
  }));
}

export function describeTable(db: Database.Database, table: string): TableInfo | undefined {
  const rows = db
    .prepare(`SELECT name, type, "notnull" AS nn, dflt_value AS dflt, pk FROM pragma_table_info(?)`)
    .all(table) as {
    name: string;
    type: string;
    nn: bigint;
    dflt: unknown;
    pk: bigint;
  }[];
  if (rows.length === 0) return undefined;
  // Unique indexes (UNIQUE constraints are ones too) of one column, on every row (not partial).
  const unique = new Set(
    db
      .prepare(
        `SELECT (SELECT name FROM pragma_index_info(l.name)) FROM pragma_index_list(?) l WHERE l."unique" = 1 AND l.origin <> 'pk' AND l.partial = 0 AND (SELECT COUNT(*) FROM pragma_index_info(l.name)) = 1`,
      )
      .pluck()
      .all(table) as string[],
  );
  const columns: ColumnInfo[] = rows.map((r) => ({
    name: r.name,
    ...logicalTypeOf(r.type),
    nativeType: r.type || '(none)',
    nullable: Number(r.nn) === 0 && Number(r.pk) === 0,
    hasDefault: r.dflt !== null,
    ...(unique.has(r.name) ? { unique: true } : {}),
  }));
  const primaryKey = rows
    .filter((r) => Number(r.pk) > 0)
    .sort((a, b) => Number(a.pk) - Number(b.pk))
    .map((r) => r.name);
  return { name: table, columns, primaryKey };
}

/** The state store's view of a SQLite connection; prepared statements are cached by their text. */
export function sqliteSession(db: Database.Database): SqlSession {
  const cache = new Map<string, Database.Statement>();
  return {
    // async: better-sqlite3 throws at once, and a SqlSession's failures are rejections, as every other session's.
    async query(sql, params = []) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        cache.set(sql, statement);
      }
      const args = params.map((p) => toSqlite(p as Value));
      if (statement.reader) return (statement.all(...args) as Record<string, unknown>[]).map(fromSqliteRow);
      statement.run(...args);
      return [];
    },
  };
}

function fromSqliteRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(row)) row[k] = fromSqlite(row[k]);
  return row;
}

export const q = (name: string): string => quoteIdentifier(name);

/** How the state tables are spelt in SQLite: `_crm_migrate_*` tables beside the data. */
export const SQLITE_STATE_DIALECT = {
  setup: [],
  table: (name: string) => q(`_crm_migrate_${name}`),
  param: () => '?',
  bigint: 'INTEGER',
  float: 'REAL',
  json: 'TEXT',
  keyText: 'TEXT',
  isMissingTable: (error: unknown) => /^no such table/.test((error as Error).message ?? ''),
  newKeyIndex: `CREATE INDEX IF NOT EXISTS ${q('_crm_migrate_crosswalk_new_key')} ON ${q('_crm_migrate_crosswalk')} (plan, entity, new_key)`,
  upsert: onConflict,
  increment: onConflictIncrement(q('_crm_migrate_fences')),
  // A write transaction holds the whole database: no claim comes in between.
  forShare: '',
};

/** `work` in one write transaction (BEGIN IMMEDIATE): committed if it returns, rolled back if it throws. */
export async function inWriteTransaction(db: Database.Database, work: () => Promise<void>): Promise<void> {
  db.exec('BEGIN IMMEDIATE');
  try {
    await work();
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
