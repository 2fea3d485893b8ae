import type { EntityProgress } from './load-entity.js';

/**
 * Reports progress with the source's row count as its total. The count is a full scan of the table (PostgreSQL:
 * ~120 ms a million rows) that only progress needs: it runs beside the load instead of before it, not at all
 * when nobody listens, and a report waits until it is known. A failed count leaves the total at the rows read:
 * progress is no reason to fail a load whose reads succeed.
 */
export function progressReporter(
  listener: ((progress: EntityProgress) => void) | undefined,
  alreadyRead: number,
  count: () => Promise<number>,
): { report(progress: Omit<EntityProgress, 'total'>): void; counted: Promise<void>; abandon(): void } {
  if (!listener) return { report: () => undefined, counted: Promise.resolve(), abandon: () => undefined };
  /** Undefined until counted, null when the count failed. */
  let rows: number | null | undefined;
  let waiting: Omit<EntityProgress, 'total'> | undefined;
  let abandoned = false;
  const emit = (p: Omit<EntityProgress, 'total'>) => {
    if (!abandoned) listener({ ...p, total: rows === null || rows === undefined ? p.counts.read : alreadyRead + rows });
  };
  const counted = count().then(
    (n) => known(n),
    () => known(null),
  );
  /** The count came back (null: it failed): the report that waited for it goes out at once, in order. */
  function known(n: number | null): void {
    rows = n;
    if (waiting) emit(waiting);
    waiting = undefined;
  }
  return {
    counted,
    report(p) {
      if (rows === undefined) waiting = p;
      else emit(p);
    },
    // A load that failed reports nothing more, even when its count comes back after it.
    abandon: () => void (abandoned = true),
  };
}
