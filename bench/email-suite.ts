import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import '../src/mapping/compile.js';
import { findStep, type StepResult } from '../src/mapping/steps.js';

/**
 * npm run bench:emails -- --suite PATH/TO/tests.xml [--misses]
 * Scores the `email` rule on a public suite nobody on the project wrote: Dominic Sayers' is_email test cases
 * (github.com/dominicsayers/isemail, test/tests.xml; the same file ships in the email-addresses npm package as
 * test/tests.xml). Not copied into the repo: point --suite at the file.
 *
 * What counts as right, for a CRM that stores a mailbox to send to: an address the suite calls valid is kept,
 * with no change but trimming and lower case; every address it calls an error, deprecated, or valid only under
 * RFC 5322 or 5321's corners (quoted local parts, IP literals, comments, folding white space, a bare TLD) is
 * never stored as given: it is reported invalid, or cleaned into a plain address (white space and line breaks
 * around it trimmed) with the change reported. Both are printed apart. The DNS-warning cases are syntactically
 * valid and depend on a lookup at the time of writing: listed, not scored.
 */
const { values } = parseArgs({
  options: { suite: { type: 'string' }, misses: { type: 'boolean', default: false } },
});
if (!values.suite) {
  console.error('usage: npm run bench:emails -- --suite PATH/TO/isemail/test/tests.xml [--misses]');
  process.exit(2);
}

interface Case {
  readonly id: string;
  readonly address: string;
  readonly category: string;
}

/**
 * The suite's text as written: XML entities decoded, and its convention for control characters (U+2400 + the
 * code, "SYMBOL FOR …", since XML cannot hold them; U+2421 for DEL) turned back into the characters.
 */
function decode(text: string): string {
  return text
    .replace(/&#x([0-9a-fA-F]+);/g, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_m, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/[\u2400-\u241f]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x2400))
    .replace(/\u2421/g, '\u007f');
}

function cases(xml: string): Case[] {
  const found: Case[] = [];
  for (const m of xml.matchAll(/<test id="([^"]+)">([\s\S]*?)<\/test>/g)) {
    const body = m[2] ?? '';
    const address = /<address\/>/.test(body) ? '' : (/<address>([\s\S]*?)<\/address>/.exec(body)?.[1] ?? '');
    const category = /<category>([^<]+)<\/category>/.exec(body)?.[1] ?? '';
    found.push({ id: m[1] ?? '', address: decode(address), category });
  }
  return found;
}

const definition = findStep('email');
if (!definition) throw new Error('no email step');
const rule = definition.create(undefined) as (input: string) => StepResult;

type Verdict = 'kept' | 'normalized' | 'changed' | 'repaired' | 'rejected' | 'empty';
function verdict(address: string): { verdict: Verdict; detail: string } {
  const result = rule(address);
  const codes = (result.issues ?? []).map((i) => `${i.kind}:${i.code}`).join(',');
  if (result.issues?.some((i) => i.kind === 'invalid')) return { verdict: 'rejected', detail: codes };
  if (result.value === null) return { verdict: 'empty', detail: '' };
  if (result.value === address) return { verdict: 'kept', detail: codes };
  if (result.value === address.trim().toLowerCase()) return { verdict: 'normalized', detail: codes };
  const repairs = (result.issues ?? []).filter((i) => i.kind === 'fixed' && i.code !== 'normalized');
  return { verdict: repairs.length > 0 ? 'repaired' : 'changed', detail: codes };
}

const all = cases(readFileSync(values.suite, 'utf8'));
const good = all.filter((c) => c.category === 'ISEMAIL_VALID_CATEGORY');
const dns = all.filter((c) => c.category === 'ISEMAIL_DNSWARN');
const junk = all.filter((c) => !good.includes(c) && !dns.includes(c));
const show = (c: Case) => JSON.stringify(c.address);
const misses: string[] = [];

let goodRight = 0;
for (const c of good) {
  const v = verdict(c.address);
  if (v.verdict === 'kept' || v.verdict === 'normalized') goodRight += 1;
  else misses.push(`valid #${c.id} ${show(c)}: ${v.verdict} ${v.detail}`);
}
let junkRight = 0;
let cleanedJunk = 0;
/** A stored value a mail server takes as it is: no white space, no control character, one @. */
const plain = (value: unknown) =>
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  typeof value === 'string' && !/[\s\u0000-\u001f\u007f]/.test(value) && value.split('@').length === 2;
const byCategory = new Map<string, { n: number; right: number }>();
for (const c of junk) {
  const v = verdict(c.address);
  // An empty value is a missing address (the suite's one empty case): nothing is stored, nothing is wrong.
  const cleaned = (v.verdict === 'normalized' || v.verdict === 'repaired') && plain(rule(c.address).value);
  const right = v.verdict === 'rejected' || v.verdict === 'empty' || cleaned;
  if (cleaned) cleanedJunk += 1;
  const tally = byCategory.get(c.category) ?? { n: 0, right: 0 };
  tally.n += 1;
  if (right) tally.right += 1;
  byCategory.set(c.category, tally);
  if (right) junkRight += 1;
  else misses.push(`${c.category} #${c.id} ${show(c)}: ${v.verdict} ${v.detail}`);
}
const dnsVerdicts = dns.map((c) => `#${c.id} ${show(c)} ${verdict(c.address).verdict}`);
const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)} %`;

console.log(`email rule on is_email's suite: ${all.length} cases`);
console.log(
  `  valid addresses kept (at most trimmed and lower-cased): ${goodRight}/${good.length} (${pct(goodRight, good.length)})`,
);
console.log(
  `  other addresses never stored as given: ${junkRight}/${junk.length} (${pct(junkRight, junk.length)}): ${junkRight - cleanedJunk} rejected, ${cleanedJunk} cleaned into a plain address with the change reported`,
);
for (const [category, t] of [...byCategory].sort())
  console.log(`    ${category.padEnd(24)} ${String(t.right).padStart(3)}/${t.n}`);
console.log(`  DNS warnings (not scored): ${dnsVerdicts.join('; ')}`);
console.log(
  `  right overall: ${pct(goodRight + junkRight, good.length + junk.length)} of ${good.length + junk.length} scored`,
);
if (values.misses) for (const m of misses) console.log(`  miss: ${m}`);
else if (misses.length > 0) console.log(`  ${misses.length} misses: --misses lists them`);
