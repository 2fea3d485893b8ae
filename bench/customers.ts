import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { seededRandom } from '../src/random.js';

/**
 * Generated CRM customers with known duplicates, for the dedupe benchmark at scale. Names come from the
 * shared data sets (datablist customers, FEBRL); surnames are widened with syllable-built ones so that a
 * million people are not drawn from a thousand family names. About `duplicateShare` of the rows are copies
 * of another row with the dirt CRMs really hold: a nickname, a typo, another email domain, a phone written
 * differently or missing, an upper-case email.
 */
export interface Customer {
  readonly id: number;
  readonly first_name: string;
  readonly last_name: string;
  readonly email: string | null;
  readonly phone: string | null;
  readonly birth_date: string;
  readonly city: string;
  /** Ground truth: the id of the original this row copies (its own id for an original). */
  readonly person: number;
}

const NICKNAMES: Record<string, string> = {
  william: 'bill',
  robert: 'bob',
  richard: 'dick',
  margaret: 'peggy',
  elizabeth: 'liz',
  james: 'jim',
  john: 'jack',
  katherine: 'kate',
  michael: 'mike',
  thomas: 'tom',
};
const SYLLABLES = [
  'ka',
  'ro',
  'mi',
  'sen',
  'dor',
  'lin',
  'ber',
  'ta',
  'vi',
  'gan',
  'hol',
  'mer',
  'stein',
  'son',
  'ley',
  'ford',
  'wick',
  'man',
];

function namePools(dataDir: string): { first: string[]; last: string[]; cities: string[] } {
  const customers = parse<Record<string, string>>(readFileSync(path.join(dataDir, 'datablist/customers-10000.csv')), {
    columns: true,
  });
  const febrl = parse<Record<string, string>>(readFileSync(path.join(dataDir, 'febrl/dataset3.csv')), {
    columns: (h: string[]) => h.map((c) => c.trim()),
    trim: true,
  });
  const first = new Set(
    [...customers.map((c) => c['First Name'] ?? ''), ...febrl.map((r) => r.given_name ?? ''), ...Object.keys(NICKNAMES)]
      .map((s) => s.toLowerCase())
      .filter(Boolean),
  );
  const last = new Set(
    [...customers.map((c) => c['Last Name'] ?? ''), ...febrl.map((r) => r.surname ?? '')]
      .map((s) => s.toLowerCase())
      .filter(Boolean),
  );
  const base = [...last];
  for (const stem of base) for (const syllable of SYLLABLES) last.add(stem.slice(0, 4) + syllable);
  const cities = [...new Set(customers.map((c) => c.City ?? '').filter(Boolean))];
  return { first: [...first], last: [...last], cities };
}

const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function typo(s: string, rnd: () => number): string {
  if (s.length < 3) return s;
  const at = 1 + Math.floor(rnd() * (s.length - 2));
  return rnd() < 0.5
    ? s.slice(0, at) + (s[at + 1] ?? '') + (s[at] ?? '') + s.slice(at + 2)
    : s.slice(0, at) + s.slice(at + 1);
}

export function* customers(
  count: number,
  dataDir: string,
  options: { duplicateShare?: number; seed?: number } = {},
): Generator<Customer> {
  const rnd = seededRandom(options.seed ?? 7);
  const pools = namePools(dataDir);
  const share = options.duplicateShare ?? 0.1;
  const originals: Customer[] = [];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
  for (let id = 1; id <= count; id++) {
    if (originals.length > 100 && rnd() < share) {
      const o = pick(originals);
      const first =
        NICKNAMES[o.first_name.toLowerCase()] && rnd() < 0.5
          ? title(NICKNAMES[o.first_name.toLowerCase()])
          : rnd() < 0.15
            ? typo(o.first_name, rnd)
            : o.first_name;
      const last = rnd() < 0.2 ? typo(o.last_name, rnd) : rnd() < 0.1 ? o.last_name.toUpperCase() : o.last_name;
      const email =
        o.email === null || rnd() < 0.2
          ? null
          : rnd() < 0.3
            ? o.email.replace(/@.*/, '@gmail.com')
            : rnd() < 0.3
              ? o.email.toUpperCase()
              : o.email;
      const phone =
        o.phone === null || rnd() < 0.3
          ? null
          : rnd() < 0.5
            ? o.phone.replace(/^\+1 (\d{3}) (\d{3}) (\d{4})$/, '($1) $2-$3')
            : o.phone;
      yield {
        id,
        first_name: first,
        last_name: last,
        email,
        phone,
        birth_date: rnd() < 0.1 ? o.birth_date.replace(/-(\d\d)-(\d\d)$/, '-$2-$1') : o.birth_date,
        city: o.city,
        person: o.person,
      };
      continue;
    }
    const first = title(pick(pools.first));
    const last = title(pick(pools.last));
    const year = 1940 + Math.floor(rnd() * 60);
    const day = (n: number) => String(1 + Math.floor(rnd() * n)).padStart(2, '0');
    const c: Customer = {
      id,
      first_name: first,
      last_name: last,
      email: rnd() < 0.9 ? `${first}.${last}${id % 97}@example${id % 13}.com`.toLowerCase() : null,
      phone:
        rnd() < 0.8
          ? `+1 ${200 + Math.floor(rnd() * 700)} ${100 + Math.floor(rnd() * 900)} ${String(Math.floor(rnd() * 10000)).padStart(4, '0')}`
          : null,
      birth_date: `${year}-${day(12)}-${day(28)}`,
      city: pick(pools.cities),
      person: id,
    };
    if (originals.length < 200_000) originals.push(c);
    else originals[Math.floor(rnd() * originals.length)] = c;
    yield c;
  }
}
