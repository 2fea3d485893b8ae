import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const BIN = (() => {
  const versions = readdirSync('/usr/lib/postgresql').sort();
  return path.join('/usr/lib/postgresql', versions.at(-1) ?? '15', 'bin');
})();

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Sends a server process `signal` and resolves once it has exited (at once if it is not running). */
export async function endProcess(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/** initdb refuses to run as root: then the server runs as the postgres user. */
export const asServerUser = (command: string, args: string[]): [string, string[]] =>
  userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];

/** A PostgreSQL server of a test's own, on its own port, with settings the shared one lacks (wal_level=logical). */
export interface OwnPostgres {
  readonly port: number;
  url(database?: string): string;
  /** Fast shutdown, then the same data directory started again (a source restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a server with these `-c` settings: trust, a database `postgres` owned by root, plain connections
 * unless `hba` says otherwise; `prepare` puts files (certificates) into the data directory before it starts.
 */
export async function startOwnPostgres(
  settings: readonly string[],
  options: { readonly hba?: string; readonly prepare?: (data: string) => void } = {},
): Promise<OwnPostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-pg-'));
  if (userInfo().uid === 0)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres']).toString()),
      Number(execFileSync('id', ['-g', 'postgres']).toString()),
    );
  const data = path.join(dir, 'data');
  const [initdb, initArgs] = asServerUser(path.join(BIN, 'initdb'), [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'root',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  execFileSync(initdb, initArgs, { stdio: 'ignore' });
  writeFileSync(
    path.join(data, 'pg_hba.conf'),
    options.hba ?? 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n',
  );
  options.prepare?.(data);
  if (userInfo().uid === 0) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const port = await freePort();
  const start = async () => {
    const [postgres, args] = asServerUser(path.join(BIN, 'postgres'), [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=off',
      ...settings.flatMap((s) => ['-c', s]),
    ]);
    spawn(postgres, args, { stdio: 'ignore', detached: false });
    for (let i = 0; ; i++) {
      try {
        execFileSync(path.join(BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
        return;
      } catch {
        if (i > 150) throw new Error('the test server did not start');
        await sleep(100);
      }
    }
  };
  const shutdown = async () => {
    let pid: number;
    try {
      pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return;
    }
    // The postmaster's own pid (runuser does not pass signals on): SIGINT is PostgreSQL's fast shutdown.
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
        await sleep(100);
      } catch {
        return;
      }
    }
  };
  await start();
  return {
    port,
    url: (database = 'postgres') => `postgres://root@127.0.0.1:${port}/${database}`,
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

/** The settings change capture needs on a PostgreSQL source. */
export const LOGICAL_REPLICATION = [
  'wal_level=logical',
  'max_replication_slots=20',
  'max_wal_senders=20',
  'wal_sender_timeout=10s',
];
