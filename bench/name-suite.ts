import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parsePersonName, type PersonName } from '../src/mapping/person-name.js';
import { properCaseName } from '../src/cleaning/person-name-rule.js';

/**
 * npm run bench:names -- --suite PATH/TO/python-nameparser/tests.py
 * Scores the name parser on a public suite nobody on the project wrote: the test cases of python-nameparser
 * (github.com/derek73/python-nameparser, tests.py). The suite is not shipped here (its licence, and the rule
 * that we do not copy another project's tests); clone it and point --suite at the file. Each
 * `HumanName("…")` with its `self.m(hn.first, "…", hn)` assertions is a case (those built with constants of
 * their own are left out); each `capitalize()` with its expected string is a casing case, scored against the
 * `person_name` rule. Prints the share right per field, and lists the misses with --misses.
 */
const { values } = parseArgs({
  options: { suite: { type: 'string' }, misses: { type: 'boolean', default: false } },
});
if (!values.suite) {
  console.error('usage: npm run bench:names -- --suite PATH/TO/python-nameparser/tests.py [--misses]');
  process.exit(2);
}

/** Fields of nameparser's HumanName and ours. */
const FIELDS = {
  title: 'honorific',
  first: 'first',
  middle: 'middle',
  last: 'last',
  suffix: 'suffix',
  nickname: 'nickname',
} as const;
type Field = (typeof FIELDS)[keyof typeof FIELDS];

/** A Python string literal's value: '…' or "…", with b'…' bytes read as UTF-8. */
function pythonString(literal: string): string {
  const bytes = literal.startsWith('b');
  const body = literal.slice(bytes ? 2 : 1, -1);
  const escaped = body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)/g, (_m, e: string) =>
    e[0] === 'x' || e[0] === 'u' ? String.fromCharCode(parseInt(e.slice(1), 16)) : e,
  );
  return bytes ? Buffer.from(escaped, 'latin1').toString('utf8') : escaped;
}

const STRING = `(b?(?:"(?:[^"\\\\]|\\\\.)*"|'(?:[^'\\\\]|\\\\.)*'))`;
const NEW_NAME = new RegExp(
  `^\\s*hn(?:\\.full_name)?\\s*=\\s*HumanName\\(${STRING}(.*)\\)\\s*$|^\\s*hn\\.full_name\\s*=\\s*${STRING}\\s*$`,
);
const ASSERT = new RegExp(`^\\s*self\\.m\\(hn\\.(\\w+),\\s*${STRING},\\s*hn\\)`);
const CAPITALIZED = new RegExp(`^\\s*self\\.m\\((?:str|u)\\(hn\\),\\s*${STRING},\\s*hn\\)`);

interface Case {
  readonly input: string;
  readonly expected: Partial<Record<Field, string>>;
}
const cases: Case[] = [];
const casing: [string, string][] = [];
let current: Case | undefined;
let capitalized = false;
for (const line of readFileSync(values.suite, 'utf8').split('\n')) {
  const named = NEW_NAME.exec(line);
  if (named) {
    const literal = named[1] ?? named[3];
    // A case built with constants of its own tests those constants, not the parse.
    current = literal && !/constants/.test(named[2] ?? '') ? { input: pythonString(literal), expected: {} } : undefined;
    if (current) cases.push(current);
    capitalized = false;
    continue;
  }
  // A new test, a HumanName built otherwise (keywords, no text), or a part set by hand ends the case.
  if (/^\s*def |hn\s*=\s*HumanName\(|^\s*hn\.(?!full_name)\w+\s*=/.test(line)) current = undefined;
  if (/hn\.capitalize\(\)/.test(line)) capitalized = !/force=True/.test(line);
  const cased = CAPITALIZED.exec(line);
  if (cased?.[1] && current && capitalized) casing.push([current.input, pythonString(cased[1])]);
  const assertion = ASSERT.exec(line);
  const field = assertion?.[1] as keyof typeof FIELDS | undefined;
  if (assertion?.[2] && current && field && field in FIELDS)
    current.expected[FIELDS[field]] = pythonString(assertion[2]);
}
const scored = cases.filter((c) => Object.keys(c.expected).length > 0);

// Suffixes are compared without their separating commas: "QC, MP" and "QC MP" say the same.
const norm = (field: Field, v: string | null | undefined) =>
  (v ?? '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(field === 'suffix' ? /,/g : /$^/, '');
const tally = new Map<Field, { right: number; all: number }>();
let both = 0;
let bothAll = 0;
const misses: string[] = [];
for (const c of scored) {
  const got: PersonName = parsePersonName(c.input);
  let ok = true;
  for (const [field, want] of Object.entries(c.expected) as [Field, string][]) {
    const t = tally.get(field) ?? { right: 0, all: 0 };
    tally.set(field, t);
    t.all += 1;
    if (norm(field, got[field]) === norm(field, want)) t.right += 1;
    else ok = false;
  }
  if ('first' in c.expected || 'last' in c.expected) {
    bothAll += 1;
    if ((['first', 'last'] as const).every((f) => !(f in c.expected) || norm(f, got[f]) === norm(f, c.expected[f])))
      both += 1;
  }
  if (!ok) misses.push(`${JSON.stringify(c.input)}: expected ${JSON.stringify(c.expected)}`);
}
const pct = (r: number, a: number) => `${r}/${a} (${((100 * r) / Math.max(a, 1)).toFixed(1)} %)`;
console.log(`python-nameparser's cases: ${scored.length}`);
console.log(`first and last both right: ${pct(both, bothAll)}`);
for (const field of Object.values(FIELDS)) {
  const t = tally.get(field);
  if (t) console.log(`  ${field.padEnd(9)} ${pct(t.right, t.all)}`);
}
const casedRight = casing.filter(([input, want]) => properCaseName(input) === want).length;
console.log(`casing (the person_name rule): ${pct(casedRight, casing.length)}`);
if (values.misses) for (const m of misses) console.log(`miss ${m}`);
