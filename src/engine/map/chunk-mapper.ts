import type { Reason } from '../../connectors/contract.js';
import type { Row } from '../../values.js';
import { QualityTally, type EntityQuality } from './quality.js';
import { createRowMapper } from './row-mapper.js';
import type { MappableEntity } from '../schema-check.js';

/** A chunk of source rows after mapping: per row, the target values or why the row is quarantined. */
export interface MappedChunk {
  /** The source rows, as read (the key and the quarantined rows' originals come from here). */
  readonly rows: readonly Row[];
  /** Target values in target-column order; null for a quarantined row. */
  readonly values: readonly (Row | null)[];
  /** Why each row is quarantined; null for a row to write. */
  readonly reasons: readonly (readonly Reason[] | null)[];
  /**
   * The chunk's own quality counts, added to the entity's when the chunk is accounted: so a checkpoint's
   * quality report covers exactly the rows it commits, whichever thread mapped them and in whatever order.
   */
  readonly quality: EntityQuality;
}

/** Maps chunks of source rows; `depth` chunks may be in flight at once (results still come back in order). */
export interface ChunkMapper {
  readonly depth: number;
  map(rows: Row[]): MappedChunk | Promise<MappedChunk>;
  close(): Promise<void>;
}

/** Maps on the calling thread. */
export function inlineMapper(entity: MappableEntity): ChunkMapper {
  return { depth: 1, map: chunkMapperFor(entity), close: () => Promise.resolve() };
}

/** Pushes every row of a chunk through the entity's row mapper, counting the chunk's quality on its own. */
export function chunkMapperFor(entity: MappableEntity): (rows: Row[]) => MappedChunk {
  const tally = new QualityTally(entity.plan.fields.map((f) => f.target));
  const mapRow = createRowMapper(entity, tally);
  const scratch: Reason[] = [];
  return (rows) => {
    tally.reset();
    const values: (Row | null)[] = new Array(rows.length);
    const reasons: (readonly Reason[] | null)[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      scratch.length = 0;
      const mapped = mapRow(rows[i], scratch);
      const ok = scratch.length === 0;
      values[i] = ok ? mapped : null;
      reasons[i] = ok ? null : scratch.slice();
    }
    return { rows, values, reasons, quality: tally.snapshot() };
  };
}

/** Maps a stream of chunks with up to `depth` in flight, yielding them mapped in read order. */
export async function* mapInOrder(mapper: ChunkMapper, chunks: AsyncIterable<Row[]>): AsyncIterable<MappedChunk> {
  const pending: (MappedChunk | Promise<MappedChunk>)[] = [];
  try {
    for await (const rows of chunks) {
      const mapped = mapper.map(rows);
      // Handled here so a failing chunk is not reported as unhandled while an earlier one is awaited.
      if (mapped instanceof Promise) mapped.catch(() => undefined);
      pending.push(mapped);
      while (pending.length >= mapper.depth) yield await (pending.shift() as MappedChunk | Promise<MappedChunk>);
    }
    while (pending.length > 0) yield await (pending.shift() as MappedChunk | Promise<MappedChunk>);
  } finally {
    await Promise.allSettled(pending);
  }
}
