import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { endProcess, freePort } from './own-postgres.js';

/** A MariaDB server of a test's own, on its own port, with the binlog on (row format, whole row images). */
export interface OwnMariadb {
  readonly port: number;
  url(database?: string): string;
  /** Stops the server and starts it again on the same data (a source restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The binlog settings change capture needs on a MySQL/MariaDB source. */
export const BINLOG = ['--log-bin=mysql-bin', '--binlog-format=ROW', '--binlog-row-image=FULL', '--server-id=1'];

export async function startOwnMariadb(settings: readonly string[] = BINLOG): Promise<OwnMariadb> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-mariadb-'));
  const data = path.join(dir, 'data');
  execFileSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--user=root', '--skip-test-db'],
    { stdio: 'ignore' },
  );
  const port = await freePort();
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--port=${port}`,
        `--socket=${path.join(dir, 'sock')}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        '--innodb-flush-log-at-trx-commit=2',
        '--innodb-buffer-pool-size=256M',
        ...settings,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; ; i++) {
      try {
        const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
        await c.end();
        return;
      } catch {
        if (i > 150) throw new Error('the test MariaDB server did not start');
        await sleep(100);
      }
    }
  };
  const shutdown = () => endProcess(server, 'SIGTERM');
  await start();
  return {
    port,
    url: (database = 'mysql') => `mysql://root@127.0.0.1:${port}/${database}`,
    restart: async () => {
      await shutdown();
      await start();
    },
    stop: async () => {
      await shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
