import pg from 'pg';
import { reconnecting, type FollowedSource } from './cdc-fixture.js';
import type { OwnPostgres } from '../../scripts/servers/own-postgres.js';

/** A database on a PostgreSQL server of the test's own (wal_level=logical), shaped as the CDC fixture wants. */
export async function followedPostgres(server: OwnPostgres, name: string): Promise<FollowedSource> {
  const admin = async (sql: string) => {
    const a = new pg.Client({ connectionString: server.url() });
    await a.connect();
    try {
      await a.query(sql);
    } finally {
      await a.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = server.url(name);
  const { session, exec, opened } = reconnecting(
    async () => {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    /terminat|ECONNRE|Connection|not queryable/i,
    (client, sql) => client.query(sql),
  );
  return {
    url,
    exec,
    count: async (sql) => Number((await (await session()).query<{ n: string }>(sql)).rows[0]?.n ?? 0),
    seed: (n) =>
      exec(
        'CREATE TABLE contacts (id integer PRIMARY KEY, first_name text, last_name text, email text, deleted smallint NOT NULL DEFAULT 0)',
        'CREATE TABLE notes (id integer PRIMARY KEY, contact_id integer, body text)',
        `INSERT INTO contacts SELECT g, 'First' || g, 'Last' || g, 'person' || g || '@Example.COM', 0 FROM generate_series(1, ${n}) g`,
        `INSERT INTO notes SELECT g, 1 + g % ${n}, 'note ' || g FROM generate_series(1, ${Math.floor(n / 2)}) g`,
      ),
    bulkInsert: (from, to) =>
      `INSERT INTO contacts SELECT g, 'Bulk', 'Row' || g, 'bulk' || g || '@example.net', 0 FROM generate_series(${from}, ${to}) g`,
    drop: async () => {
      await opened()
        ?.then((c) => c.end())
        .catch(() => undefined);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
