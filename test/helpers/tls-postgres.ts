import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOwnPostgres } from '../../scripts/servers/own-postgres.js';

/** A PostgreSQL server of the test's own: TLS on, certificates from a CA made for it, TLS-only connections. */
export interface TlsPostgres {
  readonly port: number;
  /** The CA that signed the server's certificate (issued for "localhost"), and one that did not. */
  readonly ca: string;
  readonly otherCa: string;
  url(host: string): string;
  stop(): Promise<void>;
}

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

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
  const server = await startOwnPostgres(['ssl=on', 'ssl_cert_file=server.crt', 'ssl_key_file=server.key'], {
    // TLS only: no plain `host` line, so a connection without TLS is turned away.
    hba: 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n',
    prepare: (data) => {
      for (const f of ['server.crt', 'server.key']) copyFileSync(path.join(dir, f), path.join(data, f));
      chmodSync(path.join(data, 'server.key'), 0o600);
    },
  });
  const port = server.port;
  return {
    port,
    ca: path.join(dir, 'ca.crt'),
    otherCa: path.join(dir, 'other-ca.crt'),
    url: (host) => `postgres://root@${host}:${port}/postgres`,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
