import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run build`'s second step: the compiled library, CLI and worker threads bundled into dist/bundle/, which
 * the package's entry points load. Node 20 spends about a millisecond on each ES module it loads; a command
 * loaded some 300 (our own ~120, zod's 95, yaml's 72) and took ~340 ms to import the library, ~160 ms bundled
 * (BENCHMARKS.md, "Three cuts"). dist/src/ stays as tsc wrote it: its type declarations, and the modules that
 * tests run from source use as their worker threads.
 *
 * Bundled: the pure-JavaScript packages every command loads. Kept external: native addons, database drivers
 * and what loads only when a plan asks for it (requireOnDemand, dynamic imports), so a command still loads
 * only what it uses (test/start-up.test.ts).
 */
const BUNDLED = new Set([
  'zod',
  'yaml',
  'commander',
  'validator',
  'talisman',
  'fastest-levenshtein',
  'tldts',
  '@zootools/email-spell-checker',
]);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const external = Object.keys(manifest.dependencies)
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);

const outdir = path.join(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    index: 'dist/src/index.js',
    cli: 'dist/src/cli/main.js',
    // Beside the chunks that start them: src/engine/worker-module.ts looks there.
    'map-worker': 'dist/src/engine/map/map-worker.js',
    'chunk-worker': 'dist/src/engine/scale/chunk-worker.js',
  },
  absWorkingDir: root,
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  sourcemap: 'linked',
  logLevel: 'warning',
  // The bundled CommonJS packages (yaml, commander) require Node's own modules: an ES module has no `require`.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
});
