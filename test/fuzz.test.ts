import Database from 'better-sqlite3';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { runPlan } from '../src/engine/run.js';
import { PlanError } from '../src/errors.js';
import '../src/mapping/compile.js';
import { findStep, stepNames } from '../src/mapping/steps.js';
import { parsePlan } from '../src/plan/load.js';
import type { Value } from '../src/values.js';
import { verifyPlan } from '../src/verify/verify.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';
import { captureIo } from './helpers/io.js';

// Whatever the old CRM holds, nothing crashes and nothing is lost: every rule takes any value, a run over
// 10,000 fuzzed rows quarantines each bad row with a reason, and malformed plans end with exit code 2.

/** The text legacy databases really hold: NUL, lone surrogates, combining marks, RTL, emoji, digits, padding. */
const nastyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      '\0',
      '\uD800',
      '\uDC00',
      '\u0301',
      '\u202E',
      '\u200F',
      'שלום',
      '😀',
      '👩‍👩‍👧',
      ' ',
      '\t',
      '\n',
      '@',
      '.',
      '-',
      '+',
      '1',
      '0',
      'e',
      'Z',
      "'",
      '"',
      '\\',
      ',',
    ),
    maxLength: 30,
  }),
  fc.constantFrom(
    '',
    ' ',
    'N/A',
    'NULL',
    '\\N',
    '0000-00-00',
    '2023-02-30',
    '31/12/2020',
    '1e309',
    '-0',
    'NaN',
    'Infinity',
    '9223372036854775808',
    'true',
    'yes',
    '{"a":1}',
    '[1,2',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  ),
);
const anyValue: fc.Arbitrary<Value> = fc.oneof(
  nastyText,
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.boolean(),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 16 }),
);

/** Options for the steps that need them; every other step is run bare. A new step without an entry here still runs. */
const OPTIONS: Record<string, unknown[]> = {
  join: [' '],
  cast: ['text', 'smallint', 'integer', 'bigint', 'decimal', 'float', 'boolean', 'date', 'timestamp', 'json', 'uuid'],
  map: [{ A: 'active', I: 'inactive' }],
  phone: [{ country: 'US' }, { format: 'international' }, { country: 'DE', format: 'national' }],
  picklist: [{ A: 'active' }, ['Gold', 'Silver']],
  regex: ['^[a-z]+$'],
  max_length: [5],
  one_of: [['a', 'B']],
  range: [{ min: 0, max: 10 }],
  date: [undefined, { order: 'dmy' }],
  email: [undefined, { fix: 'domains', disposable: 'invalid' }],
  json: [
    { template: { a: 'x', b: ['y', 'z'], c: { d: 'w' } } },
    { template: { primary: 'x', more: ['y', 'z'] }, clean: 'email' },
    { template: { n: 'x' }, clean: { phone: { country: 'US' } } },
  ],
  expr: [
    'amount * 2 + 1',
    'if x == "a" then coalesce(x, y) else lower(x) + upper(y)',
    'year(x) * 100 + month(x)',
    'regex_replace(x, "[0-9]", "") + domain(y)',
  ],
};

