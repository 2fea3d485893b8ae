import type { Row } from '../../values.js';
import { inlineMapper, type ChunkMapper, type MappedChunk } from './chunk-mapper.js';
import type { BoundEntity } from '../schema-check.js';
import { poolMapper } from './worker-pool.js';

export interface AdaptiveTuning {
  /**
   * Chunks mapped before measuring anything: the JIT compiles the steps and the caches fill. On realistic
   * customers (bench/legacy-customers.ts) the rules cost 2–4 × their steady rate over the first 32,000 rows
   * (each new mail domain's verdict, each country's phone patterns compiled): a window measured there took a
   * 5 µs plan for a 12 µs one, tried threads, and lost a quarter of a million-row load.
   */
  readonly warmUpChunks: number;
  /** Chunks per measured window. */
  readonly windowChunks: number;
  /** Threads must beat the main thread by this factor to be kept: they cost memory, and the machine is noisy. */
  readonly margin: number;
  /**
   * Threads are only tried when mapping takes at least this long a row on the main thread: below it, the
   * cloning they need costs more than they save, and the trial itself (thread start-up, a slower window)
   * would cost ≈ 15 % of a million-row load. Threads won 1.26 × on a plan of ≈ 30 µs a row (phones parsed and
   * formatted by libphonenumber-js); the realistic cleaning plan (≈ 5 µs) measured up to 8 µs when the machine was
   * busy, and lost when tried.
   */
  readonly tryThreadsAboveUsPerRow: number;
}

export const DEFAULT_TUNING: AdaptiveTuning = {
  warmUpChunks: 64,
  windowChunks: 60,
  margin: 1.1,
  tryThreadsAboveUsPerRow: 12,
};

/**
 * `workers: auto`: whether mapping threads pay depends on the plan and on the machine. Handing a chunk to a
 * thread and taking its values back costs about 2.5 µs of CPU a row here (structured cloning both ways), so
 * on two cores threads win only when cleaning is heavy (≈ 1.5 × with phones parsed by libphonenumber-js on
 * every row) and lose when it is light (≈ 0.6 × for the seed mapping). So this measures instead of guessing:
 * after a warm-up, one window on the main thread; if mapping is heavy enough to be worth a try, one window on
 * the threads; and the faster way maps the rest. The rate is the pace at which the load asks for chunks,
 * which includes reading and writing.
 */
export function adaptiveMapper(
  entity: BoundEntity,
  threads: number,
  tuning: AdaptiveTuning = DEFAULT_TUNING,
): ChunkMapper & { readonly triedThreads: boolean } {
  const inline = inlineMapper(entity);
  let pool: ChunkMapper | undefined;
  let current = inline;
  let phase: 'warm-up' | 'main thread' | 'threads filling' | 'threads' | 'settled' = 'warm-up';
  let chunks = 0;
  let rows = 0;
  let since = 0;
  let mainThreadRate = 0;
  let mappingMs = 0;
  let threadsStarted = false;

  const next = (to: typeof phase) => {
    phase = to;
    chunks = 0;
    rows = 0;
    mappingMs = 0;
    since = performance.now();
  };

  return {
    get depth() {
      return current.depth;
    },
    get triedThreads() {
      return pool !== undefined;
    },
    map(chunk: Row[]): MappedChunk | Promise<MappedChunk> {
      chunks += 1;
      rows += chunk.length;
      if (phase === 'warm-up' && chunks === tuning.warmUpChunks) next('main thread');
      else if (phase === 'main thread' && chunks === tuning.windowChunks) {
        mainThreadRate = rows / (performance.now() - since);
        if ((mappingMs * 1000) / rows < tuning.tryThreadsAboveUsPerRow) {
          next('settled');
        } else {
          pool = poolMapper(entity, threads);
          current = pool;
          next('threads filling');
        }
      } else if (phase === 'threads filling' && threadsStarted && chunks >= tuning.warmUpChunks * threads) {
        next('threads'); // the threads' start-up and their own warm-up are not measured
      } else if (phase === 'threads' && chunks === tuning.windowChunks) {
        const threadsRate = rows / (performance.now() - since);
        if (threadsRate < mainThreadRate * tuning.margin) current = inline; // the pool closes when idle
        next('settled');
      }
      const started = phase === 'main thread' ? performance.now() : 0;
      const mapped = current.map(chunk);
      if (phase === 'main thread') mappingMs += performance.now() - started;
      if (phase === 'threads filling' && !threadsStarted && mapped instanceof Promise) {
        mapped.then(
          () => {
            threadsStarted = true;
            chunks = 0;
          },
          () => undefined,
        );
      }
      return mapped;
    },
    close: async () => {
      await pool?.close();
    },
  };
}
