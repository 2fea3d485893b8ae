import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/databases.js';
import { seedPlan } from './helpers/plans.js';

// A command imports only the drivers and libraries it uses: the connectors, BullMQ with ioredis, the phone
// rule's libphonenumber-js, the throwaway-domain list, piscina and filtrex took most of every command's
// start-up when all were imported at once (BENCHMARKS.md, "Start-up").

const BIN = path.resolve('bin/crm-migrate.js');
/** Module hooks that append each package an import resolves to to the file $PACKAGE_LOG. */
const LOG_PACKAGES = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const name = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(resolved.url);
  if (name) appendFileSync(process.env.PACKAGE_LOG, name[1] + '\\n');
  return resolved;
}`;
/** Registers the hooks, and on exit appends the CommonJS packages required (which the hooks do not see). */
const REGISTER = `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(LOG_PACKAGES)}`)});
const cache = createRequire(process.cwd() + '/').cache;
process.on('exit', () => {
  for (const file of Object.keys(cache)) {
    const name = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file);
    if (name) appendFileSync(process.env.PACKAGE_LOG, name[1] + '\\n');
  }
});`;

/**
 * The packages a CLI command imports, in a process of its own. Written to a file, synchronously: on stderr,
 * the hooks thread's lines are relayed late and may mingle with the command's own output.
 */
function packagesImportedBy(args: readonly string[], cwd: string): Set<string> {
  const log = path.join(cwd, 'packages.log');
  const done = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, BIN, ...args],
    { cwd, encoding: 'utf8', env: { ...process.env, PACKAGE_LOG: log } },
  );
  expect(done.status, done.stderr).toBe(0);
  // No file: not one package resolved (the bundle holds what every command loads, scripts/bundle.ts).
  if (!existsSync(log)) return new Set();
  return new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean));
}

/** A one-row seed load on SQLite, its phone field as given (none by default): what it imported, the rows it wrote. */
function seedRun(dir: string, phone?: string): { imported: Set<string>; written: unknown[] } {
  const plan = seedPlan({ source: 'sqlite:./old.db', target: 'sqlite:./new.db', ...(phone ? { phone } : {}) });
  writeFileSync(path.join(dir, 'plan.yaml'), plan);
  const source = new Database(path.join(dir, 'old.db'));
  source.exec(`CREATE TABLE old_crm_customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT);
    INSERT INTO old_crm_customers VALUES (1, 'Scott, Michael C.', 'michael@example.com', '030 1234567');`);
  source.close();
  const imported = packagesImportedBy(['run', 'plan.yaml'], dir);
  const target = new Database(path.join(dir, 'new.db'), { readonly: true });
  const written = target.prepare('SELECT * FROM new_crm_customers').all();
  target.close();
  return { imported, written };
}

const DRIVERS = ['pg', 'pg-copy-streams', 'pg-logical-replication', 'mysql2', '@vlasky/zongji', 'better-sqlite3'];
const QUEUE = ['bullmq', 'ioredis'];
/** What only the phone and country rules need (required, so the module hooks do not see them: the exit list does). */
const PHONES = ['libphonenumber-js', 'i18n-iso-countries'];
/** Read only when a plan asks for them: the throwaway-domain list, the mapping threads, expressions. */
const ON_DEMAND = ['disposable-email-domains', 'piscina', 'filtrex'];

describe('start-up', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.remove());

  it('--version imports no package beside the bundle: no driver, no queue', () => {
    // commander, zod and yaml are in dist/bundle/ (scripts/bundle.ts); the runs below show the hooks see the rest.
    expect(packagesImportedBy(['--version'], tmp.dir)).toEqual(new Set());
  });

  it('a SQLite run imports the SQLite driver alone, and no queue', () => {
    const { imported, written } = seedRun(tmp.dir);
    expect(written).toEqual([{ id: 1, first_name: 'Michael', last_name: 'Scott', email: 'michael@example.com' }]);
    expect(imported).toContain('better-sqlite3');
    for (const name of [...DRIVERS.filter((d) => d !== 'better-sqlite3'), ...QUEUE, ...PHONES, ...ON_DEMAND])
      expect(imported, name).not.toContain(name);
  });

  it('a run that cleans phones loads libphonenumber-js and the country names', () => {
    const { imported, written } = seedRun(tmp.dir, '{ from: phone, clean: { phone: { country: DE } } }');
    expect(written).toMatchObject([{ id: 1, phone: '+49301234567' }]);
    for (const name of PHONES) expect(imported, name).toContain(name);
  });
});
