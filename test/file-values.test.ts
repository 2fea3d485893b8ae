import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSource } from '../src/connectors/index.js';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import type { Row } from '../src/values.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';

// An export file's values arrive as they are in the file, or their row is quarantined saying why: a big
// integer is not rounded, an undecodable byte is not turned into U+FFFD, a CRLF line keeps no CR.

const readAll = async (url: string, baseDir: string, table: string, columns: string[]): Promise<Row[]> => {
  const source = await openSource(url, { baseDir });
  try {
    const rows: Row[] = [];
    for await (const batch of source.read({ table, columns, key: ['id'], batchSize: 100 })) rows.push(...batch);
    return rows;
  } finally {
    await source.close();
  }
};

describe('values read from files', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.remove());

  it.each([
    ['an LF file with one CRLF line', 'id,name\n1,Ann\r\n2,Bo\n3,"Cy\r\nDe"\n'],
    ['a CRLF file with one LF line', 'id,name\r\n1,Ann\n2,Bo\r\n3,"Cy\r\nDe"\r\n'],
  ])('CSV: %s reads every row without a stray CR, and a quoted CRLF stays in its value', async (_name, text) => {
    writeFileSync(path.join(tmp.dir, 'people.csv'), text);
    expect(await readAll('csv:.', tmp.dir, 'people', ['id', 'name'])).toEqual([
      ['1', 'Ann'],
      ['2', 'Bo'],
      ['3', 'Cy\r\nDe'],
    ]);
  });

  it('JSONL: integers above 2^53 and long decimals keep every digit, nested ones too', async () => {
    const lines = [
      '{"id": 1, "n": 9007199254740993, "d": 0.12345678901234567890, "meta": {"big": 12345678901234567890}}',
      '{"id": 2, "n": 7, "d": 1.5, "meta": {"ok": true}}',
      '{"id": 3, "n": -9223372036854775808, "d": 12345678901234567.25}\r',
    ];
    writeFileSync(path.join(tmp.dir, 'events.jsonl'), lines.join('\n'));
    const source = await openSource('jsonl:.', { baseDir: tmp.dir });
    const info = await source.describe('events');
    await source.close();
    expect(info?.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['n', 'bigint'],
      ['d', 'decimal'],
      ['meta', 'json'],
    ]);
    expect(await readAll('jsonl:.', tmp.dir, 'events', ['id', 'n', 'd', 'meta'])).toEqual([
      [1, 9007199254740993n, '0.12345678901234567890', '{"big":12345678901234567890}'],
      [2, 7, 1.5, '{"ok":true}'],
      [3, -9223372036854775808n, '12345678901234567.25', null],
    ]);
  });

  it('keeps an invalid UTF-8 byte recognisable, in CSV and JSONL, instead of U+FFFD', async () => {
    writeFileSync(
      path.join(tmp.dir, 'people.csv'),
      Buffer.concat([Buffer.from('id,name\n1,M'), Buffer.from([0xfc]), Buffer.from('ller\n2,Zoë\n3,\uFFFD\n')]),
    );
    expect(await readAll('csv:.', tmp.dir, 'people', ['id', 'name'])).toEqual([
      ['1', 'M\uDCFCller'],
      ['2', 'Zoë'],
      ['3', '\uFFFD'],
    ]);
    writeFileSync(
      path.join(tmp.dir, 'people.jsonl'),
      Buffer.concat([
        Buffer.from('{"id": 1, "name": "M'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}\n{"id": 2, "name": "Zoë"}\n'),
      ]),
    );
    expect(await readAll('jsonl:.', tmp.dir, 'people', ['id', 'name'])).toEqual([
      [1, 'M\uDCC3('],
      [2, 'Zoë'],
    ]);
  });
});

describe('file values migrated into PostgreSQL', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: TestPostgres;
  beforeEach(async () => {
    tmp = tempDir();
    db = await createPostgresDatabase();
  });
  afterEach(async () => {
    tmp.remove();
    await db.drop();
  });

  it('quarantines the row with an undecodable byte as invalid_utf8 and writes big numbers exactly', async () => {
    writeFileSync(
      path.join(tmp.dir, 'people.csv'),
      Buffer.concat([
        Buffer.from('id,name,amount\r\n1,M'),
        Buffer.from([0xfc]),
        Buffer.from('ller,1\n2,Zoë,12345678901234567890.5\r\n'),
      ]),
    );
    writeFileSync(
      path.join(tmp.dir, 'events.jsonl'),
      '{"id": 1, "n": 9007199254740993}\n{"id": 2, "n": -9007199254740995}\n',
    );
    await db.query('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC(30, 2))');
    await db.query('CREATE TABLE events (id INTEGER PRIMARY KEY, n BIGINT)');
    const plan = (source: string, into: string, fields: string, from = into) =>
      `version: 1\nname: ${into}\nsource: "${source}"\ntarget: "${db.url}"\nentities:\n  ${into}:\n    from: ${from}\n    into: ${into}\n    key: id\n    fields:\n${fields}`;
    const csv = await runPlan(
      parsePlan(
        plan('csv:.', 'people', '      id: id\n      name: name\n      amount: amount\n'),
        path.join(tmp.dir, 'plan.yaml'),
      ),
    );
    expect(csv.entities.people).toMatchObject({ read: 2, written: 1, quarantined: 1 });
    expect(csv.reasons.map((r) => [r.field, r.code, r.sampleKeys])).toEqual([['name', 'invalid_utf8', ['1']]]);
    expect(await db.query('SELECT id, name, amount::text FROM people')).toEqual([
      { id: 2, name: 'Zoë', amount: '12345678901234567890.50' },
    ]);

    const jsonl = await runPlan(
      parsePlan(plan('jsonl:.', 'events', '      id: id\n      n: n\n'), path.join(tmp.dir, 'plan2.yaml')),
    );
    expect(jsonl.entities.events).toMatchObject({ read: 2, written: 2 });
    expect(await db.query('SELECT id, n::text FROM events ORDER BY id')).toEqual([
      { id: 1, n: '9007199254740993' },
      { id: 2, n: '-9007199254740995' },
    ]);
  });
});
