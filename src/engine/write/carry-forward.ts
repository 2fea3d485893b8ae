import type { Checkpoint, Target } from '../../connectors/contract.js';
import type { BoundEntity } from '../schema-check.js';

/**
 * Commits a checkpoint with no rows: a step's, taken over from the finished run before; a chunk plan; the
 * sums of an entity's chunks.
 */
export async function carryForward(
  target: Target,
  runId: string,
  entity: BoundEntity,
  checkpoint: Checkpoint,
): Promise<void> {
  const writer = await target.beginBatch({ runId, table: entity.plan.into, columns: entity.writeColumns });
  await writer.commit([], checkpoint);
}
