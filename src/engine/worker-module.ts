import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled module of a worker thread, for the module that starts it (`caller`: its import.meta.url;
 * `file`: the worker's path under src/, compiled, e.g. `engine/map/map-worker.js`). Built, the worker sits
 * beside its caller, in dist/src/ and in the bundle alike (scripts/bundle.ts). Run from source (vitest), Node
 * 20 cannot load a .ts worker, so the build's copy is used: `npm test` builds first.
 */
export function workerModule(caller: string, file: string): string {
  const sibling = path.join(path.dirname(fileURLToPath(caller)), path.basename(file));
  if (existsSync(sibling)) return sibling;
  return fileURLToPath(new URL(`../../dist/src/${file}`, import.meta.url));
}
