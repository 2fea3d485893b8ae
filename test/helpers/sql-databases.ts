import Database from 'better-sqlite3';
import path from 'node:path';
import { createMysqlDatabase, createPostgresDatabase, tempDir } from './databases.js';

/** A scratch database of either kind behind one face, so a test can run against each: `?` placeholders. */
export interface ScratchDatabase {
  readonly kind: 'sqlite' | 'postgres' | 'mysql';
  readonly url: string;
  run(sql: string, params?: unknown[]): Promise<void>;
  rows<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

export async function scratchDatabase(kind: 'sqlite' | 'postgres' | 'mysql'): Promise<ScratchDatabase> {
  if (kind === 'mysql') {
    const db = await createMysqlDatabase();
    return {
      kind,
      url: db.url,
      run: async (sql, params) => void (await db.query(sql, params)),
      rows: (sql, params) => db.query(sql, params),
      drop: () => db.drop(),
    };
  }
  if (kind === 'postgres') {
    const db = await createPostgresDatabase();
    const numbered = (sql: string) => {
      let n = 0;
      return sql.replace(/\?/g, () => `$${++n}`);
    };
    return {
      kind,
      url: db.url,
      run: async (sql, params) => void (await db.query(numbered(sql), params)),
      rows: async <R>(sql: string, params?: unknown[]) => (await db.query(numbered(sql), params)) as R[],
      drop: () => db.drop(),
    };
  }
  const tmp = tempDir();
  const file = path.join(tmp.dir, 'db.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  return {
    kind,
    url: `sqlite:${file}`,
    run: async (sql, params = []) => void (params.length === 0 ? db.exec(sql) : db.prepare(sql).run(...params)),
    rows: async <R>(sql: string, params: unknown[] = []) => db.prepare(sql).all(...params) as R[],
    drop: async () => {
      db.close();
      tmp.remove();
    },
  };
}

/** A source and a target database (of one kind unless told), and a scratch folder for the plan file: what a migration test moves between. */
export interface ScratchMigration {
  readonly source: ScratchDatabase;
  readonly target: ScratchDatabase;
  readonly dir: string;
  readonly planFile: string;
  drop(): Promise<void>;
}

export async function scratchMigration(
  sourceKind: ScratchDatabase['kind'],
  targetKind = sourceKind,
): Promise<ScratchMigration> {
  const [source, target] = await Promise.all([scratchDatabase(sourceKind), scratchDatabase(targetKind)]);
  const tmp = tempDir();
  return {
    source,
    target,
    dir: tmp.dir,
    planFile: path.join(tmp.dir, 'plan.yaml'),
    drop: async () => {
      await Promise.all([source.drop(), target.drop()]);
      tmp.remove();
    },
  };
}
