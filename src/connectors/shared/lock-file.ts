import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LockHolder } from '../contract.js';

/** Whether a process of this host is still there (EPERM: there, but another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderIn(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined; // gone meanwhile, or not written yet
  }
}

/**
 * A run lock as a file beside a database file (SQLite, a file target's sidecar), for databases that have no
 * lock of their own that dies with its holder: created exclusively, holding who took it. A file left by a
 * process of this host that is gone is taken over, so a killed run never blocks the next one.
 * Resolves to `release`, or to the holder when another run holds the lock and `wait` is false.
 *
 * Known gap: two runs taking over the same stale file at the same instant can both succeed (each removes it,
 * then creates its own); a takeover by link(2) of a file already written would close it.
 */
export async function takeLockFile(
  file: string,
  me: LockHolder,
  wait: boolean,
): Promise<{ release: () => void } | { holder: LockHolder }> {
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = holderIn(file);
    if (holder && holder.host === me.host && !alive(holder.pid)) {
      rmSync(file, { force: true });
      continue;
    }
    if (holder && !wait) return { holder };
    await sleep(200);
  }
}

/** The lock file of a plan beside a database file: one per plan, its name digested (a plan name may hold any character). */
export const lockFileFor = (database: string, plan: string): string =>
  `${database}.${createHash('sha1').update(plan).digest('hex').slice(0, 16)}.lock`;
