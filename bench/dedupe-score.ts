import Database from 'better-sqlite3';
import path from 'node:path';
import { withPlanTarget } from '../src/engine/connections.js';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import type { CrmPerson } from './crm-people.js';
import { FEBRL_FIELDS, readFebrl } from './febrl.js';

/** Pair precision, recall and F1: every two records in one cluster are a pair. */
export interface PairScore {
  readonly truePairs: number;
  readonly predicted: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Scores clusters (lists of record indexes; records in none are alone) against each record's true person. */
export function scoreClusters(truth: readonly number[], clusters: readonly (readonly number[])[]): PairScore {
  const byPerson = new Map<number, number>();
  for (const p of truth) byPerson.set(p, (byPerson.get(p) ?? 0) + 1);
  let truePairs = 0;
  for (const n of byPerson.values()) truePairs += (n * (n - 1)) / 2;
  let predicted = 0;
  let tp = 0;
  for (const c of clusters) {
    for (let x = 0; x < c.length; x++) {
      for (let y = x + 1; y < c.length; y++) {
        predicted++;
        if (truth[c[x]] === truth[c[y]]) tp++;
      }
    }
  }
  const precision = predicted === 0 ? 1 : tp / predicted;
  const recall = truePairs === 0 ? 1 : tp / truePairs;
  return {
    truePairs,
    predicted,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
  };
}

/** Connected components of records that share a key (a null key links nothing). */
function linked(records: readonly CrmPerson[], keys: readonly ((r: CrmPerson) => string | null)[]): number[][] {
  const parent = records.map((_r, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (const key of keys) {
    const first = new Map<string, number>();
    records.forEach((r, i) => {
      const k = key(r);
      if (k === null) return;
      const j = first.get(k);
      if (j === undefined) first.set(k, i);
      else parent[find(i)] = find(j);
    });
  }
  const groups = new Map<number, number[]>();
  records.forEach((_r, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), i]));
  return [...groups.values()].filter((g) => g.length > 1);
}

const emailOf = (r: CrmPerson) => (r.email ? r.email.trim().toLowerCase() : null);
const phoneOf = (r: CrmPerson) => {
  const digits = (r.phone ?? '').replace(/\D/g, '').slice(-9);
  return digits.length >= 7 && !/^0+$/.test(digits) ? digits : null;
};

/**
 * The deterministic rule people write by hand, as the baseline: the same normalised email, or the same phone
 * digits and the same surname. Connected components of those links.
 */
export function baselineClusters(records: readonly CrmPerson[]): number[][] {
  return linked(records, [
    emailOf,
    (r) => {
      const last = (r.last_name ?? '').trim().toLowerCase();
      const phone = phoneOf(r);
      return phone && last ? `${phone}|${last}` : null;
    },
  ]);
}

/**
 * The true clusters as far as evidence other than a name reaches: records of one person linked when they
 * share a normalised email or phone digits. Pair recall of this is what a matcher that never merges on a name
 * alone can reach at best.
 */
export function evidenceCeiling(records: readonly CrmPerson[]): number[][] {
  const ofPerson = (key: (r: CrmPerson) => string | null) => (r: CrmPerson) => {
    const k = key(r);
    return k === null ? null : `${r.person}|${k}`;
  };
  return linked(records, [ofPerson(emailOf), ofPerson(phoneOf)]);
}

/** The fields of a people entity as the CRM generator's records are mapped: cleaned names, email and phone. */
export const PEOPLE_FIELDS = `    fields:
      id: id
      first_name: { from: first_name, clean: person_name, invalid: null }
      last_name: { from: last_name, clean: person_name, invalid: null }
      email: { from: email, clean: email, invalid: null }
      phone: { from: phone, clean: { phone: { country: US } }, invalid: null }
`;

/** Runs a plan and reads the clusters back from its merge map: survivor key → every record merged into it. */
async function clustersOf(planText: string, dir: string): Promise<{ clusters: number[][]; seconds: number }> {
  const plan = parsePlan(planText, path.join(dir, 'plan.yaml'));
  const started = performance.now();
  await runPlan(plan);
  const seconds = (performance.now() - started) / 1000;
  const survivors = new Map<number, number[]>();
  await withPlanTarget(plan, true, async (target) => {
    for await (const m of target.state.merges(plan.name)) {
      const survivor = Number(m.survivorKey);
      survivors.set(survivor, [...(survivors.get(survivor) ?? [survivor]), Number(m.sourceKey)]);
    }
  });
  return { clusters: [...survivors.values()], seconds };
}

/**
 * The clusters a plan finds: the records loaded from SQLite into SQLite through a plan whose only dedupe
 * setting is `on:` (the defaults for everything else), as a user writes it; read back from its merge map.
 */
export async function planClusters(
  records: readonly CrmPerson[],
  dir: string,
  dedupe = 'on: [email, phone, first_name, last_name]',
): Promise<{ clusters: number[][]; seconds: number }> {
  const source = path.join(dir, 'people.db');
  const db = new Database(source);
  db.exec('CREATE TABLE people (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT)');
  const insert = db.prepare('INSERT INTO people VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => records.forEach((r, i) => insert.run(i, r.first_name, r.last_name, r.email, r.phone)))();
  db.close();
  return clustersOf(
    `version: 1
name: dedupe-score
source: "sqlite:${source}"
target: "sqlite:${path.join(dir, 'crm.db')}"
entities:
  people:
    from: people
    into: people
    key: id
${PEOPLE_FIELDS}    dedupe:
      ${dedupe}
`,
    dir,
  );
}

/** What FEBRL records are compared on through a plan: every field but the address's second line and the state. */
export const FEBRL_ON = [
  'given_name',
  'surname',
  'date_of_birth',
  'soc_sec_id',
  'street_number',
  'address_1',
  'postcode',
  'suburb',
] as const;

/**
 * FEBRL through a plan, as a user would run it: each file into a SQLite table, one entity per file (the second
 * file's entity linked with `with:` and `link_only: true`), `dedupe: { on: FEBRL_ON }` and nothing else.
 * Record i of the files, in order, has key i; returns the clusters and each record's ground-truth entity.
 */
export async function planFebrl(
  files: readonly string[],
  dir: string,
): Promise<{ clusters: number[][]; truth: readonly string[]; group: Uint8Array; seconds: number }> {
  const set = readFebrl(files);
  const source = path.join(dir, 'febrl.db');
  const db = new Database(source);
  const columns = ['id', ...FEBRL_FIELDS];
  let id = 0;
  files.forEach((_f, g) => {
    db.exec(`CREATE TABLE people_${g} (id INTEGER PRIMARY KEY, ${FEBRL_FIELDS.map((f) => `${f} TEXT`).join(', ')})`);
    const insert = db.prepare(`INSERT INTO people_${g} VALUES (${columns.map(() => '?').join(', ')})`);
    db.transaction(() => {
      for (; id < set.truth.length && set.records.group?.[id] === g; id++)
        insert.run(id, ...FEBRL_FIELDS.map((f) => set.records.columns.get(f)?.[id] ?? null));
    })();
  });
  db.close();
  const entity = (g: number, dedupe: string) => `  people_${g}:
    from: people_${g}
    into: people
    key: id
    fields:
${columns.map((c) => `      ${c}: ${c}`).join('\n')}
${dedupe}`;
  const linked = files.length > 1;
  const dedupe = `    dedupe:\n      on: [${FEBRL_ON.join(', ')}]\n${linked ? '      with: [people_1]\n      link_only: true\n' : ''}`;
  const { clusters, seconds } = await clustersOf(
    `version: 1
name: febrl
source: "sqlite:${source}"
target: "sqlite:${path.join(dir, 'target.db')}"
entities:
${entity(0, dedupe)}${linked ? entity(1, '') : ''}`,
    dir,
  );
  return { clusters, truth: set.truth, group: set.records.group ?? new Uint8Array(set.truth.length), seconds };
}
