import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { endProcess, freePort } from './own-postgres.js';

/** A Redis server of a test's own, on its own port, keeping every write on disk (appendonly, fsync always). */
export interface OwnRedis {
  readonly port: number;
  url(query?: string): string;
  /** Kills the server (SIGKILL: nothing flushed at the end) and starts it again on the same files. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether something answers PONG on the port. */
async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      resolve(false);
      socket.destroy();
    });
  });
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-redis-'));
  const port = await freePort();
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; !(await answers(port)); i++) {
      if (i > 100) throw new Error('the test Redis server did not start');
      await sleep(100);
    }
  };
  await start();
  return {
    port,
    url: (query = '') => `redis://127.0.0.1:${port}${query}`,
    crash: async () => {
      await endProcess(server, 'SIGKILL');
      await start();
    },
    stop: async () => {
      await endProcess(server, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
