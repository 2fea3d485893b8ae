import { createRequire } from 'node:module';

/**
 * `require` for what only some plans or commands use (a driver's helper, a data list, the phone metadata):
 * loaded where it is first needed, not imported by every command at start-up (BENCHMARKS.md, "Start-up";
 * test/start-up.test.ts holds `--version` and a plain run to none of them). Synchronous, so a rule that
 * needs one stays synchronous. Packages resolve from this project's node_modules, wherever it is called.
 */
export const requireOnDemand = createRequire(import.meta.url);
