import { workerData } from 'node:worker_threads';
import type { PlanIssue } from '../../errors.js';
import { compileEntity } from '../../mapping/compile.js';
import type { Row } from '../../values.js';
import { chunkMapperFor, type MappedChunk } from './chunk-mapper.js';
import type { MapWorkerSpec } from './worker-pool.js';

// A mapping thread (a piscina task module): compiles the entity once from its plan input, then maps chunk
// after chunk. Each chunk's quality counts travel back with it; the main thread adds them up in order.
const spec = workerData as MapWorkerSpec;
const issues: PlanIssue[] = [];
const plan = compileEntity(spec.entity, spec.input, { batchSize: 1, workers: 0, keys: spec.keys }, issues);
if (issues.length > 0)
  throw new Error(`mapping thread: entity ${spec.entity} does not compile: ${issues.map((i) => i.message).join('; ')}`);
const map = chunkMapperFor({ plan, sourceColumns: spec.sourceColumns, targetColumns: spec.targetColumns });

export default function mapChunk(rows: Row[]): Omit<MappedChunk, 'rows'> {
  // The source rows stay where they are: the main thread still holds them, so they are not cloned back.
  const { values, reasons, quality } = map(rows);
  return { values, reasons, quality };
}
