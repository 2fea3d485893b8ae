/**
 * CRM-like people with ground truth, for measuring dedupe where it is hard: records carry only a name, an
 * email and a phone, and the traps of real CRM data are built in. Seeded: the same `count` and `seed` give the
 * same records. Each record's `person` is its ground-truth identity (kept away from the matcher).
 *
 * Duplicates (about 10 % of people are recorded two or three times): a nickname or a typo in a name, an
 * honorific left in the first name, case and spacing, the email retyped or changed with a new job, the phone in
 * another format, a junk or missing phone, a missing email.
 * Traps (different people who look alike): common names (different people with the same name and the same
 * name-derived local part at other domains), spouses sharing a family phone and sometimes one email, father
 * and son with one name and one home phone (Jr / Sr), colleagues behind one company switchboard number.
 *
 * Names are long-tailed, as a customer base's are: a share of people carry one of the common names below
 * (drawn most often from the head of the list), the rest a name of the long tail, built from syllables. A list
 * of a hundred surnames alone would make every name common; in census counts the hundred commonest surnames
 * cover about a sixth of people. Phones are numbers that exist (libphonenumber's metadata says so), so a
 * cleaning rule that drops impossible numbers drops only the junk written in on purpose.
 */

import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { sameNickname } from '../src/dedupe/nicknames.js';
import { seededRandom } from '../src/random.js';

export interface CrmPerson {
  readonly person: number;
  readonly first_name: string | null;
  readonly last_name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
}

const FIRST = [
  'James',
  'John',
  'Robert',
  'Michael',
  'William',
  'David',
  'Richard',
  'Joseph',
  'Thomas',
  'Charles',
  'Mary',
  'Patricia',
  'Jennifer',
  'Linda',
  'Elizabeth',
  'Barbara',
  'Susan',
  'Jessica',
  'Sarah',
  'Karen',
  'Daniel',
  'Matthew',
  'Anthony',
  'Mark',
  'Steven',
  'Andrew',
  'Joshua',
  'Kevin',
  'Brian',
  'Nancy',
  'Lisa',
  'Betty',
  'Margaret',
  'Sandra',
  'Ashley',
  'Emily',
  'Donna',
  'Michelle',
  'Carol',
  'Amanda',
  'Priya',
  'Wei',
  'Hiroshi',
  'Olga',
  'Fatima',
  'Lars',
  'Ingrid',
  'Mateo',
  'Lucia',
  'Chloe',
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
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
  'Okafor',
  'Schneider',
  'Fischer',
  'Kowalski',
  'Novak',
  'Tanaka',
  'Sato',
  'Chen',
  'Wang',
  'Patel',
  'Singh',
  'Kumar',
  'Ivanova',
  'Petrov',
  'Silva',
  'Santos',
  'Oliveira',
  'van der Berg',
  'de Jong',
  'Jansen',
  'Larsen',
  'Nielsen',
  'Haddad',
  'Khan',
  'Ali',
  'Murphy',
  'Kelly',
  'Byrne',
  'Walsh',
  'Ryan',
];
const NICKNAMES: Record<string, string> = {
  William: 'Bill',
  Robert: 'Bob',
  Richard: 'Dick',
  James: 'Jim',
  John: 'Jack',
  Michael: 'Mike',
  Joseph: 'Joe',
  Thomas: 'Tom',
  Charles: 'Charlie',
  Elizabeth: 'Liz',
  Margaret: 'Peggy',
  Jennifer: 'Jen',
  Patricia: 'Pat',
  Daniel: 'Dan',
  Matthew: 'Matt',
  Anthony: 'Tony',
  Steven: 'Steve',
  Andrew: 'Andy',
  Joshua: 'Josh',
  Susan: 'Sue',
  Barbara: 'Barb',
  Jessica: 'Jess',
  Kevin: 'Kev',
  Nancy: 'Nan',
  Sandra: 'Sandy',
  Amanda: 'Mandy',
  David: 'Dave',
};
/** Mail providers' domains, the head of every customer base's list. */
export const FREE_MAIL = [
  'gmail.com',
  'yahoo.com',
  'hotmail.com',
  'outlook.com',
  'aol.com',
  'icloud.com',
  'gmx.de',
  'web.de',
  'mail.co.uk',
  'btinternet.com',
];
const COMPANIES = [
  'acme',
  'globex',
  'initech',
  'umbrella',
  'hooli',
  'vandelay',
  'wayne',
  'stark',
  'wonka',
  'tyrell',
  'cyberdyne',
  'soylent',
  'massive',
  'aperture',
  'oscorp',
];

