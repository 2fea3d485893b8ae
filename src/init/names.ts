import { distance } from 'fastest-levenshtein';

/**
 * Words legacy schemas abbreviate, and the word a CRM schema would use. Applied per word after splitting a
 * name on case changes, underscores and digits: `cust_email` → customer email, `TelNo` → phone number.
 */
const WORDS: Readonly<Record<string, string>> = {
  cust: 'customer',
  cst: 'customer',
  client: 'customer',
  clnt: 'customer',
  // A CRM's account is a company (Salesforce, the SugarCRM family, vtiger): accounts.id and contacts.account_id find companies.
  account: 'company',
  acct: 'company',
  acc: 'company',
  tel: 'phone',
  telephone: 'phone',
  phon: 'phone',
  mobile: 'phone',
  cell: 'phone',
  ph: 'phone',
  mail: 'email',
  e: 'email',
  emailaddress: 'email',
  eml: 'email',
  fname: 'first name',
  firstname: 'first name',
  forename: 'first name',
  given: 'first',
  lname: 'last name',
  lastname: 'last name',
  surname: 'last name',
  family: 'last',
  sname: 'last name',
  addr: 'address',
  adr: 'address',
  street: 'address',
  str: 'address',
  zip: 'postal',
  zipcode: 'postal',
  postcode: 'postal',
  plz: 'postal',
  postalcode: 'postal',
  dob: 'birth date',
  birthdate: 'birth date',
  birthday: 'birth date',
  bday: 'birth date',
  org: 'company',
  organisation: 'company',
  organization: 'company',
  firm: 'company',
  employer: 'company',
  nbr: 'number',
  num: 'number',
  no: 'number',
  nr: 'number',
  qty: 'quantity',
  amt: 'amount',
  desc: 'description',
  descr: 'description',
  dt: 'date',
  ts: 'time',
  tstamp: 'time',
  timestamp: 'time',
  upd: 'updated',
  update: 'updated',
  modified: 'updated',
  mod: 'updated',
  changed: 'updated',
  crt: 'created',
  created: 'created',
  create: 'created',
  state: 'region',
  province: 'region',
  county: 'region',
  prov: 'region',
  ctry: 'country',
  cntry: 'country',
  stat: 'status',
  sts: 'status',
  nm: 'name',
  fullname: 'name',
};

/** Words that only repeat what a name's table says, or say nothing: dropped before comparing. */
const NOISE = new Set(['code', 'at', 'on', 'of', 'the', 'tbl', 'col', 'fld', 'txt', 'val']);

/** Words that, added to a name, make it name another thing: who did it (`by`), a reference (`id`). */
const OTHER_THING = new Set(['by', 'id']);

/** Words too general to match on their own by being part of a longer name (`name` is not `first name`). */
const GENERIC = new Set(['id', 'name', 'date', 'number', 'time', 'type', 'first', 'last']);

/** Words that mark a column as bookkeeping of the old system, not a fact about the customer. */
const AUDIT = new Set([
  'created',
  'updated',
  'deleted',
  'time',
  'login',
  'seen',
  'activity',
  'version',
  'sync',
  'imported',
  'exported',
  'by',
]);

/**
 * Whether a column records when or by whom the old system changed a row (`created_at`, `last_update`,
 * `modified_by`, `ts`): such columns say nothing about which customer a row is, so they neither make two
 * tables alike nor decide that two records are one person.
 */
export function isAuditColumn(name: string): boolean {
  return words(name).some((w) => AUDIT.has(w));
}

/** Splits `CustomerEmail`, `cust_email`, `EMAIL_ADDR2` into lower-case words, with abbreviations spelt out. */
export function words(name: string): string[] {
  const split = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);
  return split.flatMap((w) => (WORDS[w] ?? WORDS[singular(w)] ?? w).split(' ')).filter((w) => !NOISE.has(w));
}

/** A table's name as words, without a plural and without legacy prefixes (`tbl_customers`, `old_crm_customer`). */
export function tableWords(name: string): string[] {
  const base = name.includes('.') ? (name.split('.').pop() ?? name) : name;
  return words(base)
    .filter((w) => !['old', 'new', 'legacy', 'crm', 'tbl', 'dbo', 'src', 'dst', 'v1', 'v2'].includes(w))
    .map(singular);
}

export function singular(word: string): string {
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(ss|us|is)$/.test(word)) return word;
  if (word.endsWith('ses') || word.endsWith('xes')) return word.slice(0, -2);
  return word.endsWith('s') && word.length > 3 ? word.slice(0, -1) : word;
}

/** 1 for the same text, falling towards 0 with the edit distance relative to the longer one. */
export function similarity(a: string, b: string): number {
  if (a === b) return 1;
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 1 : 1 - distance(a, b) / longest;
}

/**
 * How alike two column names are, 0 to 1, once both are spelt out and stripped of their table's own words
 * (`customer_email` in `customers` is `email`). Same words: 1; one name's words all inside the other's
 * (`email` and `email address`): 0.9; else the edit similarity of the joined words.
 */
export function columnSimilarity(
  source: string,
  target: string,
  sourceTable: readonly string[],
  targetTable: readonly string[],
): number {
  const strip = (ws: string[], table: readonly string[]) => {
    const kept = ws.filter((w) => !table.includes(w));
    return kept.length > 0 ? kept : ws;
  };
  const a = strip(words(source), sourceTable);
  const b = strip(words(target), targetTable);
  const joinedA = a.join(' ');
  const joinedB = b.join(' ');
  if (joinedA === joinedB) return 1;
  const [small, large] = a.length <= b.length ? [a, b] : [b, a];
  // One name inside the other (`email`, `email address`), unless what the longer adds says it is another thing:
  // `created_by` is who, not when (`created_at`); `company_id` is a reference, not the company's name.
  const adds = large.filter((w) => !small.includes(w));
  if (
    small.length > 0 &&
    small.every((w) => large.includes(w)) &&
    !(small.length === 1 && GENERIC.has(small[0])) &&
    !adds.some((w) => OTHER_THING.has(w))
  )
    return 0.9;
  return similarity(joinedA, joinedB);
}
