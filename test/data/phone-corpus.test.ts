import { readFileSync } from 'node:fs';
import type { CountryCode } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { turnEventLoopAfterEachTest } from '../helpers/event-loop.js';
import { countryCode } from '../../src/cleaning/country.js';
import '../../src/mapping/compile.js';
import { findStep, type StepContext } from '../../src/mapping/steps.js';
import { dataPath } from '../helpers/data.js';
import { expectAsLibphonenumber } from '../helpers/phones.js';

const rule = (name: string, options?: unknown) => {
  const def = findStep(name);
  if (!def) throw new Error(`no rule ${name}`);
  return def.create(def.options ? def.options.parse(options) : undefined);
};

// A real export whose phones come in many shapes (datablist customers-10000.csv, public test data).
// Each test is CPU-bound for seconds: the runner's messages are read between them.
turnEventLoopAfterEachTest();

describe('phone corpus: datablist customers-10000.csv', () => {
  const file = dataPath('datablist/customers-10000.csv');
  /** Enough CSV for this file: quoted fields may hold commas, no quoted newlines. */
  const parseLine = (line: string) =>
    [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)]
      .map((m) => (m[1] ?? '').replace(/^"|"$/g, '').replace(/""/g, '"'))
      .slice(0, -1);

  it('every phone becomes E.164 or is reported invalid with a code', () => {
    const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
    const columns = parseLine(header ?? '');
    const at = (name: string) => columns.indexOf(name);
    const phone = rule('phone', { country: 'US', country_from: 'Country' });
    const outcomes = new Map<string, number>();
    let phones = 0;
    for (const line of lines) {
      const row = parseLine(line);
      const context: StepContext = { get: (c) => row[at(c)] ?? null };
      for (const column of ['Phone 1', 'Phone 2']) {
        const r = phone(row[at(column)] ?? null, context);
        phones += 1;
        const invalid = r.issues?.find((i) => i.kind === 'invalid');
        if (invalid) {
          expect([
            'invalid_phone',
            'too_short',
            'too_long',
            'unparseable',
            'not_a_phone',
            'placeholder',
            'unknown_country_code',
          ]).toContain(invalid.code);
          outcomes.set(invalid.code, (outcomes.get(invalid.code) ?? 0) + 1);
        } else {
          expect(r.value).toMatch(/^\+\d{7,15}(;ext=\d+)?$/);
          outcomes.set('e164', (outcomes.get('e164') ?? 0) + 1);
        }
      }
    }
    expect(phones).toBe(20_000);
    // Faker's random digits make many numbers impossible in their country; both outcomes must be well represented.
    expect(outcomes.get('e164') ?? 0).toBeGreaterThan(1000);
    expect(outcomes.get('invalid_phone') ?? 0).toBeGreaterThan(1000);
  });

  // The rule reads plain numbers with compiled numbering plans (src/cleaning/numbering-plans.ts): on this real
  // file, under each row's own country and under fixed defaults, it must give what libphonenumber-js alone gives.
  it.each(
    ['customers', 'leads'].flatMap((name) =>
      (['e164', 'international', 'national', 'country'] as const).map((format) => [name, format] as const),
    ),
  )('gives every phone of %s, formatted %s, what libphonenumber-js alone gives', (name, format) => {
    let compared = 0;
    const [header, ...lines] = readFileSync(dataPath(`datablist/${name}-10000.csv`), 'utf8')
      .trim()
      .split('\n');
    const columns = parseLine(header ?? '');
    const phones = columns.filter((c) => /phone/i.test(c)).map((c) => columns.indexOf(c));
    const countryAt = columns.indexOf('Country');
    const rules = new Map<string, ReturnType<typeof rule>>();
    for (const line of lines) {
      const row = parseLine(line);
      const own = countryAt >= 0 ? (countryCode(row[countryAt] ?? '') ?? undefined) : undefined;
      for (const country of [own, 'US', undefined] as (CountryCode | undefined)[]) {
        const key = country ?? '';
        if (!rules.has(key)) rules.set(key, rule('phone', country ? { country, format } : { format }));
        const run = rules.get(key) as ReturnType<typeof rule>;
        for (const at of phones) {
          const text = row[at] ?? '';
          if (text.trim() === '') continue;
          expectAsLibphonenumber(run, text, country, format);
          compared += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(50_000);
  });
});
