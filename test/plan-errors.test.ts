import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSource, openTarget } from '../src/connectors/index.js';
import { formatPlanIssue, PlanError } from '../src/errors.js';
import { parsePlan } from '../src/plan/load.js';

const VALID = `version: 1
source: sqlite:./old.db
target: sqlite:./new.db
entities:
  customers:
    from: old_crm_customers
    into: new_crm_customers
    key: id
    fields:
      id: id
      first_name: { from: name, transform: name.first }
      email: { from: email, clean: email, invalid: quarantine }
`;

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parsePlan(text, 'plan.yaml', { env });
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).issues.map(formatPlanIssue);
  }
  throw new Error('the plan was accepted');
}

describe('plan errors', () => {
  it('accepts the core forms', () => {
    const plan = parsePlan(VALID, 'dir/my-plan.yaml', {});
    expect(plan.name).toBe('my-plan');
    expect(plan.entities[0]?.fields.map((f) => f.target)).toEqual(['id', 'first_name', 'email']);
    expect(plan.entities[0]?.key).toEqual(['id']);
    expect(plan.entities[0]?.workers).toBe('auto');
    const entityWorkers = parsePlan(VALID.replace('    key: id\n', '    key: id\n    workers: 0\n'), 'p.yaml', {});
    expect(entityWorkers.entities[0]?.workers).toBe(0);
    expect(parsePlan(`${VALID}workers: 3\n`, 'p.yaml', {}).entities[0]?.workers).toBe(3);
  });

  // [what, replace this, with this, expected message fragments]
  const CASES: [string, string, string, string[]][] = [
    [
      'misspelt entity key',
      '    into: new',
      '    inot: new',
      ['plan.yaml:7:5', 'entities.customers.inot', 'unknown key "inot"', 'did you mean "into"?'],
    ],
    [
      'misspelt field key',
      'clean: email,',
      'claen: email,',
      ['plan.yaml:12:29', 'unknown key "claen"', 'did you mean "clean"?'],
    ],
    [
      'misspelt root key',
      'target: sqlite',
      'traget: sqlite',
      ['plan.yaml:3:1', 'unknown key "traget"', 'did you mean "target"?'],
    ],
    [
      'unknown transform',
      'name.first',
      'name.frist',
      ['plan.yaml:11:44', 'unknown transform "name.frist"', 'did you mean "name.first"?'],
    ],
    [
      'unknown clean rule',
      'clean: email',
      'clean: emial',
      ['plan.yaml:12:36', 'unknown clean "emial"', 'did you mean "email"?'],
    ],
    [
      'clean rule used as transform',
      'transform: name.first',
      'transform: trim',
      ['"trim" is a clean step: put it under clean:'],
    ],
    [
      'bad policy',
      'invalid: quarantine',
      'invalid: qurantine',
      ['plan.yaml:12:52', 'must be one of', 'did you mean "quarantine"?'],
    ],
    ['missing key', '    key: id\n', '', ['entities.customers.key', 'missing required key "key"']],
    ['bad version', 'version: 1', 'version: 2', ['plan.yaml:1:10', 'version']],
    [
      'from and value together',
      '      id: id',
      '      id: { from: id, value: 3 }',
      ['plan.yaml:10:7', 'exactly one of "from"'],
    ],
    [
      'several columns without a combiner',
      'first_name: { from: name,',
      'first_name: { from: [a, b],',
      ['several source columns need a first transform', 'join'],
    ],
    ['bad join options', 'transform: name.first', 'transform: { join: 3 }', ['bad options for transform "join"']],
    ['bad YAML', 'fields:', 'fields: [', ['plan.yaml:', 'YAML:']],
    [
      'invalid: default without default',
      'invalid: quarantine',
      'invalid: default',
      ['invalid: default needs a default value'],
    ],
    [
      'unknown type',
      '      id: id',
      '      id: { from: id, type: integr }',
      ['unknown type "integr"', 'did you mean "integer"?'],
    ],
    // Names of Object.prototype's members are no types (a type table looked up as an object literal found them).
    [
      'type named as an object member',
      '      id: id',
      '      id: { from: id, type: constructor }',
      ['unknown type "constructor"'],
    ],
    ['type named __proto__', '      id: id', '      id: { from: id, type: __proto__ }', ['unknown type "__proto__"']],
    [
      'bad workers value',
      'target: sqlite:./new.db',
      'target: sqlite:./new.db\nworkers: many',
      ['plan.yaml:4:10', 'workers'],
    ],
    ['negative entity workers', '    key: id\n', '    key: id\n    workers: -1\n', ['entities.customers.workers']],
    [
      'unset environment variable',
      'target: sqlite:./new.db',
      'target: postgres://u:${env:NO_SUCH_SECRET}@h/db',
      ['plan.yaml:3:9', 'environment variable NO_SUCH_SECRET is not set'],
    ],
    [
      'incremental without a cursor',
      '    key: id\n',
      '    key: id\n    strategy: incremental\n',
      ['plan.yaml:9:15', 'an incremental entity needs a cursor column', 'add cursor:'],
    ],
    [
      'misspelt strategy',
      '    key: id\n',
      '    key: id\n    strategy: incremntal\n',
      ['must be one of', 'did you mean "incremental"?'],
    ],
    [
      'cursor on a full load',
      '    key: id\n',
      '    key: id\n    cursor: updated_at\n',
      ['plan.yaml:9:13', '"cursor" applies only to an incremental entity', 'add strategy: incremental'],
    ],
    [
      'deletes on a full load',
      '    key: id\n',
      '    key: id\n    deletes: hard\n',
      ['"deletes" applies only to an incremental entity'],
    ],
    [
      'lookback that is no duration',
      '    key: id\n',
      '    key: id\n    strategy: incremental\n    cursor: updated_at\n    lookback: soon\n',
      ['plan.yaml:11:15', '"soon" is not a duration', '30s, 5m'],
    ],
    [
      'tombstone without soft deletes',
      '    key: id\n',
      '    key: id\n    strategy: incremental\n    cursor: u\n    deletes: hard\n    tombstone: gone\n',
      ['"tombstone" names the column soft deletes set', 'deletes: soft'],
    ],
    [
      'misspelt database kind of the source',
      'source: sqlite:./old.db',
      'source: postgress://crm@db/crm',
      ['plan.yaml:2:9', 'unknown database kind "postgress:"', 'did you mean "postgres"?'],
    ],
    [
      'misspelt database kind of the target',
      'target: sqlite:./new.db',
      'target: sqllite:./new.db',
      ['plan.yaml:3:9', 'unknown database kind "sqllite:"', 'did you mean "sqlite"?'],
    ],
    [
      'a target that is no URL',
      'target: sqlite:./new.db',
      'target: ./new.db',
      ['plan.yaml:3:9', 'not a connection URL', 'use one of: sqlite:…'],
    ],
    [
      'misspelt database kind among several targets',
      'target: sqlite:./new.db',
      'targets:\n  crm: sqlite:./new.db\n  warehouse: mysqll://root@db/dw',
      ['plan.yaml:5:14', 'unknown database kind "mysqll:"', 'did you mean "mysql"?'],
    ],
  ];

  it('reads the incremental keys, with soft deletes tombstoning deleted_at unless told otherwise', () => {
    const entity = parsePlan(
      VALID.replace(
        '    key: id\n',
        '    key: id\n    strategy: incremental\n    cursor: updated_at\n    lookback: 5m\n    deletes: soft\n',
      ),
      'p.yaml',
      {},
    ).entities[0];
    expect(entity).toMatchObject({
      strategy: 'incremental',
      cursor: 'updated_at',
      lookback: { ms: 300_000 },
      deletes: 'soft',
      tombstone: 'deleted_at',
    });
    expect(
      parsePlan(
        VALID.replace(
          '    key: id\n',
          '    key: id\n    strategy: incremental\n    cursor: version\n    lookback: 100\n',
        ),
        'p.yaml',
        {},
      ).entities[0]?.lookback,
    ).toEqual({ units: 100 });
  });

  it('keeps the plan hash through tuning (batch size, threads, lookback, deletes) and changes it with the mapping', () => {
    const incremental = VALID.replace(
      '    key: id\n',
      '    key: id\n    strategy: incremental\n    cursor: updated_at\n',
    );
    const hash = parsePlan(incremental, 'p.yaml', {}).hash;
    const tuned = incremental.replace(
      '    cursor: updated_at\n',
      '    cursor: updated_at\n    lookback: 1h\n    deletes: hard\n    batch_size: 10\n    workers: 0\n',
    );
    expect(parsePlan(tuned, 'p.yaml', {}).hash).toBe(hash);
    expect(parsePlan(incremental.replace('transform: name.first', 'transform: name.last'), 'p.yaml', {}).hash).not.toBe(
      hash,
    );
    expect(parsePlan(incremental.replace('cursor: updated_at', 'cursor: modified'), 'p.yaml', {}).hash).not.toBe(hash);
  });

  it('names the database kind meant when a URL given outside a plan names none', async () => {
    await expect(openSource('postgress://root@db/crm', { baseDir: '.' })).rejects.toMatchObject({
      code: 'E_PLAN',
      message: 'unknown database kind "postgress:"',
      hint: 'did you mean "postgres"?',
    });
    await expect(openTarget('crm.db', { baseDir: '.' })).rejects.toMatchObject({
      message: 'not a connection URL',
      hint: expect.stringContaining('use one of: sqlite:…'),
    });
  });

  it('gives a URL whose variable is not set one error, not a second for its kind', () => {
    const issues = issuesOf(VALID.replace('source: sqlite:./old.db', 'source: ${env:NOT_SET_HERE}'));
    expect(issues).toEqual([
      expect.stringContaining('plan.yaml:2:9: error: source: environment variable NOT_SET_HERE is not set'),
    ]);
  });

  it.each(CASES)('%s', (_what, from, to, expected) => {
    expect(VALID.includes(from)).toBe(true);
    const text = issuesOf(VALID.replace(from, to)).join('\n');
    for (const fragment of expected) expect(text).toContain(fragment);
  });

  it('treats invalid: null (YAML null) and invalid: "null" as the same policy', () => {
    const bare = parsePlan(VALID.replace('invalid: quarantine', 'invalid: null'), 'p.yaml', {});
    const quoted = parsePlan(VALID.replace('invalid: quarantine', 'invalid: "null"'), 'p.yaml', {});
    expect(bare.entities[0]?.fields[2]?.invalid).toBe('null');
    expect(quoted.entities[0]?.fields[2]?.invalid).toBe('null');
  });

  it('resolves ${env:NAME} and never puts the secret in the plan hash', () => {
    const text = VALID.replace('target: sqlite:./new.db', 'target: postgres://u:${env:PW}@h/db');
    const a = parsePlan(text, 'p.yaml', { env: { PW: 's3cret-one' } });
    const b = parsePlan(text, 'p.yaml', { env: { PW: 's3cret-two' } });
    expect(a.target).toBe('postgres://u:s3cret-one@h/db');
    expect(a.hash).toBe(b.hash);
  });

  it("reads ${file:PATH} from the plan's folder, and names an unreadable file without its content", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crm-secret-'));
    try {
      writeFileSync(path.join(dir, 'pw.txt'), 'from-a-file\n');
      const text = VALID.replace('target: sqlite:./new.db', 'target: postgres://u:${file:pw.txt}@h/db');
      expect(parsePlan(text, path.join(dir, 'plan.yaml')).target).toBe('postgres://u:from-a-file@h/db');
      const missing = issuesOf(text.replace('pw.txt', 'nope.txt')).join('\n');
      expect(missing).toContain('plan.yaml:3:9: error: target: cannot read secret file nope.txt: no such file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a password written in a URL, unless told to allow it', () => {
    const text = VALID.replace('target: sqlite:./new.db', 'target: postgres://crm:hunter2@db.internal/crm');
    const refused = issuesOf(text).join('\n');
    expect(refused).toContain('plan.yaml:3:9: error: target: the target URL holds a password in plain text');
    expect(refused).toContain('${env:NAME} or ${file:PATH}, or pass --allow-plaintext-secrets');
    expect(refused).not.toContain('hunter2');
    expect(parsePlan(text, 'p.yaml', { allowPlaintextSecrets: true }).target).toBe(
      'postgres://crm:hunter2@db.internal/crm',
    );
    // A password that is all references is fine; one with literal text around a reference is not.
    expect(() =>
      parsePlan(VALID.replace('target: sqlite:./new.db', 'target: postgres://crm:${env:A}${env:B}@h/db'), 'p.yaml', {
        env: { A: '1', B: '2' },
      }),
    ).not.toThrow();
    expect(
      issuesOf(VALID.replace('target: sqlite:./new.db', 'target: postgres://crm:x${env:A}@h/db'), { A: '1' }).join(
        '\n',
      ),
    ).toContain('password in plain text');
  });

  it('never echoes the value of a secret in an error', () => {
    const text = VALID.replace('target: sqlite:./new.db', 'target: ${env:PW}').replace('version: 1', 'version: 9');
    expect(issuesOf(text, { PW: 'hunter2' }).join('\n')).not.toContain('hunter2');
  });

  it('refuses a billion-laughs plan as a YAML error at its first alias, without expanding it', () => {
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (const [prev, next] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
      ['f', 'g'],
    ])
      levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    const text = `${VALID}laughs:\n${levels.map((l) => `  ${l}`).join('\n')}\n`;
    const line = VALID.split('\n').length + 2; // the line of b:, the first alias
    expect(issuesOf(text)).toEqual([
      `plan.yaml:${line}:10: error: YAML: the aliases (*name) expand to too much data: a plan needs few of them`,
    ]);
  });

  it('reports every error at once', () => {
    const text = VALID.replace('into: new', 'inot: new').replace('name.first', 'name.frist');
    expect(issuesOf(text).length).toBeGreaterThanOrEqual(2);
  });
});
