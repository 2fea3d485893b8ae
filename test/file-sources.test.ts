import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../src/connectors/index.js';
import { compareValues } from '../src/key-order.js';
import type { Row } from '../src/values.js';
import { tempDir } from './helpers/databases.js';

// Exports as the old CRM: a folder of CSV or JSON Lines files, one per table. Files have no order, so reads
// sort by key on disk; their dirt (bad quoting, duplicate keys, odd encodings) is refused with where, not what.

const readAll = async (url: string, baseDir: string, table: string, columns: string[], key: string[], after?: Row) => {
  const source = await openSource(url, { baseDir });
  try {
    const rows: Row[] = [];
    for await (const batch of source.read({ table, columns, key, after, batchSize: 7000 })) rows.push(...batch);
    return rows;
  } finally {
    await source.close();
  }
};

describe('CSV and JSONL sources', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp?.remove());

  it('reads a file larger than one sort run in key order, and resumes after a key', async () => {
    const n = 120_000;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n));
    writeFileSync(
      path.join(tmp.dir, 'big.csv'),
      `id;name\n${order.map((i) => `k${String(i).padStart(6, '0')};"Name ""${i}"", Jr."`).join('\n')}\n`,
    );
    const rows = await readAll('csv:.?delimiter=;', tmp.dir, 'big', ['id', 'name'], ['id']);
    expect(rows.length).toBe(n);
    for (let i = 1; i < rows.length; i++)
      expect(compareValues(rows[i - 1]?.[0] ?? null, rows[i]?.[0] ?? null)).toBeLessThan(0);
    expect(rows[42]).toEqual(['k000042', 'Name "42", Jr.']);
    const after = await readAll('csv:.?delimiter=;', tmp.dir, 'big', ['id'], ['id'], ['k119990']);
    expect(after.map((r) => r[0])).toEqual(Array.from({ length: 9 }, (_, i) => `k1199${91 + i}`));
  });

  it('reads latin-1, a UTF-8 BOM and other delimiters, and refuses broken files saying where, never what', async () => {
    writeFileSync(path.join(tmp.dir, 'latin.csv'), Buffer.from('id|name\n1|Müller\n2|\n', 'latin1'));
    expect(await readAll('csv:.?delimiter=|&encoding=latin1', tmp.dir, 'latin', ['id', 'name'], ['id'])).toEqual([
      ['1', 'Müller'],
      ['2', null],
    ]);
    writeFileSync(
      path.join(tmp.dir, 'excel.csv'),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id;name\n1;Zoë\n', 'utf8')]),
    );
    expect(await readAll('csv:.?delimiter=;', tmp.dir, 'excel', ['id', 'name'], ['id'])).toEqual([['1', 'Zoë']]);
    writeFileSync(path.join(tmp.dir, 'broken.csv'), 'id,name\n1,"Secret "Value" here\n');
    await expect(readAll('csv:.', tmp.dir, 'broken', ['id', 'name'], ['id'])).rejects.toThrow(
      /broken\.csv is not valid CSV: .*line 2/,
    );
    await expect(readAll('csv:.', tmp.dir, 'broken', ['id', 'name'], ['id'])).rejects.not.toThrow(/Secret/);
    writeFileSync(path.join(tmp.dir, 'twice.csv'), 'id,name\n1,a\n2,b\n1,c\n');
    await expect(readAll('csv:.', tmp.dir, 'twice', ['id', 'name'], ['id'])).rejects.toThrow(
      /twice\.csv: the key is not unique \(key \["1"\] comes twice\)/,
    );
  });

  it('looks joined rows up by key, every row of a repeated key, and sees a file that changed', async () => {
    const file = path.join(tmp.dir, 'addresses.csv');
    writeFileSync(file, 'id,city,zip\n1,Oslo,0150\n2,Bergen,\n1,Oslo West,0160\n');
    const source = await openSource('csv:.', { baseDir: tmp.dir });
    try {
      expect(await source.lookup('addresses', 'id', ['1', 3, 2], ['city', 'zip'])).toEqual([
        ['1', 'Oslo', '0150'],
        ['1', 'Oslo West', '0160'],
        ['2', 'Bergen', null],
      ]);
      expect(await source.lookup('addresses', 'zip', ['0160'], ['id'])).toEqual([['0160', '1']]);
      writeFileSync(file, 'id,city,zip\n2,Bergen Sentrum,5003\n');
      utimesSync(file, new Date(), new Date(Date.now() + 5000));
      expect(await source.lookup('addresses', 'id', [1, 2], ['city'])).toEqual([['2', 'Bergen Sentrum']]);
    } finally {
      await source.close();
    }
  });

  it('reads JSON Lines with types from the values, nested objects as JSON, and a field only the last line has', async () => {
    writeFileSync(
      path.join(tmp.dir, 'events.jsonl'),
      [
        '{"id": 2, "kind": "login", "ok": true, "at": 1.5}',
        '',
        '{"id": 1, "kind": "buy", "meta": {"sku": "A1", "qty": 2}, "ok": false}',
        '{"id": 3, "kind": 7, "late": "yes"}',
      ].join('\n'),
    );
    const source = await openSource('jsonl:.', { baseDir: tmp.dir });
    const info = await source.describe('events');
    await source.close();
    expect(info?.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['kind', 'text'],
      ['ok', 'boolean'],
      ['at', 'float'],
      ['meta', 'json'],
      ['late', 'text'],
    ]);
    expect(await readAll('jsonl:.', tmp.dir, 'events', ['id', 'kind', 'ok', 'meta', 'late'], ['id'])).toEqual([
      [1, 'buy', false, '{"sku":"A1","qty":2}', null],
      [2, 'login', true, null, null],
      [3, '7', null, null, 'yes'],
    ]);
    writeFileSync(path.join(tmp.dir, 'bad.jsonl'), '{"id": 1}\n{"id": 2, "name": "Secret\n');
    await expect(readAll('jsonl:.', tmp.dir, 'bad', ['id'], ['id'])).rejects.toThrow(/bad\.jsonl line 2 is not JSON/);
  });
});