describe('every rule takes any value', () => {
  const specs = [...stepNames('transform'), ...stepNames('clean')].flatMap((name) =>
    (OPTIONS[name] ?? [undefined]).map((options) => [name, options] as const),
  );

  it.each(specs)('%s %j never throws and returns a value with coded findings', (name, options) => {
    const definition = findStep(name);
    if (!definition) throw new Error(`no step ${name}`);
    const parsed = definition.options ? definition.options.parse(options) : undefined;
    const run = definition.create(parsed);
    const input = definition.takes === 'many' ? fc.array(anyValue, { maxLength: 4 }) : anyValue;
    fc.assert(
      fc.property(input, (value) => {
        const result = run(value, { get: () => 'US' });
        expect(result).toHaveProperty('value');
        for (const issue of result.issues ?? []) expect(['invalid', 'fixed', 'flag']).toContain(issue.kind);
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('takes a 10 MB cell', () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    for (const name of ['trim', 'email', 'phone', 'person_name', 'name.last', 'date']) {
      const definition = findStep(name);
      expect(() => definition?.create(definition.options?.parse(OPTIONS[name]?.[0])).call(null, big)).not.toThrow();
    }
  });
});

describe('a run over 10,000 fuzzed rows', () => {
  let tmp: ReturnType<typeof tempDir>;
  let target: TestPostgres;
  beforeAll(async () => {
    tmp = tempDir();
    target = await createPostgresDatabase();
  });
  afterAll(async () => {
    await target?.drop();
    tmp?.remove();
  });

  it('ends with every row written or quarantined with a reason, and what was written verifies', async () => {
    const ROWS = 10_000;
    const columns = ['t', 'v', 'i', 'b', 's', 'd', 'f', 'o', 'dt', 'ts', 'j', 'u'];
    const rows = fc.sample(fc.array(nastyText, { minLength: columns.length, maxLength: columns.length }), {
      numRuns: ROWS,
      seed: 7,
    });
    // One 10 MB cell that fits (text) and one that does not (varchar(20)).
    rows[0] = rows[0]?.map((v, i) => (i === 0 ? 'y'.repeat(10 * 1024 * 1024) : v)) ?? [];
    rows[1] = rows[1]?.map((v, i) => (i === 1 ? 'z'.repeat(10 * 1024 * 1024) : v)) ?? [];
    const db = new Database(path.join(tmp.dir, 'fuzz.db'));
    db.exec(`CREATE TABLE legacy (id INTEGER PRIMARY KEY, ${columns.map((c) => `${c} TEXT`).join(', ')})`);
    const insert = db.prepare(`INSERT INTO legacy VALUES (?, ${columns.map(() => '?').join(', ')})`);
    db.transaction(() => rows.forEach((r, i) => insert.run(i + 1, ...r)))();
    db.close();
    await target.query(`CREATE TABLE fuzzed (id integer PRIMARY KEY, t text, v varchar(20), i integer, b bigint, s smallint, d numeric, f double precision,
      o boolean, dt date, ts timestamptz, j jsonb, u uuid, e text, p text, n text)`);
    const text = `version: 1
source: sqlite:./fuzz.db
target: ${target.url}
batch_size: 700
entities:
  legacy:
    from: legacy
    into: fuzzed
    key: id
    fields:
      id: id
      t: t
      v: { from: v, clean: [trim, nfc] }
      i: { from: i, transform: { cast: integer }, invalid: null }
      b: { from: b, transform: { cast: bigint }, invalid: null }
      s: { from: s, transform: { cast: smallint }, invalid: null }
      d: { from: d, transform: { cast: decimal }, invalid: null }
      f: { from: f, transform: { cast: float }, invalid: keep }
      o: { from: o, transform: { cast: boolean }, invalid: null }
      dt: { from: dt, clean: { date: { order: dmy } }, invalid: null }
      ts: { from: ts, transform: { cast: timestamp }, invalid: null }
      j: { from: j, transform: { cast: json }, invalid: null }
      u: { from: u, transform: { cast: uuid }, invalid: null }
      e: { from: t, clean: email, invalid: null }
      p: { from: v, clean: { phone: { country: US } }, invalid: null }
      n: { from: t, transform: name.last }
`;
    writeFileSync(path.join(tmp.dir, 'plan.yaml'), text);
    const plan = parsePlan(text, path.join(tmp.dir, 'plan.yaml'));
    const summary = await runPlan(plan);
    const c = summary.entities.legacy;
    expect(c.read).toBe(ROWS);
    expect(c.written + c.quarantined).toBe(ROWS);
    expect(c.quarantined).toBeGreaterThan(0);
    expect(c.written).toBeGreaterThan(0);
    const [landed] = await target.query<{ n: number }>('SELECT count(*)::int AS n FROM fuzzed');
    expect(landed?.n).toBe(c.written);
    const quarantine = await target.query<{ reasons: unknown[] }>('SELECT reasons FROM _crm_migrate.quarantine');
    expect(quarantine.length).toBe(c.quarantined);
    for (const q of quarantine) expect(q.reasons.length).toBeGreaterThan(0);
    const codes = new Set(summary.reasons.map((r) => `${r.field}/${r.code}`));
    for (const expected of ['t/nul_character', 'v/too_long', 'f/type_mismatch']) expect(codes).toContain(expected);
    const verified = await verifyPlan(plan, { limit: 5 });
    expect(verified.entities[0]?.differences).toEqual([]);
  }, 180_000);
});

describe('malformed plans', () => {
  const yamlish = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.anything({ maxDepth: 4 }).map((v) => String(stringify(v) ?? '')),
    fc
      .record(
        {
          version: fc.anything(),
          source: fc.anything(),
          target: fc.anything(),
          entities: fc.dictionary(fc.string(), fc.anything({ maxDepth: 3 })),
        },
        { requiredKeys: [] },
      )
      .map((v) => stringify(v)),
    fc.constantFrom(
      'version: 1\nentities: [',
      'version: 1\nsource: sqlite:a\ntarget: sqlite:b\nentities:\n  a: { from: t, into: t, key: id, fields: { x: { from: [a, b] } } }\n',
      '&a [*a]',
      'a: &x\n  b: *x\n',
    ),
  );

  it('are refused with a PlanError, never another exception', () => {
    fc.assert(
      fc.property(yamlish, (text) => {
        try {
          parsePlan(text, 'fuzz.yaml', { env: {} });
        } catch (error) {
          expect(error).toBeInstanceOf(PlanError);
        }
      }),
      { numRuns: 1500, seed: 3 },
    );
  });

  it('end the CLI with exit code 2 and a message, never a stack trace', async () => {
    const tmp = tempDir();
    try {
      const samples = fc.sample(yamlish, { numRuns: 40, seed: 11 });
      for (const [i, text] of samples.entries()) {
        const file = path.join(tmp.dir, `p${i}.yaml`);
        writeFileSync(file, text);
        const io = captureIo();
        expect(await main(['plan', file], io)).toBe(2);
        const err = io.stderr.join('\n');
        expect(err).toMatch(/error/);
        expect(err).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
      }
    } finally {
      tmp.remove();
    }
  });
});
