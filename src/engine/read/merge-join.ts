import { CrmMigrateError } from '../../errors.js';
import type { Row, Value } from '../../values.js';
import { compareKeys } from '../../key-order.js';

/** One side of a merge: an async stream of row batches, walked one row at a time. */
class Side {
  readonly #batches: AsyncIterator<Row[]>;
  readonly #key: readonly number[];
  readonly #what: string;
  #rows: Row[] = [];
  #at = 0;
  #ended = false;
  #previous: Value[] | undefined;
  row: Row | undefined;
  key: Value[] = [];

  constructor(batches: AsyncIterable<Row[]>, key: readonly number[], what: string) {
    this.#batches = batches[Symbol.asyncIterator]();
    this.#key = key;
    this.#what = what;
  }

  /** Moves to the next row (undefined at the end), checking that keys strictly ascend. */
  async next(): Promise<void> {
    while (this.#at >= this.#rows.length && !this.#ended) {
      const step = await this.#batches.next();
      if (step.done) this.#ended = true;
      else {
        this.#rows = step.value;
        this.#at = 0;
      }
    }
    this.row = this.#rows[this.#at++];
    if (!this.row) return;
    this.key = this.#key.map((i) => (this.row as Row)[i] ?? null);
    // A merge is only right if both sides ascend in the same order; a step back means they do not agree
    // on the order, and nothing decided from here on could be trusted.
    if (this.#previous && compareKeys(this.#previous, this.key) >= 0) {
      throw new CrmMigrateError(
        'E_STATE',
        `${this.#what} did not come in strictly ascending key order; stopped before acting on it`,
        {
          hint: 'key columns must have the same type on both sides (a number key copied into a text column sorts differently)',
        },
      );
    }
    this.#previous = this.key;
  }

  async close(): Promise<void> {
    await this.#batches.return?.();
  }
}

/**
 * Walks two key-ordered streams side by side and calls `visit` once per key: with both rows when the key is
 * on both sides, with one when it is on one side only. Memory holds one batch of each side.
 */
export async function mergeJoin(
  left: { rows: AsyncIterable<Row[]>; key: readonly number[]; what: string },
  right: { rows: AsyncIterable<Row[]>; key: readonly number[]; what: string },
  visit: (left: Row | undefined, right: Row | undefined, key: readonly Value[]) => void | Promise<void>,
): Promise<void> {
  const a = new Side(left.rows, left.key, left.what);
  const b = new Side(right.rows, right.key, right.what);
  try {
    await a.next();
    await b.next();
    while (a.row || b.row) {
      const order = !a.row ? 1 : !b.row ? -1 : compareKeys(a.key, b.key);
      const visited =
        order < 0
          ? visit(a.row, undefined, a.key)
          : order > 0
            ? visit(undefined, b.row, b.key)
            : visit(a.row, b.row, a.key);
      if (visited) await visited;
      if (order <= 0) await a.next();
      if (order >= 0) await b.next();
    }
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
}
