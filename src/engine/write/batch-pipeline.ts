import type { BatchStart, BatchWriter, Target } from '../../connectors/contract.js';
import { RowsRejected } from '../../errors.js';
import type { BatchContent, PendingRows } from './refused-rows.js';

/**
 * The open batch's writer and the commits of an entity's load, in order. With overlapping batches (a target
 * that says it can), a batch commits while the next one streams, and a commit starts only after the one before
 * it has committed, so a checkpoint never runs ahead. A batch the target refuses for its data (RowsRejected) is
 * written again without its refused rows, which move to the quarantine (`rewrite`).
 */
export class BatchPipeline {
  #writer: BatchWriter | undefined;
  #previous: { batch: BatchContent; commit: Promise<void> } | undefined;

  constructor(
    private readonly target: Target,
    private readonly start: BatchStart,
    private readonly hooks: {
      /** The open batch's content for its commit, the next batch starting empty. */
      take(done: boolean): BatchContent;
      /** Writes a refused batch again without its refused rows. */
      rewrite(batch: BatchContent): Promise<void>;
      /** The open batch's rows so far, read and mapped again (for a new transaction after a rollback). */
      readOpenAgain(): Promise<PendingRows>;
      /** The counts moved: progress is worth reporting. */
      report(): void;
    },
  ) {}

  /** The open batch's writer (there is one between `open` and a commit). */
  get writer(): BatchWriter {
    if (!this.#writer) throw new Error('no open batch');
    return this.#writer;
  }

  async open(): Promise<BatchWriter> {
    this.#writer = await this.target.beginBatch(this.start);
    return this.#writer;
  }

  /** Commits the open batch (the last one waits for its commit). */
  async commit(last: boolean, done = false): Promise<void> {
    await this.#settle();
    const batch = this.hooks.take(done);
    const committing = this.writer.commit(batch.quarantine, batch.checkpoint, batch.state);
    this.#writer = undefined;
    if (this.target.capabilities.overlappingBatches && !last) {
      this.#previous = { batch, commit: committing.then(() => this.hooks.report()) };
      // Handled here so it is not reported as unhandled; the failure is thrown by the next settle.
      this.#previous.commit.catch(() => undefined);
      return;
    }
    try {
      await committing;
    } catch (error) {
      if (!(error instanceof RowsRejected)) throw error;
      await this.hooks.rewrite(batch);
    }
    if (!last) this.hooks.report();
  }

  /** Waits while the target is behind; rows it refused end the open batch early, written without them. */
  async flush(): Promise<void> {
    try {
      await this.writer.flush();
    } catch (error) {
      if (!(error instanceof RowsRejected)) throw error;
      await this.#writer?.abort();
      this.#writer = undefined;
      await this.#settle();
      await this.hooks.rewrite(this.hooks.take(false));
      await this.open();
    }
  }

  /** After a failure: lets a commit in flight end, and rolls back the open batch. */
  async abandon(): Promise<void> {
    await this.#previous?.commit.catch(() => undefined);
    await this.#writer?.abort().catch(() => undefined);
  }

  /**
   * Waits for the previous batch's commit. If the target refused it, the open batch is rolled back first (its
   * rows could wait on the ones written again), the previous one is written again without its refused rows,
   * and the open batch's rows so far go into a new transaction.
   */
  async #settle(): Promise<void> {
    if (!this.#previous) return;
    const { batch, commit } = this.#previous;
    this.#previous = undefined;
    try {
      await commit;
    } catch (error) {
      if (!(error instanceof RowsRejected)) throw error;
      await this.#writer?.abort();
      this.#writer = undefined;
      await this.hooks.rewrite(batch);
      this.hooks.report();
      const rows = await this.hooks.readOpenAgain();
      const replay = await this.open();
      for (const values of rows.values) replay.add(values);
    }
  }
}
