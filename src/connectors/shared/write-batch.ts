import type { BatchStart, BatchWriter, Checkpoint, QuarantinedRow, Target } from '../contract.js';
import type { Row } from '../../values.js';

/** A whole batch in one call: for small writes (a final checkpoint, tests) where streaming buys nothing. */
export async function writeBatch(
  target: Target,
  batch: BatchStart & { rows: readonly Row[]; quarantine: readonly QuarantinedRow[]; checkpoint: Checkpoint },
): Promise<void> {
  const writer: BatchWriter = await target.beginBatch(batch);
  try {
    for (const row of batch.rows) writer.add(row);
    await writer.commit(batch.quarantine, batch.checkpoint);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
