import Database from 'better-sqlite3';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { PlanError } from '../src/errors.js';
import { parsePlan } from '../src/plan/load.js';
import { decryptValue, encryptValue, hashValue, keyBytes, maskValue } from '../src/protect/protect.js';
import { tempDir } from './helpers/databases.js';
import { captureIo } from './helpers/io.js';

const KEY = 'correct horse battery staple, a passphrase';

describe('protection primitives', () => {
  it.each([
    ['jane.doe@example.com', {}, 'j***@example.com'],
    ['+1 (415) 555-2671', {}, '+* (***) ***-2671'],
    ['4111 1111 1111 1234', {}, '**** **** **** 1234'],
    ['Zoë', {}, 'Z***'],
    ['', {}, ''],
    ['123', {}, '1***'],
    ['AB-12345', { keep_last: 2 }, '******45'],
    ['Jonathan', { keep_first: 1 }, 'J*******'],
    ['ab', { keep_first: 1, keep_last: 1 }, '**'],
    ['😀😀😀😀😀', { keep_last: 1 }, '****😀'],
  ] as const)('masks %j with %j as %j', (value, options, expected) => {
    expect(maskValue(value, options)).toBe(expected);
  });

  it('hashes with HMAC-SHA-256 under the key: the same value always the same, another key another hash', () => {
    const key = keyBytes(KEY);
    expect(hashValue(key, 'jane@example.com')).toBe(createHmac('sha256', key).update('jane@example.com').digest('hex'));
    expect(hashValue(key, 'jane@example.com')).toBe(hashValue(keyBytes(KEY), 'jane@example.com'));
    expect(hashValue(keyBytes('another key'), 'jane@example.com')).not.toBe(hashValue(key, 'jane@example.com'));
    expect(keyBytes('ab'.repeat(32))).toEqual(Buffer.from('ab'.repeat(32), 'hex'));
  });

  it('encrypts with AES-256-GCM: a fresh IV each time, decrypts only with the key and only untouched', () => {
    const key = keyBytes(KEY);
    const a = encryptValue(key, '078-05-1120 Ünïcødé');
    expect(a).toMatch(/^enc:v1:[A-Za-z0-9+/=]+$/);
    expect(encryptValue(key, '078-05-1120 Ünïcødé')).not.toBe(a);
    expect(decryptValue(key, a)).toBe('078-05-1120 Ünïcødé');
    expect(() => decryptValue(keyBytes('wrong'), a)).toThrow(/does not decrypt with this key/);
    const raw = Buffer.from(a.slice(7), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(() => decryptValue(key, `enc:v1:${raw.toString('base64')}`)).toThrow(/does not decrypt/);
  });
});

const plan = (workers: number, target = 'new.db') => `version: 1
name: protect-test
source: sqlite:./old.db
target: sqlite:./${target}
workers: ${workers}
keys:
  pii: \${env:TEST_PII_KEY}
entities:
  customers:
    from: customers
    into: people
    key: id
    fields:
      id: id
      first_name: { from: name, transform: name.first, pii: true }
      email_hash: { from: email, clean: email, protect: hash }
      phone: { from: phone, protect: mask }
      ssn: { from: ssn, protect: encrypt }
      notes: { from: notes, protect: drop }
      age: { from: age, transform: { cast: integer } }
`;

const PEOPLE = Array.from({ length: 300 }, (_, i) => ({
  id: i + 1,
  name: `Quinevere${i} Tallowmere${i}`,
  email: i === 7 ? 'Broken.Email.at.example.com' : `Q.Tallowmere${i}@Example.com`,
  phone: `+1 415 555 ${String(1000 + i)}`,
  ssn: `078-05-${String(1000 + i)}`,
  notes: `private note ${i} about Quinevere`,
  age: i === 8 ? 'forty' : String(20 + (i % 50)),
}));

describe('protect: in a real run', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
    process.env.TEST_PII_KEY = KEY;
    const db = new Database(path.join(tmp.dir, 'old.db'));
    db.exec(
      'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, ssn TEXT, notes TEXT, age TEXT)',
    );
    const insert = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const p of PEOPLE) insert.run(p.id, p.name, p.email, p.phone, p.ssn, p.notes, p.age);
    db.close();
  });
  afterEach(() => {
    delete process.env.TEST_PII_KEY;
    tmp.remove();
  });

  it("hashes, masks, encrypts and drops, keeps personal data out of the quarantine, and decrypts with the plan's key", async () => {
    writeFileSync(path.join(tmp.dir, 'plan.yaml'), plan(0));
    expect(await main(['run', path.join(tmp.dir, 'plan.yaml'), '--quiet'], captureIo())).toBe(0);
    const db = new Database(path.join(tmp.dir, 'new.db'), { readonly: true });
    const rows = db.prepare('SELECT * FROM people ORDER BY id').all() as Record<string, unknown>[];
    const quarantine = db
      .prepare('SELECT source_key, row_data FROM _crm_migrate_quarantine ORDER BY source_key')
      .all() as { source_key: string; row_data: string }[];
    db.close();
    expect(rows.length).toBe(298);
    const key = keyBytes(KEY);
    const first = rows[0];
    expect(first).toMatchObject({
      id: 1,
      first_name: 'Quinevere0',
      email_hash: hashValue(key, 'q.tallowmere0@example.com'),
      phone: '+* *** *** 1000',
      notes: null,
    });
    expect(decryptValue(key, String(first.ssn))).toBe('078-05-1000');
    // Rows 8 (bad email) and 9 (age) are quarantined; their personal data is kept masked, the rest as it was.
    expect(quarantine.map((q) => [q.source_key, JSON.parse(q.row_data)])).toEqual([
      [
        '8',
        { id: 8, name: 'Q***', email: 'B***', phone: '+* *** *** 1007', ssn: '***-**-1007', notes: 'p***', age: '27' },
      ],
      [
        '9',
        {
          id: 9,
          name: 'Q***',
          email: 'Q***@Example.com',
          phone: '+* *** *** 1008',
          ssn: '***-**-1008',
          notes: 'p***',
          age: 'forty',
        },
      ],
    ]);
    // No clear personal value anywhere in the target's files: not in the table, not in the state tables, not in the WAL.
    const bytes = ['new.db', 'new.db-wal']
      .map((f) => path.join(tmp.dir, f))
      .filter(existsSync)
      .map((f) => readFileSync(f).toString('latin1'))
      .join('');
    for (const p of PEOPLE)
      for (const v of [p.email, p.email.toLowerCase(), p.phone, p.ssn, p.notes, `Tallowmere${p.id - 1}`])
        expect(bytes.includes(v), v).toBe(false);

    const io = captureIo();
    expect(await main(['decrypt', path.join(tmp.dir, 'plan.yaml'), String(first.ssn), String(rows[1].ssn)], io)).toBe(
      0,
    );
    expect(io.stdout).toEqual(['078-05-1000', '078-05-1001']);
    // The plan preview masks them too, unless values are asked for.
    const preview = captureIo();
    await main(['plan', path.join(tmp.dir, 'plan.yaml'), '--sample', '1'], preview);
    expect(preview.stdout.join('\n')).toContain('name="Q***"');
    expect(preview.stdout.join('\n')).not.toContain('Tallowmere0');
    const shown = captureIo();
    await main(['plan', path.join(tmp.dir, 'plan.yaml'), '--sample', '1', '--show-values'], shown);
    expect(shown.stdout.join('\n')).toContain('Tallowmere0');
  });

  it('gives the same protected values on mapping threads', async () => {
    writeFileSync(path.join(tmp.dir, 'a.yaml'), plan(0, 'a.db'));
    writeFileSync(path.join(tmp.dir, 'b.yaml'), plan(2, 'b.db'));
    for (const f of ['a.yaml', 'b.yaml'])
      expect(await main(['run', path.join(tmp.dir, f), '--quiet', '--no-report'], captureIo())).toBe(0);
    const read = (f: string) => {
      const db = new Database(path.join(tmp.dir, f), { readonly: true });
      const rows = (db.prepare('SELECT * FROM people ORDER BY id').all() as Record<string, unknown>[]).map((r) => ({
        ...r,
        ssn: decryptValue(keyBytes(KEY), String(r.ssn)),
      }));
      db.close();
      return rows;
    };
    expect(read('b.db')).toEqual(read('a.db'));
  });

  it.each([
    [
      'a key written in the plan',
      (t: string) => t.replace('${env:TEST_PII_KEY}', 'hunter2hunter2'),
      'key "pii" is written in the plan',
    ],
    [
      'hash without the key',
      (t: string) => t.replace('keys:\n  pii: ${env:TEST_PII_KEY}\n', ''),
      'protect: hash needs the key "pii"',
    ],
    [
      'a misspelt protection',
      (t: string) => t.replace('protect: mask', 'protect: mask2'),
      'unknown protection "mask2" (did you mean "mask"?)',
    ],
    [
      'a named key that is missing',
      (t: string) => t.replace('protect: encrypt', 'protect: { encrypt: archive }'),
      'protect: encrypt needs the key "archive"',
    ],
  ])('refuses %s', (_what, edit, message) => {
    let error: unknown;
    try {
      parsePlan(edit(plan(0)), 'plan.yaml', { env: { TEST_PII_KEY: KEY } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanError);
    expect((error as PlanError).message).toContain(message);
    expect((error as PlanError).message).not.toContain(KEY);
  });
});
