import Database from 'better-sqlite3';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { CrmMigrateError } from '../src/errors.js';
import { parsePlan } from '../src/plan/load.js';
import { createMysqlDatabase, tempDir } from './helpers/databases.js';
import { startTlsPostgres, type TlsPostgres } from './helpers/tls-postgres.js';

// TLS for real: a PostgreSQL server of the test's own, started with certificates from a CA made here, that
// accepts TLS connections only. verify-full connects; a wrong CA, a wrong host name and no TLS are refused
// with a message that says what to do.

describe('TLS to PostgreSQL', () => {
  let server: TlsPostgres;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    server = await startTlsPostgres();
    tmp = tempDir();
    const db = new Database(path.join(tmp.dir, 'old.db'));
    db.exec(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bo');",
    );
    db.close();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    tmp?.remove();
  });

  let n = 0;
  const run = (targetUrl: string, tls: string) => {
    n += 1;
    const text = `version: 1\nname: tls-${n}\nsource: sqlite:./old.db\ntarget: "${targetUrl}"\n${tls}\nentities:\n  customers:\n    from: customers\n    into: people_${n}\n    key: id\n    fields: { id: id, name: name }\n`;
    return runPlan(parsePlan(text, path.join(tmp.dir, 'plan.yaml')));
  };
  const failure = async (promise: Promise<unknown>): Promise<CrmMigrateError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CrmMigrateError);
    return error as CrmMigrateError;
  };

  it('verify-full with the right CA connects, over TLS', async () => {
    const summary = await run(server.url('localhost'), `tls: { target: { mode: verify-full, ca: ${server.ca} } }`);
    expect(summary.entities.customers).toMatchObject({ read: 2, written: 2 });
    const client = new pg.Client({
      connectionString: server.url('localhost'),
      ssl: { ca: server.ca.length > 0 ? (await import('node:fs')).readFileSync(server.ca, 'utf8') : undefined },
    });
    await client.connect();
    const [row] = (
      await client.query(
        `SELECT count(*)::int AS n, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl FROM people_${n}`,
      )
    ).rows;
    await client.end();
    expect(row).toEqual({ n: 2, ssl: true });
  });

  it('refuses a server whose certificate the CA did not sign', async () => {
    const error = await failure(
      run(server.url('localhost'), `tls: { target: { mode: verify-full, ca: ${server.otherCa} } }`),
    );
    expect(error.code).toBe('E_CONNECT');
    expect(error.message).toMatch(
      /cannot connect to postgres:\/\/root@localhost:\d+\/postgres: unable to verify the first certificate/,
    );
    expect(error.hint).toMatch(/not signed by a trusted authority: set tls.ca/);
  });

  it('refuses a host name the certificate was not issued for, unless only the CA is checked', async () => {
    const error = await failure(
      run(server.url('127.0.0.1'), `tls: { target: { mode: verify-full, ca: ${server.ca} } }`),
    );
    expect(error.hint).toMatch(/not issued for this host name/);
    const summary = await run(server.url('127.0.0.1'), `tls: { target: { mode: verify-ca, ca: ${server.ca} } }`);
    expect(summary.entities.customers?.written).toBe(2);
  });

  it('is refused without TLS by a server that demands it, and a URL cannot switch off what the plan demands', async () => {
    const plain = await failure(run(server.url('localhost'), 'tls: { target: { mode: disable } }'));
    expect(plain.message).toMatch(/no pg_hba\.conf entry .*no encryption/);
    expect(plain.hint).toMatch(/accepts only TLS connections/);
    const conflict = await failure(
      run(`${server.url('localhost')}?sslmode=disable`, `tls: { target: { mode: verify-full, ca: ${server.ca} } }`),
    );
    expect(conflict.code).toBe('E_PLAN');
    expect(conflict.message).toMatch(/says sslmode=disable, but the plan's tls demands verify-full/);
  });

  it('refuses TLS for a SQLite side', async () => {
    const error = await failure(run(server.url('localhost'), `tls: { mode: require }`));
    expect(error.message).toMatch(/tls require was asked for a SQLite file/);
  });
});

describe('TLS to MariaDB', () => {
  it('refuses to go on without TLS when the plan demands it (the test server has TLS off)', async () => {
    const maria = await createMysqlDatabase();
    const tmp = tempDir();
    try {
      const db = new Database(path.join(tmp.dir, 'old.db'));
      db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ann');");
      db.close();
      const text = `version: 1\nsource: sqlite:./old.db\ntarget: "${maria.url}"\ntls: { target: { mode: require } }\nentities:\n  customers:\n    from: customers\n    into: people\n    key: id\n    fields: { id: id, name: name }\n`;
      const error = await runPlan(parsePlan(text, path.join(tmp.dir, 'plan.yaml'))).then(
        () => undefined,
        (e: unknown) => e as CrmMigrateError,
      );
      expect(error).toBeInstanceOf(CrmMigrateError);
      expect(error?.code).toBe('E_CONNECT');
      expect(error?.message).toMatch(
        /cannot connect to mysql:\/\/root@127\.0\.0\.1:3306\/crm_test_\w+: .*(secure|SSL)/i,
      );
      expect(
        await maria.query(
          "SELECT count(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'people'",
        ),
      ).toEqual([{ n: '0' }]);
    } finally {
      await maria.drop();
      tmp.remove();
    }
  });
});
