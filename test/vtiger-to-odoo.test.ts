import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan, type RunSummary } from '../src/engine/run.js';
import { loadPlan, type Plan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { listQuarantine } from '../src/engine/quarantine/quarantine.js';
import { dayOfChanges, seedVtiger } from '../examples/vtiger-to-odoo/generate.js';
import { createMysqlDatabase, createPostgresDatabase, type TestMysql, type TestPostgres } from './helpers/databases.js';

// examples/vtiger-to-odoo end to end, as its README runs it: a vtiger CRM 7 on MariaDB, read as it is (no view,
// nothing written), into Odoo 17's tables on PostgreSQL; a full load, a day of changes, an increment, verify.
// What should land is counted on the vtiger side with SQL of its own, not through the plan.

const EXAMPLE = path.resolve(import.meta.dirname, '../examples/vtiger-to-odoo');

describe('examples/vtiger-to-odoo: vtiger CRM 7 (MariaDB) into Odoo 17 (PostgreSQL)', () => {
  let vtiger: TestMysql;
  let odoo: TestPostgres;
  let plan: Plan;
  let first: RunSummary;
  const n = async (sql: string) => Number((await vtiger.query<{ n: number }>(sql))[0]?.n);
  const live = (setype: string) =>
    n(`SELECT COUNT(*) AS n FROM vtiger_crmentity WHERE setype = '${setype}' AND deleted = 0`);
  const accounted = (summary: RunSummary) =>
    Object.values(summary.entities).every((e) => e.read === e.written + e.merged + e.quarantined + e.filtered);

  /** Each live contact is in Odoo, its company its account if that account was migrated, else none. */
  const expectParents = async () => {
    const contacts = await vtiger.query<{ id: number; accountid: number | null; account_live: number | null }>(
      `SELECT e.crmid AS id, c.accountid, a.crmid AS account_live FROM vtiger_crmentity e JOIN vtiger_contactdetails c ON c.contactid = e.crmid
       LEFT JOIN vtiger_crmentity a ON a.crmid = c.accountid AND a.setype = 'Accounts' AND a.deleted = 0 WHERE e.setype = 'Contacts' AND e.deleted = 0`,
    );
    const parents = new Map(
      (
        await odoo.query<{ id: number; parent_id: number | null }>(
          'SELECT id, parent_id FROM res_partner WHERE NOT is_company AND id > 5',
        )
      ).map((p) => [p.id, p.parent_id]),
    );
    expect(parents.size).toBe(contacts.length);
    for (const c of contacts) expect(parents.get(c.id)).toBe(c.account_live === null ? null : c.accountid);
    return contacts;
  };

  beforeAll(async () => {
    [vtiger, odoo] = await Promise.all([createMysqlDatabase(), createPostgresDatabase()]);
    await odoo.query(readFileSync(path.join(EXAMPLE, 'odoo-schema.sql'), 'utf8'));
    await seedVtiger(vtiger.url, { accounts: 60 });
    plan = await loadPlan(path.join(EXAMPLE, 'plan.yaml'), {
      env: { ...process.env, VTIGER_SOURCE: vtiger.url, ODOO_TARGET: odoo.url },
    });
    first = await runPlan(plan);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([vtiger?.drop(), odoo?.drop()]);
  });

  it("loads each module's live records, and counts every other row of vtiger_crmentity as filtered", async () => {
    const all = await n('SELECT COUNT(*) AS n FROM vtiger_crmentity');
    expect(accounted(first)).toBe(true);
    expect(first.entities.companies).toMatchObject({ read: all, written: await live('Accounts'), quarantined: 0 });
    expect(first.entities.people).toMatchObject({ read: all, written: await live('Contacts'), quarantined: 0 });
    const deleted = await vtiger.query<{ crmid: number }>(
      "SELECT crmid FROM vtiger_crmentity WHERE deleted = 1 AND setype IN ('Accounts', 'Contacts')",
    );
    expect(deleted.length).toBeGreaterThan(0);
    const [leaked] = await odoo.query<{ n: string }>('SELECT COUNT(*) AS n FROM res_partner WHERE id = ANY($1)', [
      deleted.map((d) => d.crmid),
    ]);
    expect(Number(leaked?.n)).toBe(0);
    // Odoo's own partners are there as they were.
    expect(await odoo.query('SELECT id, name FROM res_partner WHERE id <= 5 ORDER BY id')).toEqual([
      { id: 1, name: 'My Company' },
      { id: 2, name: 'Ann Lee' },
      { id: 3, name: 'Raj Patel' },
      { id: 4, name: 'Eva Novak' },
      { id: 5, name: 'Tom Berg' },
    ]);
  });

  it('gives a contact its account only when that account was migrated', async () => {
    const contacts = await expectParents();
    // Contacts of a deleted account (and vtiger's 0 for none) are there, without a company, and counted.
    expect(contacts.some((c) => c.accountid !== null && c.account_live === null)).toBe(true);
    expect(first.quality.people?.parent_id?.nulled).toBe(
      contacts.filter((c) => c.accountid !== null && c.account_live === null).length,
    );
  });

  it('quarantines deals whose stage is outside the list or whose probability Odoo refuses, with the reason', async () => {
    const stray = await n(
      "SELECT COUNT(*) AS n FROM vtiger_crmentity e JOIN vtiger_potential p ON p.potentialid = e.crmid WHERE e.deleted = 0 AND p.sales_stage IN ('Closed-Won', 'Negotiaton')",
    );
    const over = await n(
      "SELECT COUNT(*) AS n FROM vtiger_crmentity e JOIN vtiger_potential p ON p.potentialid = e.crmid WHERE e.deleted = 0 AND p.probability > 100 AND p.sales_stage NOT IN ('Closed-Won', 'Negotiaton')",
    );
    const reason = (entity: string, field: string, code: string) =>
      first.reasons.find((r) => r.entity === entity && r.field === field && r.code === code)?.count ?? 0;
    expect(stray).toBeGreaterThan(0);
    expect(reason('leads', 'stage_id', 'unmapped_value')).toBe(stray);
    expect(reason('leads', 'crm_lead_check_probability', 'check_violation')).toBe(over);
    expect(first.entities.leads).toMatchObject({
      written: (await live('Potentials')) - stray - over,
      quarantined: stray + over,
    });
    const [lost] = await odoo.query<{ active: boolean; stage_id: number }>(
      'SELECT bool_or(active) AS active, min(stage_id) AS stage_id FROM crm_lead WHERE id IN (SELECT unnest($1::int[]))',
      [
        (
          await vtiger.query<{ id: number }>(
            "SELECT potentialid AS id FROM vtiger_potential WHERE sales_stage = 'Closed Lost'",
          )
        ).map((r) => r.id),
      ],
    );
    expect(lost).toEqual({ active: false, stage_id: 1 });
  });

  it('points each comment at its record through the crosswalk of its kind, and quarantines the rest with a reason', async () => {
    const comments = await vtiger.query<{
      id: number;
      related_to: number;
      setype: string | null;
      parent_deleted: number | null;
      userid: number;
    }>(
      `SELECT e.crmid AS id, m.related_to, p.setype, p.deleted AS parent_deleted, m.userid FROM vtiger_crmentity e JOIN vtiger_modcomments m ON m.modcommentsid = e.crmid
       LEFT JOIN vtiger_crmentity p ON p.crmid = m.related_to WHERE e.setype = 'ModComments' AND e.deleted = 0`,
    );
    const quarantined = new Set<number>();
    await listQuarantine(plan, { entity: 'messages', each: (q) => void quarantined.add(Number(q.sourceKey)) });
    const leads = new Set((await odoo.query<{ id: number }>('SELECT id FROM crm_lead')).map((l) => l.id));
    const messages = new Map(
      (
        await odoo.query<{ id: number; model: string; res_id: number; author_id: number | null; body: string }>(
          'SELECT id, model, res_id, author_id, body FROM mail_message',
        )
      ).map((m) => [m.id, m]),
    );
    expect(messages.size + quarantined.size).toBe(comments.length);
    const authors: Record<number, number | null> = { 1: 2, 5: 3, 6: 4, 7: 5, 8: null };
    for (const c of comments) {
      const migrated =
        c.parent_deleted === 0 &&
        (c.setype === 'Accounts' || c.setype === 'Contacts' || (c.setype === 'Potentials' && leads.has(c.related_to)));
      expect([c.id, quarantined.has(c.id)]).toEqual([c.id, !migrated]);
      if (!migrated) continue;
      expect(messages.get(c.id)).toMatchObject({
        model: c.setype === 'Potentials' ? 'crm.lead' : 'res.partner',
        res_id: c.related_to,
        author_id: authors[c.userid],
      });
    }
    expect(first.reasons.find((r) => r.entity === 'messages' && r.code === 'unknown_type')?.count).toBe(
      comments.filter((c) => c.setype === 'HelpDesk').length,
    );
    // Plain text into Odoo's HTML body: escaped, line breaks kept.
    expect([...messages.values()].map((m) => m.body)).toContain('<p>Sent the quote &amp; the terms &lt;draft&gt;.</p>');
  });

  it('after a day of changes, syncs new, edited, moved and deleted records, and verifies equal', async () => {
    expect((await verifyPlan(plan)).equal).toBe(true);
    await dayOfChanges(vtiger.url);
    const second = await runPlan(plan);
    expect(accounted(second)).toBe(true);
    expect(second.entities.people?.deleted).toBe(4);
    expect(second.entities.messages?.deleted).toBe(3);
    // Deals whose contact person got a new email: re-read through their joined cursor, the new email written.
    const personal = await vtiger.query<{ id: number; email: string }>(
      `SELECT p.potentialid AS id, c.email FROM vtiger_potential p JOIN vtiger_crmentity e ON e.crmid = p.potentialid AND e.deleted = 0
       JOIN vtiger_crmentity pe ON pe.crmid = p.contact_id AND pe.deleted = 0 JOIN vtiger_contactdetails c ON c.contactid = p.contact_id
       WHERE c.email LIKE 'new.%' AND p.sales_stage NOT IN ('Closed-Won', 'Negotiaton') AND p.probability <= 100`,
    );
    expect(personal.length).toBeGreaterThan(0);
    expect(second.resynced?.leads?.written).toBeGreaterThanOrEqual(personal.length);
    for (const d of personal)
      expect(
        (await odoo.query<{ email_from: string }>('SELECT email_from FROM crm_lead WHERE id = $1', [d.id]))[0]
          ?.email_from,
      ).toBe(d.email);
    const contacts = await live('Contacts');
    const [partners] = await odoo.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM res_partner WHERE NOT is_company AND id > 5',
    );
    expect(Number(partners?.n)).toBe(contacts);
    // The moved contacts among them: each one's company is its new account.
    const moved = await vtiger.query<{ id: number; accountid: number }>(
      "SELECT c.contactid AS id, c.accountid FROM vtiger_contactdetails c JOIN vtiger_crmentity e ON e.crmid = c.contactid JOIN vtiger_crmentity a ON a.crmid = c.accountid AND a.deleted = 0 WHERE e.modifiedby = 5 AND e.deleted = 0 AND e.setype = 'Contacts'",
    );
    expect(moved.length).toBeGreaterThan(0);
    await expectParents();
    const verified = await verifyPlan(plan);
    expect(verified.entities.map((e) => [e.entity, e.missing, e.extra, e.changed])).toEqual(
      Object.keys(second.entities).map((e) => [e, 0, 0, 0]),
    );
    expect(verified.equal).toBe(true);
    // The legacy side was only read: no view, no table of ours.
    expect(await n(`SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = '${vtiger.name}'`)).toBe(
      8,
    );
  }, 120_000);
});
