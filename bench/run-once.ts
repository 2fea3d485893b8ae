import { loadPlan, runPlan } from '../src/index.js';

// One crm-migrate run in its own process, so its peak RSS and CPU time are its own: prints {rows, ms, cpuMs, maxRssMb}.
const plan = await loadPlan(process.argv[2] ?? '');
const summary = await runPlan(plan, { fresh: true });
const counts = Object.values(summary.entities)[0];
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ rows: counts?.read ?? 0, written: counts?.written ?? 0, ms: summary.durationMs, cpuMs: Math.round((cpu.user + cpu.system) / 1000), maxRssMb: process.resourceUsage().maxRSS / 1024 }));
