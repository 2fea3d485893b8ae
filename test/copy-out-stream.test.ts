import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSource } from '../src/connectors/index.js';
import type { Source } from '../src/connectors/contract.js';
import type { Row } from '../src/values.js';
import { scratchDatabase, type ScratchDatabase } from './helpers/sql-databases.js';

// src/connectors/postgres/copy-out-stream.ts parses COPY out's messages itself, inside the socket's chunks:
// rows cut anywhere by a chunk's end, rows longer than a chunk, messages PostgreSQL slips in between rows,
// and an error half-way must all come out as they do from PostgreSQL, row for row.

/** Every row of `table`, read through the PostgreSQL source as a load reads it. */
async function readAll(source: Source, table: string, columns: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const batch of source.read({ table, columns, key: ['id'], batchSize: 500 })) rows.push(...batch);
  return rows;
}

describe('reading COPY out', () => {
  let db: ScratchDatabase;
  let source: Source;
  beforeEach(async () => {
    db = await scratchDatabase('postgres');
    source = await openSource(db.url, { baseDir: '.' });
  });
  afterEach(async () => {
    await source.close();
    await db.drop();
  });

  it('gives back every row as stored: cut by chunks anywhere, longer than a chunk, escaped, NULL', async () => {
    await db.run('CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)');
    // 20,000 short rows of varying length (every offset against a chunk's end), then rows of 200 KB to
    // 1 MB of multi-byte text, then escapes and NULLs.
    await db.run("INSERT INTO notes SELECT n, repeat('ä', n % 37) || 'x' || n FROM generate_series(1, 20000) n");
    await db.run(
      "INSERT INTO notes SELECT 20000 + n, repeat('€ß', 100000 * n) || '|' || n FROM generate_series(1, 5) n",
    );
    await db.run(
      "INSERT INTO notes VALUES (30001, E'tab\\there\\nnewline \\\\ backslash \\\\N'), (30002, NULL), (30003, '')",
    );
    const expected = [
      ...Array.from({ length: 20000 }, (_v, i) => [i + 1, `${'ä'.repeat((i + 1) % 37)}x${i + 1}`]),
      ...Array.from({ length: 5 }, (_v, i) => [20001 + i, `${'€ß'.repeat(100000 * (i + 1))}|${i + 1}`]),
      [30001, 'tab\there\nnewline \\ backslash \\N'],
      [30002, null],
      [30003, ''],
    ];
    const rows = await readAll(source, 'notes', ['id', 'body']);
    expect(rows.length).toBe(expected.length);
    // Compared row by row: one diff of 3 MB strings would say nothing.
    rows.forEach((row, i) => expect(row, `row ${i}`).toEqual(expected[i]));
  });

  it('skips the notices PostgreSQL sends between rows', async () => {
    await db.run('CREATE TABLE t (id INT PRIMARY KEY, name TEXT)');
    await db.run("INSERT INTO t SELECT n, 'name ' || n FROM generate_series(1, 3000) n");
    // A view whose every 7th row raises a NOTICE: NoticeResponse messages among the CopyData ones.
    await db.run(`CREATE FUNCTION noisy(n INT) RETURNS INT LANGUAGE plpgsql AS $$
      BEGIN IF n % 7 = 0 THEN RAISE NOTICE 'row %', n; END IF; RETURN n; END $$`);
    await db.run('CREATE VIEW loud AS SELECT noisy(id) AS id, name FROM t');
    const rows = await readAll(source, 'loud', ['id', 'name']);
    expect(rows).toEqual(Array.from({ length: 3000 }, (_v, i) => [i + 1, `name ${i + 1}`]));
  });

  it('fails with the error PostgreSQL sends half-way, and the source reads on afterwards', async () => {
    await db.run('CREATE TABLE t (id INT PRIMARY KEY, name TEXT)');
    await db.run("INSERT INTO t SELECT n, 'name ' || n FROM generate_series(1, 50000) n");
    await db.run('CREATE VIEW broken AS SELECT id, (100 / (id - 40000))::text AS name FROM t');
    await expect(readAll(source, 'broken', ['id', 'name'])).rejects.toMatchObject({
      code: 'E_SOURCE',
      message: expect.stringContaining('division by zero') as unknown,
    });
    expect((await readAll(source, 't', ['id', 'name'])).length).toBe(50000);
  });
});
