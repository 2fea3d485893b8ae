import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, fmt, median, seedMappingPlan } from './common.js';

/**
 * npm run bench:start [-- --runs R --baseline DIR]
 * What a command costs before it does any work: wall clock of `crm-migrate --version`, and of `run --fresh` of
 * the seed mapping on 100 SQLite rows (start-up, plan checks and a load too small to matter), beside `node -e 0`.
 * `--baseline DIR`: the same commands by another checkout (built), alternating with this one. Medians of R.
 */
const { runs: RUNS, baseline: BASELINE } = benchArgs();
const here = path.dirname(fileURLToPath(import.meta.url));
const checkouts: [string, string][] = [['this checkout', path.join(here, '../..')]];
if (BASELINE) checkouts.push([`baseline (${path.basename(BASELINE)})`, BASELINE]);

const tmp = mkdtempSync(path.join(tmpdir(), 'crm-bench-start-'));
try {
  // The seed mapping on one SQLite file, as the PostgreSQL benchmarks have it on one database.
  const file = new Database(path.join(tmp, 'crm.db'));
  file.exec('CREATE TABLE old_crm_customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT)');
  const insert = file.prepare('INSERT INTO old_crm_customers VALUES (?, ?, ?, ?)');
  for (let id = 1; id <= 100; id++) insert.run(id, `Jane Doe${id}`, `jane${id}@example.com`, '555-0100');
  file.close();
  writeFileSync(path.join(tmp, 'plan.yaml'), seedMappingPlan('start-up', 'sqlite:./crm.db'));

  /** Wall clock of one command, in its own process. */
  const timed = (args: readonly string[]): number => {
    const started = performance.now();
    const done = spawnSync(process.execPath, args, { cwd: tmp, stdio: 'ignore' });
    if (done.status !== 0) throw new Error(`${args.join(' ')} exited with ${done.status}`);
    return performance.now() - started;
  };
  const commands: [string, (checkout: string) => string[]][] = [
    ['--version', (checkout) => [path.join(checkout, 'bin/crm-migrate.js'), '--version']],
    [
      'run --fresh, 100 SQLite rows',
      (checkout) => [
        path.join(checkout, 'bin/crm-migrate.js'),
        'run',
        '--fresh',
        '--quiet',
        '--no-report',
        'plan.yaml',
      ],
    ],
  ];
  const node: number[] = [];
  const times = new Map<string, number[]>();
  for (let i = 0; i < RUNS; i++) {
    // Alternate, so drift on a noisy machine hits all alike.
    node.push(timed(['-e', '0']));
    for (const [name, args] of commands)
      for (const [label, checkout] of checkouts) {
        const key = `${name} | ${label}`;
        times.set(key, [...(times.get(key) ?? []), timed(args(checkout))]);
      }
  }
  console.log(`runs: ${RUNS} (medians, wall clock); node -e 0: ${fmt(median(node))} ms`);
  for (const [name] of commands) {
    const ours = median(times.get(`${name} | ${checkouts[0]?.[0]}`) ?? []);
    const line = [`${name}: ${fmt(ours)} ms`];
    if (checkouts[1]) {
      const theirs = median(times.get(`${name} | ${checkouts[1][0]}`) ?? []);
      line.push(`${checkouts[1][0]} ${fmt(theirs)} ms (this / baseline ${(ours / theirs).toFixed(2)})`);
    }
    console.log(line.join('; '));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
