import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the tests use; every test makes its own database there and drops it after. */
export const PG_SERVER = process.env.CRM_MIGRATE_TEST_PG ?? 'postgres://root@127.0.0.1:5432';

export interface TestPostgres {
  readonly url: string;
  readonly name: string;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

async function admin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  try {
    await client.connect();
  } catch (error) {
    // Never a skip: a database test that cannot reach its server fails, loudly, with how to fix it.
    throw new Error(
      `PostgreSQL is not reachable at ${PG_SERVER} (${(error as Error).message}); start it or set CRM_MIGRATE_TEST_PG`,
    );
  }
  return client;
}

export async function createPostgresDatabase(): Promise<TestPostgres> {
  const name = `crm_test_${randomBytes(6).toString('hex')}`;
  const server = await admin();
  await server.query(`CREATE DATABASE ${name}`);
  await server.end();
  const url = `${PG_SERVER}/${name}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    url,
    name,
    query: async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      (await client.query<R>(sql, params)).rows,
    drop: async () => {
      await client.end();
      const s = await admin();
      await s.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await s.end();
    },
  };
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-migrate-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The MariaDB (or MySQL) server the tests use: root with an empty password, as the machine provides it. */
export const MYSQL_SERVER = process.env.CRM_MIGRATE_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306';

export interface TestMysql {
  readonly url: string;
  readonly name: string;
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

export async function createMysqlDatabase(): Promise<TestMysql> {
  const mysql = await import('mysql2/promise');
  const name = `crm_test_${randomBytes(6).toString('hex')}`;
  let admin;
  try {
    admin = await mysql.createConnection({ uri: MYSQL_SERVER });
  } catch (error) {
    throw new Error(
      `MariaDB is not reachable at ${MYSQL_SERVER} (${(error as Error).message}); start it or set CRM_MIGRATE_TEST_MYSQL`,
    );
  }
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const url = `${MYSQL_SERVER}/${name}`;
  // ANSI_QUOTES: tests write "identifiers" the same way for every database.
  const client = await mysql.createConnection({
    uri: url,
    charset: 'UTF8MB4_UNICODE_CI',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  await client.query("SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES'");
  return {
    url,
    name,
    query: async <R>(sql: string, params: unknown[] = []) => {
      const [rows] = await client.query(sql, params);
      return (Array.isArray(rows) ? rows : []) as R[];
    },
    drop: async () => {
      await client.end();
      const a = await mysql.createConnection({ uri: MYSQL_SERVER });
      await a.query(`DROP DATABASE IF EXISTS ${name}`);
      await a.end();
    },
  };
}
