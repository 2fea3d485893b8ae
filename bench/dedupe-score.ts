import Database from 'better-sqlite3';
import path from 'node:path';
import { withPlanTarget } from '../src/engine/connections.js';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import type { CrmPerson } from './crm-people.js';

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

/**
 * The deterministic rule people write by hand, as the baseline: the same normalised email, or the same phone
 * digits and the same surname. Connected components of those links.
 */
export function baselineClusters(records: readonly CrmPerson[]): number[][] {
  const parent = records.map((_r, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const link = (key: (r: CrmPerson) => string | null) => {
    const first = new Map<string, number>();
    records.forEach((r, i) => {
      const k = key(r);
      if (k === null) return;
      const j = first.get(k);
      if (j === undefined) first.set(k, i);
      else parent[find(i)] = find(j);
    });
  };
  link((r) => (r.email ? r.email.trim().toLowerCase() : null));
  link((r) => {
    const digits = (r.phone ?? '').replace(/\D/g, '').slice(-9);
    const last = (r.last_name ?? '').trim().toLowerCase();
    return digits.length >= 7 && !/^0+$/.test(digits) && last ? `${digits}|${last}` : null;
  });
  const groups = new Map<number, number[]>();
  records.forEach((_r, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), i]));
  return [...groups.values()].filter((g) => g.length > 1);
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
  const plan = parsePlan(
    `version: 1
name: dedupe-score
source: "sqlite:${source}"
target: "sqlite:${path.join(dir, 'crm.db')}"
entities:
  people:
    from: people
    into: people
    key: id
    fields:
      id: id
      first_name: { from: first_name, clean: person_name, invalid: null }
      last_name: { from: last_name, clean: person_name, invalid: null }
      email: { from: email, clean: email, invalid: null }
      phone: { from: phone, clean: { phone: { country: US } }, invalid: null }
    dedupe:
      ${dedupe}
`,
    path.join(dir, 'plan.yaml'),
  );
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