export interface Identity {
  first: string;
  last: string;
  email: string | null;
  phone: { country: 'US' | 'GB' | 'DE'; digits: string } | null;
  company: string | null;
}

/** One given name, or forms of one (Betty and Elizabeth): spouses are not drawn so. */
const sameName = (a: string, b: string) => a === b || sameNickname(a.toLowerCase(), b.toLowerCase());

/** A first name drawn often from the head of the list: common names are common. */
const skewed = (rand: () => number, list: readonly string[]) => list[Math.floor(list.length * rand() * rand())];

/** Syllables for the long tail of names: a few thousand given names and tens of thousands of surnames. */
const SYLLABLES = 'ka ro mi sen dor lin ber ta vi gan hol mer son ley ford wick man al bri cor da el fa go ha'.split(
  ' ',
);
const syllable = (rand: () => number) => SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
const capital = (text: string) => text[0].toUpperCase() + text.slice(1);

/** A given name: common most of the time (the head of the list most often), else one of the tail. */
export function givenName(rand: () => number): string {
  if (rand() < 0.6) return skewed(rand, FIRST);
  return capital(syllable(rand) + syllable(rand) + ['a', 'o', 'en', 'ie', 'us', ''][Math.floor(rand() * 6)]);
}

/** A surname: one of the common ones for about a third of people, else one of the tail. */
export function surname(rand: () => number): string {
  if (rand() < 0.35) return skewed(rand, LAST);
  const parts = rand() < 0.5 ? 2 : 3;
  return capital(Array.from({ length: parts }, () => syllable(rand)).join(''));
}

export function localPart(rand: () => number, first: string, last: string): string {
  const f = first.toLowerCase();
  const l = last.toLowerCase().replace(/\s+/g, '');
  switch (Math.floor(rand() * 6)) {
    case 0:
      return `${f}.${l}`;
    case 1:
      return `${f[0]}${l}`;
    case 2:
      return `${f}${l[0]}`;
    case 3:
      return `${f}_${l}`;
    case 4:
      return `${f}${l}${Math.floor(rand() * 90) + 10}`;
    default:
      return `${l}.${f}`;
  }
}

/** A number that exists in the country's numbering plan: a US area code in use, a GB or DE mobile range. */
export function phoneDigits(rand: () => number, country: 'US' | 'GB' | 'DE'): string {
  const n = (len: number) => Array.from({ length: len }, () => Math.floor(rand() * 10)).join('');
  for (;;) {
    const digits =
      country === 'US'
        ? `${200 + Math.floor(rand() * 700)}${200 + Math.floor(rand() * 700)}${n(4)}`
        : country === 'GB'
          ? `7${n(9)}`
          : `15${n(9)}`;
    if (isValidPhoneNumber(digits, country)) return digits;
  }
}

/** A phone as people type it: the same number in one of several renderings of its country. */
export function rendered(rand: () => number, phone: NonNullable<Identity['phone']>): string {
  const d = phone.digits;
  const shapes: Record<string, (() => string)[]> = {
    US: [
      () => `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`,
      () => `${d.slice(0, 3)}-${d.slice(3, 6)}-${d.slice(6)}`,
      () => `+1 ${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}`,
      () => `${d.slice(0, 3)}.${d.slice(3, 6)}.${d.slice(6)}`,
    ],
    GB: [
      () => `0${d.slice(0, 4)} ${d.slice(4)}`,
      () => `+44 ${d.slice(0, 4)} ${d.slice(4)}`,
      () => `+44 (0)${d.slice(0, 4)} ${d.slice(4, 7)} ${d.slice(7)}`,
    ],
    DE: [
      () => `0${d.slice(0, 3)} ${d.slice(3)}`,
      () => `+49 ${d.slice(0, 3)} ${d.slice(3)}`,
      () => `+49 (0)${d.slice(0, 3)}-${d.slice(3)}`,
    ],
  };
  const list = shapes[phone.country] as (() => string)[];
  return list[Math.floor(rand() * list.length)]();
}

function typo(rand: () => number, text: string): string {
  if (text.length < 4) return text;
  const i = 1 + Math.floor(rand() * (text.length - 2));
  const kind = Math.floor(rand() * 3);
  if (kind === 0) return text.slice(0, i) + text.slice(i + 1); // dropped letter
  if (kind === 1) return text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2); // swapped
  return text.slice(0, i) + text[i] + text.slice(i); // doubled
}

