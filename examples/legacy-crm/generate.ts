import Database from 'better-sqlite3';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { seededRandom } from '../../src/random.js';

/**
 * Builds a legacy CRM as SQLite, deterministically from a seed: the dirt real CRMs hold — "Last, First"
 * names, honorifics and suffixes, particles, ALL CAPS, padded and invalid emails, phones in every format,
 * duplicates entered twice, impossible dates, status codes nobody documented.
 */
export interface GenerateOptions {
  readonly customers?: number;
  readonly seed?: number;
  /** Filled with the ground truth of the duplicates: each copy's id → the id of the customer it copies. */
  readonly copies?: Map<number, number>;
}

const FIRST = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'William',
  'Elizabeth',
  'David',
  'Barbara',
  'José',
  'María',
  'Zoë',
  'Chloé',
  'Søren',
  'Ana-Lucía',
  'Mary Anne',
  'Jean-Luc',
  'Wei',
  'Aisha',
  'Olusegun',
  'Priya',
];
const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  "O'Brien",
  'Smith-Jones',
  'Müller',
  'Nguyen',
  'McDonald',
  'Kowalski',
  'Papadopoulos',
  "D'Angelo",
  'Østergaard',
  'Zhang',
];
const PARTICLE_LAST = [
  'van der Berg',
  'de la Cruz',
  'van Dijk',
  'von Neumann',
  'da Silva',
  'St. Clair',
  'del Rio',
  'bin Rashid',
];
const HONORIFICS = ['Dr.', 'Mr.', 'Mrs.', 'Ms.', 'Prof.', 'Mr', 'DR'];
const SUFFIXES = ['Jr.', 'Sr.', 'III', 'PhD', 'MD', 'Jr'];
const DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'example.org', 'acme-corp.com', 'hotmail.co.uk'];
const STREETS = ['Main St', 'Oak Avenue', 'Elm Street', '2nd Ave', 'Rue de Rivoli', 'Baker Street'];
const AREA_CODES = ['212', '415', '312', '617', '206', '303', '512', '404', '713', '305'];
const CITIES = ['Springfield', 'Portland', 'Austin', 'Paris', 'London', 'Berlin'];

export function generateLegacyCrm(file: string, options: GenerateOptions = {}): number {
  const total = options.customers ?? 12_000;
  const rnd = seededRandom(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
  const chance = (p: number) => rnd() < p;

  function name(first: string, last: string): string | null {
    const r = rnd();
    if (r < 0.45) return `${first} ${last}`;
    if (r < 0.55) return `${last}, ${first} ${String.fromCharCode(65 + Math.floor(rnd() * 26))}.`;
    if (r < 0.6) return `${pick(HONORIFICS)} ${first} ${last}`;
    if (r < 0.65) return `${first} ${last} ${pick(SUFFIXES)}`;
    if (r < 0.69) return `${first} ${pick(PARTICLE_LAST)}`;
    if (r < 0.74) return `${first} ${last}`.toUpperCase();
    if (r < 0.77) return `${first} ${last}`.toLowerCase();
    if (r < 0.82) return `  ${first}   ${last} `;
    if (r < 0.84) return last;
    if (r < 0.86) return `${first} "${first.slice(0, 3)}" ${last}`;
    if (r < 0.88) return `${last}, ${pick(HONORIFICS)} ${first}`;
    if (r < 0.89) return chance(0.5) ? null : '   ';
    if (r < 0.893) return `${first} ${'Bartholomew-Montgomery '.repeat(3)}${last}`;
    return `${first} ${last}`;
  }

  const mailboxes = new Set<string>();
  function email(first: string, last: string): string | null {
    const local = `${first}.${last}`
      .toLowerCase()
      .normalize('NFD')
      .replace(/[^a-z.]/g, '');
    // A mailbox is one customer's: an address another customer holds is drawn again.
    let address = `${local}${Math.floor(rnd() * 100)}@${pick(DOMAINS)}`;
    while (mailboxes.has(address)) address = `${local}${Math.floor(rnd() * 100)}@${pick(DOMAINS)}`;
    mailboxes.add(address);
    const r = rnd();
    if (r < 0.7) return address;
    if (r < 0.78) return address.toUpperCase();
    if (r < 0.84) return `  ${address} `;
    if (r < 0.86) return address.replace('@', ' at ');
    if (r < 0.88) return `${local}@`;
    if (r < 0.89) return 'n/a';
    if (r < 0.9) return address.replace('@', '@@');
    if (r < 0.95) return null;
    return '';
  }

  function phone(): string | null {
    const d = () => String(Math.floor(rnd() * 10));
    // Real area codes and exchanges (2-9 first digit), so the dirt is in the formatting, not in the digits.
    const a = pick(AREA_CODES);
    const b = String(200 + Math.floor(rnd() * 800));
    const c = Array.from({ length: 4 }, d).join('');
    const n = `${a}${b}${c}`;
    return pick([
      `(${a}) ${b}-${c}`,
      `${a}.${b}.${c}`,
      `+1 ${a} ${b} ${c}`,
      n,
      `${a}-${b}-${c} x${d()}${d()}`,
      `  ${a} ${b}  ${c} `,
      'N/A',
      '000-000-0000',
      '',
      null,
      `+44 20 ${b}${c.slice(0, 1)} ${c.slice(1)}0`,
      `${a}${b}${c.slice(0, 2)}`,
    ]);
  }

  function created(): string | null {
    const y = 1998 + Math.floor(rnd() * 27);
    const m = String(1 + Math.floor(rnd() * 12)).padStart(2, '0');
    const day = String(1 + Math.floor(rnd() * 28)).padStart(2, '0');
    return pick([
      `${y}-${m}-${day}`,
      `${y}-${m}-${day}`,
      `${y}-${m}-${day} 10:24:00`,
      '0000-00-00',
      `${y}-02-30`,
      null,
    ]);
  }

  rmSync(file, { force: true });
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec(`CREATE TABLE old_crm_customers (
    id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT,
    street TEXT, city TEXT, zip TEXT, status TEXT, created TEXT)`);
  const insert = db.prepare('INSERT INTO old_crm_customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const people: unknown[][] = [];
  db.transaction(() => {
    for (let id = 1; id <= total; id++) {
      // About 4% are the same customer entered again later, with the usual variations.
      const again = people.length > 100 && chance(0.04) ? pick(people) : undefined;
      const first = pick(FIRST);
      const last = pick(LAST);
      const row = again
        ? [
            id,
            String(again[1] ?? '').toUpperCase() || null,
            again[2],
            phone(),
            again[4],
            again[5],
            again[6],
            again[7],
            created(),
          ]
        : [
            id,
            name(first, last),
            email(first, last),
            phone(),
            chance(0.1) ? null : `${1 + Math.floor(rnd() * 999)} ${pick(STREETS)}`,
            chance(0.05) ? null : pick(CITIES),
            chance(0.1) ? null : String(10000 + Math.floor(rnd() * 89999)),
            pick(['A', 'A', 'A', 'I', 'L', ' a ', 'X', null]),
            created(),
          ];
      if (!again) people.push(row);
      else options.copies?.set(id, again[0] as number);
      insert.run(row);
    }
  })();
  db.close();
  return total;
}
