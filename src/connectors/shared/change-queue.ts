import type { ChangeBatch, LogPosition, RowChange, SchemaChange } from '../contract.js';

/**
 * Between a log reader's callbacks and the engine: changes gather into batches of at most `batchSize`, a batch
 * is handed over when full or `maxWaitMs` after its first change, and the reader's callback waits while a
 * full batch is not yet taken — so the log is read only as fast as the engine applies it (backpressure).
 */
export class ChangeQueue {
  #pending: RowChange[] = [];
  /** The position the pending changes end at, and whether it closes a transaction. */
  #end: LogPosition | undefined;
  #closes = false;
  #inTransaction = false;
  #idle: LogPosition | undefined;
  #schema: SchemaChange | undefined;
  #failure: unknown;
  #firstAt = 0;
  #wake: (() => void) | undefined;
  #taken: (() => void)[] = [];

  constructor(
    private readonly options: { readonly batchSize: number; readonly maxWaitMs: number; readonly signal: AbortSignal },
  ) {
    options.signal.addEventListener('abort', () => this.#notify(), { once: true });
  }

  /** A transaction starts: a keepalive inside it says nothing about what is applied. */
  begin(): void {
    this.#inTransaction = true;
  }

  async push(change: RowChange): Promise<void> {
    if (this.#pending.length === 0) this.#firstAt = Date.now();
    this.#pending.push(change);
    this.#end = change.position;
    this.#closes = false;
    if (this.#pending.length >= this.options.batchSize) {
      this.#notify();
      await new Promise<void>((resolve) => this.#taken.push(resolve));
    }
  }

  /** The transaction ends here. A transaction with no followed change still moves the position on. */
  close(position: LogPosition): void {
    this.#inTransaction = false;
    if (this.#pending.length > 0) {
      this.#end = position;
      this.#closes = true;
    } else this.#idle = position;
  }

  /** The server says its log ends at `position`, outside any transaction: with nothing pending, all is applied up to it. */
  idle(position: LogPosition): void {
    if (this.#inTransaction || this.#pending.length > 0) return;
    this.#idle = position;
    this.#notify();
  }

  /**
   * The table's columns changed: the changes before it are handed over first, then the change itself, and
   * the reader waits until the engine has taken it — a change of the new shape must not slip in before.
   */
  async schemaChange(change: SchemaChange): Promise<void> {
    this.#schema = change;
    this.#notify();
    await new Promise<void>((resolve) => this.#taken.push(resolve));
  }

  fail(error: unknown): void {
    this.#failure ??= error;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *batches(): AsyncIterable<ChangeBatch> {
    const { signal, maxWaitMs } = this.options;
    while (!signal.aborted) {
      if (this.#failure !== undefined) throw this.#failure;
      const due =
        this.#pending.length > 0 &&
        (this.#pending.length >= this.options.batchSize || Date.now() - this.#firstAt >= maxWaitMs);
      if (due || (this.#schema && this.#pending.length > 0)) {
        const changes = this.#pending;
        const batch: ChangeBatch = { changes, end: this.#end as LogPosition, closesTransaction: this.#closes };
        this.#pending = [];
        const taken = this.#taken;
        this.#taken = [];
        yield batch;
        for (const resolve of taken) resolve();
        continue;
      }
      if (this.#schema) {
        const schemaChange = this.#schema;
        this.#schema = undefined;
        const taken = this.#taken;
        this.#taken = [];
        yield { changes: [], end: schemaChange.position, closesTransaction: false, schemaChange };
        for (const resolve of taken) resolve();
        continue;
      }
      if (this.#idle !== undefined && this.#pending.length === 0) {
        const end = this.#idle;
        this.#idle = undefined;
        yield { changes: [], end, closesTransaction: true };
        continue;
      }
      const wait = this.#pending.length > 0 ? Math.max(1, maxWaitMs - (Date.now() - this.#firstAt)) : maxWaitMs;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(() => this.#notify(), wait);
      });
      clearTimeout(timer);
    }
    for (const resolve of this.#taken) resolve();
  }
}
