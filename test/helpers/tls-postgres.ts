import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A PostgreSQL server of the test's own: TLS on, certificates from a CA made for it, TLS-only connections. */
export interface TlsPostgres {
  readonly port: number;
  /** The CA that signed the server's certificate (issued for "localhost"), and one that did not. */
  readonly ca: string;
  readonly otherCa: string;
  url(host: string): string;
  stop(): Promise<void>;
}

const BIN = (() => {
  const versions = readdirSync('/usr/lib/postgresql').sort();
  return path.join('/usr/lib/postgresql', versions.at(-1) ?? '15', 'bin');
})();

function freePort(): Promise<number> {
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

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

/** initdb refuses to run as root: then the server runs as the postgres user. */
const asServerUser = (command: string, args: string[]): [string, string[]] =>
  userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];

export async function startTlsPostgres(): Promise<TlsPostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-tls-'));
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=crm-migrate test CA',
  );
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other.key',
    '-out',
    'other-ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=someone else',
  );
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  const data = path.join(dir, 'data');
  if (userInfo().uid === 0)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres']).toString()),
      Number(execFileSync('id', ['-g', 'postgres']).toString()),
    );
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
  // TLS only: no plain `host` line, so a connection without TLS is turned away.
  writeFileSync(path.join(data, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n');
  for (const f of ['server.crt', 'server.key']) copyFileSync(path.join(dir, f), path.join(data, f));
  chmodSync(path.join(data, 'server.key'), 0o600);
  if (userInfo().uid === 0) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const port = await freePort();
  const [postgres, args] = asServerUser(path.join(BIN, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'ssl=on',
    '-c',
    'ssl_cert_file=server.crt',
    '-c',
    'ssl_key_file=server.key',
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'fsync=off',
  ]);
  const server: ChildProcess = spawn(postgres, args, { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    try {
      execFileSync(path.join(BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
      break;
    } catch {
      if (i > 100) throw new Error('the TLS test server did not start');
      await sleep(100);
    }
  }
  return {
    port,
    ca: path.join(dir, 'ca.crt'),
    otherCa: path.join(dir, 'other-ca.crt'),
    url: (host) => `postgres://root@${host}:${port}/postgres`,
    stop: async () => {
      // The postmaster's own pid (runuser does not pass signals on): SIGINT is PostgreSQL's fast shutdown.
      const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
          await sleep(100);
        } catch {
          break;
        }
      }
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
