import { seededRandom } from '../src/random.js';
import { FREE_MAIL, givenName, localPart, phoneDigits, rendered, surname } from './crm-people.js';

/**
 * Legacy customers as an old CRM holds them, streamed as COPY text lines (id, name, email, phone), for the load
 * benchmarks: one `name` column in the shapes people typed (mostly "First Last", also "Last, First", a middle
 * initial, an honorific or a suffix, ALL CAPS or lower case), long-tailed names (bench/crm-people.ts), about
 * 5,000 email domains behind the big mail providers (so a per-domain cache is as warm as on real data, not
 * warmer), phones of three countries in the renderings people use, some junk. Seeded: the same count and
 * seed give the same rows. Nothing is held: a line at a time.
 */
export function* legacyCustomerLines(count: number, seed = 21): Iterable<string> {
  const rand = seededRandom(seed);
  const domains = companyDomains(seededRandom(seed + 1), 5000);
  for (let id = 1; id <= count; id++) {
    const first = givenName(rand);
    const last = surname(rand);
    const r = rand();
    const name =
      r < 0.62
        ? `${first} ${last}`
        : r < 0.72
          ? `${last}, ${first}`
          : r < 0.78
            ? `${first} ${String.fromCharCode(65 + Math.floor(rand() * 26))}. ${last}`
            : r < 0.83
              ? `${['Dr.', 'Mr.', 'Mrs.', 'Ms.', 'Prof.'][Math.floor(rand() * 5)]} ${first} ${last}`
              : r < 0.86
                ? `${first} ${last} ${['Jr.', 'Sr.', 'III', 'PhD'][Math.floor(rand() * 4)]}`
                : r < 0.92
                  ? `${first} ${last}`.toUpperCase()
                  : r < 0.95
                    ? `${first} ${last}`.toLowerCase()
                    : `  ${first}   ${last} `;
    const m = rand();
    const domain =
      m < 0.45
        ? PROVIDERS[Math.floor(PROVIDERS.length * rand() * rand())]
        : domains[Math.floor(rand() * domains.length)];
    const email =
      m > 0.97
        ? '\\N'
        : m > 0.955
          ? `${localPart(rand, first, last)} at ${domain}`
          : decorated(rand, `${localPart(rand, first, last)}@${domain}`);
    const p = rand();
    const country = (['US', 'US', 'US', 'GB', 'DE'] as const)[Math.floor(rand() * 5)];
    const phone =
      p < 0.1
        ? '\\N'
        : p < 0.14
          ? ['N/A', '000-000-0000', 'call office', '123'][Math.floor(rand() * 4)]
          : rendered(rand, { country, digits: phoneDigits(rand, country) });
    yield `${id}\t${name}\t${email}\t${phone}\n`;
  }
}

const PROVIDERS = [...FREE_MAIL, 'yahoo.co.uk', 'comcast.net', 'orange.fr'];
const TLDS = ['com', 'com', 'com', 'net', 'org', 'de', 'co.uk', 'fr', 'io', 'com.br', 'nl', 'ca', 'com.au', 'es', 'it'];
const SYLLABLES = 'ac ro mi sen dor lin ber ta vi gan hol mer tek net sys lab bio med fin cap gro ver al tri'.split(
  ' ',
);

/** `count` distinct company domains: two or three syllables and a TLD. */
function companyDomains(rand: () => number, count: number): string[] {
  const found = new Set<string>();
  while (found.size < count) {
    const parts = 2 + Math.floor(rand() * 2);
    const word = Array.from({ length: parts }, () => SYLLABLES[Math.floor(rand() * SYLLABLES.length)]).join('');
    found.add(`${word}.${TLDS[Math.floor(rand() * TLDS.length)]}`);
  }
  return [...found];
}

/** An address as typed into an old CRM: mostly as is, sometimes padded or in capitals. */
function decorated(rand: () => number, address: string): string {
  const d = rand();
  return d < 0.8 ? address : d < 0.9 ? `  ${address} ` : address.toUpperCase();
}
