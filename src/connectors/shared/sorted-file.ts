import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { CrmMigrateError } from '../../errors.js';
import { compareKeys } from '../../key-order.js';
import type { Row, Value } from '../../values.js';

/** Rows sorted in memory before a run is written to disk: bounds memory whatever the file's size. */
const RUN_ROWS = 50_000;

type Keyed = { key: Value[]; row: Row };

/** A run of sorted rows on disk, read back one row at a time. */
class RunReader {
  readonly #lines: AsyncIterator<string>;
  head: Keyed | undefined;
  constructor(
    file: string,
    private readonly keyIndexes: readonly number[],
  ) {
    this.#lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity })[Symbol.asyncIterator]();
  }
  async next(): Promise<void> {
    const step = await this.#lines.next();
    if (step.done) {
      this.head = undefined;
      return;
    }
    const row = JSON.parse(step.value) as Row;
    this.head = { row, key: this.keyIndexes.map((i) => row[i] ?? null) };
  }
  async close(): Promise<void> {
    await this.#lines.return?.();
  }
}

async function writeRun(file: string, rows: readonly Keyed[]): Promise<void> {
  const out = createWriteStream(file);
  // Big integers go to disk as their digits (JSON has no bigint); compared by value, they read the same.
  for (const r of rows)
    if (!out.write(`${JSON.stringify(r.row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`))
      await once(out, 'drain');
  out.end();
  await finished(out);
}

/**
 * A file's rows in ascending key order (the contract's order: numbers by value, text by code point), for
 * formats that have no order of their own. An external merge sort: runs of 50,000 rows are sorted in memory
 * and spilled to a temporary folder, then merged, so memory holds one run and one row per run, whatever the
 * file's size. Rows with the same key twice are refused: a key must identify its row.
 */
export async function* sortedRows(
  rows: AsyncIterable<Row>,
  keyIndexes: readonly number[],
  after: readonly Value[] | undefined,
  what: string,
): AsyncIterable<Row> {
  const byKey = (a: Keyed, b: Keyed) => compareKeys(a.key, b.key);
  const isAfter = (key: readonly Value[]) =>
    !after || after.length === 0 || compareKeys(key.slice(0, after.length), after) > 0;
  let dir: string | undefined;
  const runs: string[] = [];
  let buffer: Keyed[] = [];
  try {
    for await (const row of rows) {
      const key = keyIndexes.map((i) => row[i] ?? null);
      if (!isAfter(key)) continue;
      buffer.push({ key, row });
      if (buffer.length >= RUN_ROWS) {
        dir ??= mkdtempSync(path.join(tmpdir(), 'crm-migrate-sort-'));
        const file = path.join(dir, `run-${runs.length}.jsonl`);
        await writeRun(file, buffer.sort(byKey));
        runs.push(file);
        buffer = [];
      }
    }
    buffer.sort(byKey);
    let previous: Value[] | undefined;
    const emit = (next: Keyed): Row => {
      if (previous && compareKeys(previous, next.key) === 0) {
        throw new CrmMigrateError(
          'E_SOURCE',
          `${what}: the key is not unique (key ${JSON.stringify(next.key)} comes twice)`,
          { hint: 'choose a key column (or several) that identifies each row' },
        );
      }
      previous = next.key;
      return next.row;
    };
    if (runs.length === 0) {
      for (const r of buffer) yield emit(r);
      return;
    }
    // The last run stays in memory; the others are merged from disk.
    const readers = runs.map((f) => new RunReader(f, keyIndexes));
    try {
      await Promise.all(readers.map((r) => r.next()));
      let at = 0;
      for (;;) {
        let best: RunReader | undefined;
        for (const r of readers) if (r.head && (!best?.head || byKey(r.head, best.head) < 0)) best = r;
        const memory = buffer[at];
        if (!best?.head && !memory) return;
        if (memory && (!best?.head || byKey(memory, best.head) <= 0)) {
          yield emit(memory);
          at += 1;
        } else if (best?.head) {
          yield emit(best.head);
          await best.next();
        }
      }
    } finally {
      await Promise.allSettled(readers.map((r) => r.close()));
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows in batches of `size`. */
export async function* batched(rows: AsyncIterable<Row>, size: number): AsyncIterable<Row[]> {
  let batch: Row[] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
