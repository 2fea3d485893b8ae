import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Library from '../src/index.js';

// The library as a user's import gets it: the package's entry, the bundle (scripts/bundle.ts), not dist/src/.
const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bundle/index.js');
const { loadPlan, runPlan, verifyPlan } = (await import(entry)) as typeof Library;

// One crm-migrate command in its own process, so its peak RSS and CPU time are its own. `run` (default) starts
// afresh; `increment` runs the plan again from its checkpoint; `verify` compares. Prints one JSON line:
// {rows, written, deleted, equal, ms, cpuMs, maxRssMb}.
const [file = '', mode = 'run'] = process.argv.slice(2);
const plan = await loadPlan(file);
const figures = { rows: 0, written: 0, deleted: 0, equal: true, ms: 0 };
if (mode === 'verify') {
  const summary = await verifyPlan(plan);
  const entity = summary.entities[0];
  Object.assign(figures, { rows: entity?.sourceRows ?? 0, equal: summary.equal, ms: summary.durationMs });
} else {
  const summary = await runPlan(plan, { fresh: mode === 'run' });
  const counts = Object.values(summary.entities)[0];
  Object.assign(figures, {
    rows: counts?.read ?? 0,
    written: counts?.written ?? 0,
    deleted: counts?.deleted ?? 0,
    ms: summary.durationMs,
  });
}
const cpu = process.cpuUsage();
process.stdout.write(
  JSON.stringify({
    ...figures,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
