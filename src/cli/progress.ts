import type * as CliProgress from 'cli-progress';
import { createRequire } from 'node:module';
import type { EntityProgress } from '../index.js';
import { int } from './format.js';

export interface ProgressView {
  update(progress: EntityProgress): void;
  stop(): void;
}

const rate = (rows: number, ms: number) => (ms > 0 ? Math.round((rows * 1000) / ms) : 0);

/**
 * The time left at this rate, as `1h02m`, `3m05s` or `42s`; `--` before any row has moved (cli-progress's own
 * ETA printed `NULL` and `INF` cut to their last letters then).
 */
export function timeLeft(remaining: number, rowsPerSecond: number): string {
  if (remaining <= 0) return '0s';
  if (!(rowsPerSecond > 0)) return '--';
  const seconds = Math.ceil(remaining / rowsPerSecond);
  if (seconds >= 100 * 3600) return '>99h';
  const two = (n: number) => String(n).padStart(2, '0');
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${two(Math.floor((seconds % 3600) / 60))}m`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m${two(seconds % 60)}s`;
  return `${seconds}s`;
}

/** A bar per entity with rows/s, ETA and quarantined count, on stderr so stdout stays machine-readable. */
function bars(stream: NodeJS.WriteStream): ProgressView {
  // Required here: only a terminal draws bars, and the package's 17 modules were loaded by every command.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      format:
        ' {entity} |{bar}| {percentage}% {value}/{total} rows | {rate} rows/s | ETA {eta} | quarantined {quarantined}',
    },
    cliProgress.Presets.shades_classic,
  );
  const entries = new Map<string, { bar: CliProgress.SingleBar; start: number; startRead: number }>();
  return {
    update(p) {
      let entry = entries.get(p.entity);
      if (!entry) {
        entry = {
          bar: multi.create(Math.max(p.total, p.counts.read), p.counts.read, {
            entity: p.entity.padEnd(12),
            rate: 0,
            eta: '--',
            quarantined: 0,
          }),
          start: Date.now(),
          startRead: p.counts.read,
        };
        entries.set(p.entity, entry);
      }
      const rows = p.counts.read - entry.startRead;
      const perSecond = rate(rows, Date.now() - entry.start);
      entry.bar.setTotal(Math.max(p.total, p.counts.read));
      entry.bar.update(p.counts.read, {
        rate: int(perSecond),
        eta: timeLeft(p.total - p.counts.read, perSecond),
        quarantined: int(p.counts.quarantined),
      });
    },
    stop: () => multi.stop(),
  };
}

/** Off a terminal (CI, logs): one plain line per entity every few seconds, and one when it is done. */
function lines(write: (line: string) => void, everyMs: number): ProgressView {
  const state = new Map<string, { start: number; startRead: number; lastPrint: number }>();
  return {
    update(p) {
      const now = Date.now();
      let s = state.get(p.entity);
      if (!s) {
        s = { start: now, startRead: p.counts.read, lastPrint: now };
        state.set(p.entity, s);
      }
      if (!p.done && now - s.lastPrint < everyMs) return;
      s.lastPrint = now;
      const pct = p.total > 0 ? Math.min(100, Math.floor((p.counts.read * 100) / p.total)) : 100;
      write(
        `${p.entity}: ${int(p.counts.read)}/${int(p.total)} rows (${pct}%), ${int(rate(p.counts.read - s.startRead, now - s.start))} rows/s, quarantined ${int(p.counts.quarantined)}${p.done ? ', done' : ''}`,
      );
    },
    stop: () => undefined,
  };
}

/** Bars when stderr is a terminal (and the caller writes to it), plain lines through `write` otherwise. */
export function progressView(options: {
  quiet: boolean;
  write: (line: string) => void;
  terminal: boolean;
}): ProgressView | undefined {
  if (options.quiet) return undefined;
  return options.terminal ? bars(process.stderr) : lines(options.write, 5000);
}
