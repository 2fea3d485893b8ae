import type * as PiscinaModule from 'piscina';
import type { EntityInput } from '../../plan/schema.js';
import type { Row } from '../../values.js';
import type { ChunkMapper, MappedChunk } from './chunk-mapper.js';
import type { BoundEntity, TargetColumn } from '../schema-check.js';
import { requireOnDemand } from '../../require-on-demand.js';
import { workerModule } from '../worker-module.js';

/** What a mapping thread needs to compile the entity on its own: plain data, cloned once per thread. */
export interface MapWorkerSpec {
  readonly entity: string;
  readonly input: EntityInput;
  /** The plan's protection keys, resolved: in memory, to the thread, never written anywhere. */
  readonly keys: Readonly<Record<string, string>>;
  readonly sourceColumns: readonly string[];
  readonly targetColumns: readonly TargetColumn[];
}

/**
 * Maps chunks on `threads` worker threads (piscina). Each chunk's rows are cloned to a thread and its
 * values back; two chunks per thread are kept in flight so no thread waits for the next one. Idle threads
 * exit after a second, so a pool that lost to the main thread (see adaptive-mapper.ts) gives its memory back.
 */
export function poolMapper(entity: BoundEntity, threads: number): ChunkMapper {
  const spec: MapWorkerSpec = {
    entity: entity.plan.name,
    input: entity.plan.input,
    keys: entity.plan.keys,
    sourceColumns: entity.sourceColumns,
    targetColumns: entity.targetColumns,
  };
  // Required here, not imported at the top: most runs map on the main thread, and piscina took 60 ms of every
  // command's start-up.
  const { Piscina } = requireOnDemand('piscina') as typeof PiscinaModule;
  const pool = new Piscina<Row[], Omit<MappedChunk, 'rows'>>({
    filename: workerModule(import.meta.url, 'engine/map/map-worker.js'),
    workerData: spec,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 1000,
  });
  return {
    depth: threads * 2,
    map: async (rows) => ({ rows, ...(await pool.run(rows)) }),
    close: () => pool.destroy(),
  };
}
