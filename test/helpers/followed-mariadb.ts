import mysql from 'mysql2/promise';
import { reconnecting, type FollowedSource } from './cdc-fixture.js';
import type { OwnMariadb } from '../../scripts/servers/own-mariadb.js';

/** A database on a MariaDB server of the test's own (binlog on), shaped as the CDC fixture wants. */
export async function followedMariadb(server: OwnMariadb, name: string): Promise<FollowedSource> {
  const admin = await mysql.createConnection(server.url());
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  await admin.end();
  const url = server.url(name);
  const { session, exec, opened } = reconnecting(
    async () => {
      const client = await mysql.createConnection(url);
      client.on('error', () => undefined);
      return client;
    },
    /closed|ECONNRE|PROTOCOL_CONNECTION_LOST|gone away/i,
    (client, sql) => client.query(sql),
  );
  return {
    url,
    exec,
    count: async (sql) => {
      const [rows] = await (await session()).query({ sql, rowsAsArray: true });
      return Number((rows as unknown[][])[0]?.[0] ?? 0);
    },
    seed: (n) =>
      exec(
        'CREATE TABLE contacts (id integer PRIMARY KEY, first_name varchar(80), last_name varchar(80), email varchar(200), deleted smallint NOT NULL DEFAULT 0)',
        'CREATE TABLE notes (id integer PRIMARY KEY, contact_id integer, body text)',
        `INSERT INTO contacts SELECT seq, CONCAT('First', seq), CONCAT('Last', seq), CONCAT('person', seq, '@Example.COM'), 0 FROM seq_1_to_${n}`,
        `INSERT INTO notes SELECT seq, 1 + seq % ${n}, CONCAT('note ', seq) FROM seq_1_to_${Math.floor(n / 2)}`,
      ),
    bulkInsert: (from, to) =>
      `INSERT INTO contacts SELECT seq, 'Bulk', CONCAT('Row', seq), CONCAT('bulk', seq, '@example.net'), 0 FROM seq_${from}_to_${to}`,
    drop: async () => {
      await opened()
        ?.then((c) => c.end())
        .catch(() => undefined);
      const a = await mysql.createConnection(server.url());
      await a.query(`DROP DATABASE IF EXISTS ${name}`);
      await a.end();
    },
  };
}
