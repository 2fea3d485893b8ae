import cliProgress from 'cli-progress';
import type { EntityProgress } from '../engine/load-entity.js';
import { int } from './format.js';

export interface ProgressView {
  update(progress: EntityProgress): void;
  stop(): void;
}

const rate = (rows: number, ms: number) => (ms > 0 ? Math.round((rows * 1000) / ms) : 0);

/** A bar per entity with rows/s, ETA and quarantined count, on stderr so stdout stays machine-readable. */
function bars(stream: NodeJS.WriteStream): ProgressView {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      format: ' {entity} |{bar}| {percentage}% {value}/{total} rows | {rate} rows/s | ETA {eta_formatted} | quarantined {quarantined}',
    },
    cliProgress.Presets.shades_classic,
  );
  const entries = new Map<string, { bar: cliProgress.SingleBar; start: number; startRead: number }>();
  return {
    update(p) {
      let entry = entries.get(p.entity);
      if (!entry) {
        entry = { bar: multi.create(Math.max(p.total, p.counts.read), p.counts.read, { entity: p.entity.padEnd(12), rate: 0, quarantined: 0 }), start: Date.now(), startRead: p.counts.read };
        entries.set(p.entity, entry);
      }
      const rows = p.counts.read - entry.startRead;
      entry.bar.setTotal(Math.max(p.total, p.counts.read));
      entry.bar.update(p.counts.read, { rate: int(rate(rows, Date.now() - entry.start)), quarantined: int(p.counts.quarantined) });
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
      write(`${p.entity}: ${int(p.counts.read)}/${int(p.total)} rows (${pct}%), ${int(rate(p.counts.read - s.startRead, now - s.start))} rows/s, quarantined ${int(p.counts.quarantined)}${p.done ? ', done' : ''}`);
    },
    stop: () => undefined,
  };
}

/** Bars when stderr is a terminal (and the caller writes to it), plain lines through `write` otherwise. */
export function progressView(options: { quiet: boolean; write: (line: string) => void; terminal: boolean }): ProgressView | undefined {
  if (options.quiet) return undefined;
  return options.terminal ? bars(process.stderr) : lines(options.write, 5000);
}