/** `count` records, about a tenth of the people recorded more than once, with the traps above. */
export function crmPeople(count: number, seed = 42): CrmPerson[] {
  const rand = seededRandom(seed);
  const records: CrmPerson[] = [];
  // A mailbox is one person's (or one family's, when shared on purpose): a name-derived address already taken
  // gets digits, as providers make people do.
  const taken = new Set<string>();
  const mailbox = (local: string, domain: string): string => {
    let address = `${local}@${domain}`;
    while (taken.has(address)) address = `${local}${Math.floor(rand() * 900) + 100}@${domain}`;
    taken.add(address);
    return address;
  };
  let person = 0;
  const record = (id: Identity, who: number, variant: boolean) => {
    let first: string | null = id.first;
    let last: string | null = id.last;
    let email = id.email;
    let phone: string | null = id.phone ? rendered(rand, id.phone) : null;
    if (variant) {
      const r = rand();
      if (r < 0.2 && NICKNAMES[id.first]) first = NICKNAMES[id.first];
      else if (r < 0.35) first = typo(rand, id.first);
      else if (r < 0.45) last = typo(rand, id.last);
      else if (r < 0.52) first = `${rand() < 0.5 ? 'Dr.' : 'Mr.'} ${id.first}`;
      if (rand() < 0.3) first = first.toUpperCase();
      if (rand() < 0.2) last = ` ${last.toLowerCase()} `;
      const e = rand();
      if (email && e < 0.15) email = ` ${email.toUpperCase()}`;
      else if (e < 0.3)
        email = mailbox(localPart(rand, id.first, id.last), `${COMPANIES[Math.floor(rand() * COMPANIES.length)]}.com`); // a new job
      else if (e < 0.38) email = null;
      const p = rand();
      if (p < 0.1) phone = rand() < 0.5 ? 'N/A' : '000-000-0000';
      else if (p < 0.18) phone = null;
    }
    records.push({ person: who, first_name: first, last_name: last, email, phone });
  };
  const identity = (overrides: Partial<Identity> = {}): Identity => {
    const first = givenName(rand);
    const last = surname(rand);
    const country = (['US', 'US', 'US', 'GB', 'DE'] as const)[Math.floor(rand() * 5)];
    const company = rand() < 0.4 ? COMPANIES[Math.floor(rand() * COMPANIES.length)] : null;
    const domain = company && rand() < 0.6 ? `${company}.com` : FREE_MAIL[Math.floor(rand() * FREE_MAIL.length)];
    return {
      first,
      last,
      email: rand() < 0.92 ? mailbox(localPart(rand, first, last), domain) : null,
      phone: rand() < 0.85 ? { country, digits: phoneDigits(rand, country) } : null,
      company,
      ...overrides,
    };
  };
  const switchboards = new Map<string, NonNullable<Identity['phone']>>();
  while (records.length < count) {
    const r = rand();
    if (r < 0.06) {
      // Spouses: one family phone, a shared email half the time, one last name.
      const a = identity();
      const b = identity({ last: a.last, phone: a.phone, email: rand() < 0.5 ? a.email : null, company: null });
      b.email ??= mailbox(localPart(rand, b.first, b.last), FREE_MAIL[Math.floor(rand() * FREE_MAIL.length)]);
      if (sameName(a.first, b.first)) continue;
      record(a, person++, false);
      record(b, person++, false);
    } else if (r < 0.09) {
      // Father and son: one name, one home phone, their own emails.
      const father = identity();
      const son = identity({ first: father.first, last: father.last, phone: father.phone });
      record({ ...father, last: `${father.last} Sr.` }, person++, false);
      record({ ...son, last: `${son.last} Jr.` }, person++, false);
    } else if (r < 0.15) {
      // Colleagues behind one switchboard number.
      const company = COMPANIES[Math.floor(rand() * COMPANIES.length)];
      let board = switchboards.get(company);
      if (!board) switchboards.set(company, (board = { country: 'US', digits: phoneDigits(rand, 'US') }));
      const colleague = identity({ company, phone: board });
      colleague.email = mailbox(localPart(rand, colleague.first, colleague.last), `${company}.com`);
      record(colleague, person++, false);
    } else {
      const id = identity();
      const who = person++;
      record(id, who, false);
      if (rand() < 0.1) {
        record(id, who, true);
        if (rand() < 0.3) record(id, who, true);
      }
    }
  }
  return records.slice(0, count);
}
