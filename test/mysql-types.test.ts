import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { createMysqlDatabase, createPostgresDatabase, type TestMysql, type TestPostgres } from './helpers/databases.js';

// MySQL/MariaDB's own kinds of value, each handled on purpose: zero dates, TINYINT(1) and BIT(1) booleans,
// unsigned integers past the signed range, ENUM and SET, and utf8mb3 columns that cannot hold an emoji.
// One bad value costs its row (or only its field), never the table.

describe('MariaDB values', () => {
  let maria: TestMysql;
  let postgres: TestPostgres;

  beforeEach(async () => {
    [maria, postgres] = await Promise.all([createMysqlDatabase(), createPostgresDatabase()]);
  });
  afterEach(async () => {
    await Promise.all([maria.drop(), postgres.drop()]);
  });

  it('reads zero dates, booleans, unsigned integers, ENUM and SET into PostgreSQL without losing a row', async () => {
    await maria.query(`CREATE TABLE legacy (id INT UNSIGNED PRIMARY KEY, active TINYINT(1), flag BIT(1), big BIGINT UNSIGNED, small SMALLINT UNSIGNED,
      created DATE, updated DATETIME, status ENUM('A','I','L'), tags SET('vip','new','churn'), name VARCHAR(40) CHARACTER SET utf8mb3) CHARACTER SET utf8mb4`);
    // A legacy server's lax mode: zero dates were allowed when these rows were written.
    await maria.query("SET SESSION sql_mode = 'ANSI_QUOTES'");
    await maria.query(`INSERT INTO legacy VALUES
      (4294967295, 1, b'1', 18446744073709551615, 65535, '2020-02-29', '2020-02-29 13:45:00', 'A', 'vip,new', 'Zoë'),
      (2, 0, b'0', 0, 0, '0000-00-00', '0000-00-00 00:00:00', 'I', '', 'Ann'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (4, 1, b'1', 1, 1, '2021-13-01', '2021-01-01 00:00:00', 'L', 'churn', 'Bo')`);
    const plan = `version: 1
source: ${maria.url}
target: ${postgres.url}
entities:
  legacy:
    from: legacy
    into: people
    key: id
    fields:
      id: id
      active: active
      flag: flag
      big: big
      small: small
      created: { from: created, clean: date, invalid: null }
      updated: { from: updated, transform: { cast: timestamp }, invalid: null }
      status: { from: status, clean: { picklist: { A: active, I: inactive, L: lead } } }
      tags: tags
      name: name
`;
    const summary = await runPlan(parsePlan(plan, 'plan.yaml'));
    expect(summary.entities.legacy).toMatchObject({ read: 4, written: 4, quarantined: 0 });
    const rows = await postgres.query(
      'SELECT id, active, flag, big::text AS big, small, created::text AS created, updated::text AS updated, status, tags, name FROM people ORDER BY id',
    );
    expect(rows).toEqual([
      {
        id: '2',
        active: false,
        flag: false,
        big: '0',
        small: 0,
        created: null,
        updated: null,
        status: 'inactive',
        tags: '',
        name: 'Ann',
      },
      {
        id: '3',
        active: null,
        flag: null,
        big: null,
        small: null,
        created: null,
        updated: null,
        status: null,
        tags: null,
        name: null,
      },
      {
        id: '4',
        active: true,
        flag: true,
        big: '1',
        small: 1,
        created: null,
        updated: '2021-01-01 00:00:00+00',
        status: 'lead',
        tags: 'churn',
        name: 'Bo',
      },
      {
        id: '4294967295',
        active: true,
        flag: true,
        big: '18446744073709551615',
        small: 65535,
        created: '2020-02-29',
        updated: '2020-02-29 13:45:00+00',
        status: 'active',
        tags: 'vip,new',
        name: 'Zoë',
      },
    ]);
    // The zero dates (and the impossible 2021-13-01) were nulled and counted, by rule and code.
    expect(summary.quality.legacy?.created).toMatchObject({ checked: 4, nulled: 2 });
    expect(summary.quality.legacy?.updated).toMatchObject({ nulled: 1 });
  });

  it('quarantines an emoji bound for a utf8mb3 column, and writes every other row', async () => {
    await postgres.query('CREATE TABLE contacts (id int PRIMARY KEY, name text, note text)');
    await postgres.query(
      "INSERT INTO contacts VALUES (1, 'Ann', 'plain'), (2, 'Bo 😀', 'smile'), (3, 'Cy', '😀 in utf8mb4 is fine')",
    );
    await maria.query(
      'CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40) CHARACTER SET utf8mb3, note VARCHAR(40) CHARACTER SET utf8mb4)',
    );
    const plan = `version: 1\nsource: ${postgres.url}\ntarget: ${maria.url}\nentities:\n  contacts:\n    from: contacts\n    into: people\n    key: id\n    fields: { id: id, name: name, note: note }\n`;
    const summary = await runPlan(parsePlan(plan, 'plan.yaml'));
    expect(summary.entities.contacts).toMatchObject({ read: 3, written: 2, quarantined: 1 });
    expect(summary.reasons.map((r) => [r.field, r.code, r.sampleKeys])).toEqual([['name', 'not_representable', ['2']]]);
    expect(await maria.query('SELECT id, name, note FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'Ann', note: 'plain' },
      { id: 3, name: 'Cy', note: '😀 in utf8mb4 is fine' },
    ]);
  });
});
