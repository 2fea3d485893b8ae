import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { PlanError } from '../src/errors.js';
import { newUuid } from '../src/mapping/identity.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// A legacy customer row holds email1, email2, email3; the new CRM has a person and one email row per address.
const PLAN = (source: string, target: string) => `version: 1
name: unpivot-test
source: "${source}"
target: "${target}"
batch_size: 4
entities:
  people:
    from: customers
    into: people
    key: id
    fields:
      id: { new_id: uuid }
      legacy_id: id
      name: name
  emails:
    from: customers
    unpivot: { columns: [email1, email2, email3], as: email, position: slot }
    into: emails
    key: [id, slot]
    fields:
      customer_id: id
      slot: slot
      person_id: { from: id, ref: people }
      email: { from: email, clean: email, invalid: quarantine }
`;

describe.each([
  ['sqlite', 'postgres'],
  ['postgres', 'mysql'],
] as const)('unpivot: several columns into rows, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run(
      'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email1 TEXT, email2 TEXT, email3 TEXT)',
    );
    const rows: unknown[][] = [];
    for (let id = 1; id <= 9; id++) {
      // Customer 3 has no address at all, 5 a blank second one, 7 a broken third one.
      rows.push([
        id,
        `P${id}`,
        id === 3 ? null : `p${id}@a.example.com`,
        id % 2 === 0 ? `P${id}@B.example.com ` : id === 5 ? '  ' : null,
        id === 7 ? 'not an email' : id % 3 === 0 && id !== 3 ? `x${id}@c.example.com` : null,
      ]);
    }
    await m.source.run(`INSERT INTO customers VALUES ${rows.map(() => '(?, ?, ?, ?, ?)').join(', ')}`, rows.flat());
  });
  afterEach(() => m.drop());

  it('writes one row per filled column, keyed by the row and the position, re-pointed to the person, and verifies', async () => {
    const text = PLAN(m.source.url, m.target.url);
    const controller = new AbortController();
    // Stopped after the first emails batch (4 rows: inside customer 2 or 3), then resumed.
    const first = await runPlan(parsePlan(text, 'plan.yaml'), {
      signal: controller.signal,
      onProgress: (p) => (p.entity === 'emails' && p.counts.read >= 4 ? controller.abort() : undefined),
    });
    expect(first.status).toBe('interrupted');
    const summary = await runPlan(parsePlan(text, 'plan.yaml'));
    expect(summary).toMatchObject({ status: 'done', resumed: true });
    // Filled: 8 first addresses, 4 second ones (even ids), 3 third ones (6, 9 and the broken one of 7).
    expect(summary.entities.emails).toMatchObject({ read: 15, written: 14, quarantined: 1 });
    expect(summary.reasons.map((r) => [r.entity, r.field, r.code, r.sampleKeys])).toEqual([
      ['emails', 'email', 'invalid_email', ['[7,3]']],
    ]);
    const emails = await m.target.rows<{ customer_id: number; slot: number; email: string; person_id: string }>(
      'SELECT customer_id, slot, email, person_id FROM emails ORDER BY customer_id, slot',
    );
    expect(emails.map((e) => [Number(e.customer_id), Number(e.slot), e.email])).toEqual([
      [1, 1, 'p1@a.example.com'],
      [2, 1, 'p2@a.example.com'],
      [2, 2, 'p2@b.example.com'],
      [4, 1, 'p4@a.example.com'],
      [4, 2, 'p4@b.example.com'],
      [5, 1, 'p5@a.example.com'],
      [6, 1, 'p6@a.example.com'],
      [6, 2, 'p6@b.example.com'],
      [6, 3, 'x6@c.example.com'],
      [7, 1, 'p7@a.example.com'],
      [8, 1, 'p8@a.example.com'],
      [8, 2, 'p8@b.example.com'],
      [9, 1, 'p9@a.example.com'],
      [9, 3, 'x9@c.example.com'],
    ]);
    expect(emails.every((e) => e.person_id === newUuid('people', String(e.customer_id)))).toBe(true);
    const verified = await verifyPlan(parsePlan(text, 'plan.yaml'));
    expect(verified.entities.map((e) => [e.entity, e.missing, e.extra, e.changed, e.stale])).toEqual([
      ['people', 0, 0, 0, 0],
      ['emails', 0, 0, 0, 0],
    ]);
  }, 60_000);

  it('refuses an unpivot whose key does not end with the position, at its line', () => {
    const bad = PLAN(m.source.url, m.target.url).replace('key: [id, slot]', 'key: id');
    expect(() => parsePlan(bad, 'plan.yaml')).toThrow(PlanError);
    try {
      parsePlan(bad, 'plan.yaml');
    } catch (e) {
      expect((e as PlanError).issues.map((i) => `${i.location?.line}: ${i.message} (${i.hint ?? ''})`)).toEqual([
        "19: an unpivoting entity is keyed by its table's key and the position (key: [id, slot])",
      ]);
    }
  });
});
