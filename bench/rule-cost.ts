import { parseArgs } from 'node:util';
import '../src/mapping/compile.js';
import { findStep } from '../src/mapping/steps.js';
import type { Value } from '../src/values.js';
import { legacyCustomerLines } from './legacy-customers.js';

/**
 * npm run bench:rules [-- --rows N --passes P]
 * What the seed mapping's rules, and bench:clean's person_name and phone rules, cost a row on their own, on the realistic legacy customers of `npm run bench`:
 * the fields as the COPY decoder hands them (slices of a chunk's text, made afresh each pass, so no hash or
 * flattening is cached from an earlier one), beside decoding alone in the same run. The fastest of P passes
 * (a CPU-bound loop on a noisy machine: the minimum is the figure least disturbed). Nothing is read from or
 * written to a database: this isolates the rules from the engine and the servers.
 */
const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, passes: { type: 'string', default: '15' } },
});
const ROWS = Number(values.rows);
const PASSES = Number(values.passes);

const chunks: Buffer[] = [];
let lines: string[] = [];
for (const line of legacyCustomerLines(ROWS)) {
  lines.push(line);
  if (lines.length === 1000) {
    chunks.push(Buffer.from(lines.join('')));
    lines = [];
  }
}
if (lines.length > 0) chunks.push(Buffer.from(lines.join('')));

const step = (name: string, options?: unknown) => {
  const definition = findStep(name);
  if (!definition) throw new Error(`no step ${name}`);
  return definition.create(options) as (input: Value) => { value: Value };
};
// As the plan compiler sets them for first_name and last_name split from one column.
const first = step('name.first');
const last = step('name.last', { dropped: ['honorific', 'middle', 'suffix', 'nickname', 'partner'] });
const email = step('email');
// As bench:clean's cleaning plan has them.
const phone = step('phone', { country: 'US' });
const personName = step('person_name');

type Use = (name: string, email: string | null, phone: string | null) => number;

/** One pass over every row: the name, email and phone fields sliced from each chunk's text, handed to `use`. */
function pass(use: Use): number {
  let sink = 0;
  for (const chunk of chunks) {
    const text = chunk.toString('utf8');
    let start = 0;
    let end = text.indexOf('\n', start);
    while (end !== -1) {
      const afterId = text.indexOf('\t', start);
      const afterName = text.indexOf('\t', afterId + 1);
      const afterEmail = text.indexOf('\t', afterName + 1);
      const address = text.slice(afterName + 1, afterEmail);
      const number = text.slice(afterEmail + 1, end);
      sink += use(
        text.slice(afterId + 1, afterName),
        address === '\\N' ? null : address,
        number === '\\N' ? null : number,
      );
      start = end + 1;
      end = text.indexOf('\n', start);
    }
  }
  return sink;
}

function fastest(use: Use): number {
  let best = Infinity;
  for (let i = 0; i < PASSES; i++) {
    const started = performance.now();
    pass(use);
    best = Math.min(best, performance.now() - started);
  }
  return (best * 1e6) / ROWS;
}

const decoding = fastest((name) => name.length);
const names = fastest((name) => (first(name).value === null ? 0 : 1) + (last(name).value === null ? 0 : 1));
const properNames = fastest(
  (name) =>
    (personName(first(name).value).value === null ? 0 : 1) + (personName(last(name).value).value === null ? 0 : 1),
);
const emails = fastest((_name, address) => (email(address).value === null ? 0 : 1));
const phones = fastest((_name, _address, number) => (phone(number).value === null ? 0 : 1));
const ns = (n: number) => `${n.toFixed(0)} ns`;
console.log(`rows: ${ROWS.toLocaleString('en-US')}, fastest of ${PASSES} passes, ns a row`);
console.log(`decoding alone (slicing the fields): ${ns(decoding)}`);
console.log(`name.first + name.last: ${ns(names - decoding)} beyond decoding`);
console.log(`the same, each part then cleaned by person_name: ${ns(properNames - names)} beyond the two parts`);
console.log(`email rule: ${ns(emails - decoding)} beyond decoding`);
console.log(`phone rule (country: US): ${ns(phones - decoding)} beyond decoding`);
