import { describe, expect, it } from 'vitest';
import { CopyTextDecoder, encodeRow } from '../src/connectors/postgres/copy-text.js';
import { QualityTally } from '../src/engine/map/quality.js';
import { createRowMapper } from '../src/engine/map/row-mapper.js';
import type { TargetColumn } from '../src/engine/schema-check.js';
import { FitFailure, fitTarget } from '../src/engine/target-fit.js';
import { castValue } from '../src/mapping/cast.js';
import { enumLabels } from '../src/connectors/mysql/mysql-catalog.js';
import { findStep } from '../src/mapping/steps.js';
import type { LogicalType, Value } from '../src/values.js';
import { boundEntity } from './helpers/plans.js';

const step = (name: string, options?: unknown) => {
  const def = findStep(name);
  if (!def) throw new Error(`no step ${name}`);
  return def.create(def.options ? def.options.parse(options) : undefined);
};

describe('email rule', () => {
  const email = step('email');
  // [input, value, invalid?]
  const CASES: [Value, Value, boolean][] = [
    ['john@example.com', 'john@example.com', false],
    ['  John.Smith@Example.COM ', 'john.smith@example.com', false],
    ['JOHN@EXAMPLE.COM', 'john@example.com', false],
    ['first+tag@sub.example.co.uk', 'first+tag@sub.example.co.uk', false],
    ['', null, false],
    ['   ', null, false],
    [null, null, false],
    ['john.smith@', 'john.smith@', true],
    ['john at example.com', 'john@example.com', false],
    ['john@@example.com', 'john@example.com', false],
    ['n/a', 'n/a', true],
    ['john@example', 'john@example', true],
    ['john@127.0.0.1', 'john@127.0.0.1', true],
    // The display-name form mail clients copy: the address is kept, the removal counted (display_name_removed).
    ['John Smith <john@example.com>', 'john@example.com', false],
    ['a b@example.com', 'a b@example.com', true],
  ];
  it.each(CASES)('%j', (input, value, bad) => {
    const r = email(input);
    expect(r.value).toBe(value);
    expect(r.issues?.some((i) => i.kind === 'invalid') ?? false).toBe(bad);
  });
});

describe('text rules', () => {
  it.each([
    ['trim', '  a  b ', 'a  b'],
    ['collapse_spaces', '  a \t\n b ', 'a b'],
    ['lower', 'ÀB', 'àb'],
    ['upper', 'àb', 'ÀB'],
  ])('%s', (name, input, output) => expect(step(name)(input).value).toBe(output));

  it('leaves non-text values alone', () => {
    expect(step('trim')(42).value).toBe(42);
    expect(step('email')(null).value).toBe(null);
  });
});

describe('transforms', () => {
  it('join skips empty parts', () => {
    expect(step('join', ', ')(['1 Main St', null, '  ', 'Springfield', 12345]).value).toBe(
      '1 Main St, Springfield, 12345',
    );
    expect(step('join', ', ')([null, '']).value).toBe(null);
  });
  it('coalesce takes the first non-empty', () => expect(step('coalesce')([null, ' ', 'b', 'c']).value).toBe('b'));
  it('map matches exactly, then ignoring case and spaces, and flags the rest', () => {
    const map = step('map', { A: 'active', I: 'inactive' });
    expect(map('A').value).toBe('active');
    expect(map(' a ').value).toBe('active');
    expect(map('X').issues?.[0]?.code).toBe('unmapped_value');
    expect(map(null).value).toBe(null);
  });
  it('name parts', () => {
    expect(step('name.first')('Scott, Michael C.').value).toBe('Michael');
    expect(step('name.last')('Scott, Michael C.').value).toBe('Scott');
    expect(step('name.middle')('Scott, Michael C.').value).toBe('C.');
  });
});

describe('cast', () => {
  // [input, type, output, or the issue code]
  const CASES: [Value, LogicalType, Value | { code: string }][] = [
    ['42', 'integer', 42],
    [' -7 ', 'integer', -7],
    ['4.2', 'integer', { code: 'cast_failed' }],
    ['abc', 'integer', { code: 'cast_failed' }],
    ['3000000000', 'integer', { code: 'out_of_range' }],
    ['3000000000', 'bigint', 3000000000],
    ['92233720368547758070', 'bigint', { code: 'out_of_range' }],
    ['9007199254740993', 'bigint', 9007199254740993n],
    ['40000', 'smallint', { code: 'out_of_range' }],
    ['12.50', 'decimal', '12.50'],
    ['1e3', 'float', 1000],
    ['12,5', 'decimal', { code: 'cast_failed' }],
    ['yes', 'boolean', true],
    ['F', 'boolean', false],
    ['maybe', 'boolean', { code: 'cast_failed' }],
    ['2024-02-29', 'date', '2024-02-29'],
    ['2023-02-29', 'date', { code: 'cast_failed' }],
    ['2023-02-30', 'date', { code: 'cast_failed' }],
    ['0000-00-00', 'date', { code: 'cast_failed' }],
    ['2023-13-01', 'date', { code: 'cast_failed' }],
    ['2016-12-25 10:24:00', 'date', '2016-12-25'],
    ['2016-12-25T10:24:00Z', 'timestamp', '2016-12-25T10:24:00Z'],
    ['2016-12-25 25:00:00', 'timestamp', { code: 'cast_failed' }],
    ['12/25/2016', 'date', { code: 'cast_failed' }],
    [new Date('2020-01-02T03:04:05Z'), 'date', '2020-01-02'],
    [17, 'text', '17'],
    ['{"a":1}', 'json', '{"a":1}'],
    ['{a:1}', 'json', { code: 'cast_failed' }],
    ['3F2504E0-4F89-11D3-9A0C-0305E82C3301', 'uuid', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
    [null, 'integer', null],
    ['', 'text', ''],
  ];
  it.each(CASES)('%j as %s', (input, type, expected) => {
    const r = castValue(input, type);
    if (expected !== null && typeof expected === 'object' && 'code' in expected) {
      expect(r.issues?.[0]?.code).toBe(expected.code);
      expect(r.value).toBe(input);
    } else {
      expect(r.issues).toBeUndefined();
      expect(r.value).toEqual(expected);
    }
  });
  it.each([
    ['', 'integer'],
    ['  ', 'date'],
    ['\t', 'boolean'],
    ['', 'json'],
  ] as const)('%j as %s is NULL, reported as the fix empty_to_null', (input, type) => {
    expect(castValue(input, type)).toEqual({ value: null, issues: [{ code: 'empty_to_null', kind: 'fixed' }] });
  });
});

describe('MySQL enum labels', () => {
  it.each([
    ["enum('lead','customer')", ['lead', 'customer']],
    ["enum('it''s','a,b','')", ["it's", 'a,b', '']],
  ])('%s', (type, labels) => expect(enumLabels(type)).toEqual(labels));
});

describe('target fit', () => {
  const col = (type: LogicalType, extra: Partial<TargetColumn> = {}): TargetColumn => ({
    name: 'c',
    type,
    nullable: true,
    ...extra,
  });
  it.each([
    [null, col('text', { nullable: false }), 'not_null'],
    ['abcdef', col('text', { maxLength: 5 }), 'too_long'],
    ['ééééé', col('text', { maxLength: 5 }), null],
    ['😀😀😀', col('text', { maxLength: 3 }), null],
    ['😀😀😀😀', col('text', { maxLength: 3 }), 'too_long'],
    ['12x', col('integer'), 'type_mismatch'],
    ['99999', col('smallint'), 'out_of_range'],
    ['2023-02-30', col('date'), 'type_mismatch'],
    [12, col('text', { maxLength: 2 }), null],
    [42, col('integer'), null],
    [3000000000, col('integer'), 'out_of_range'],
    [3000000000, col('bigint'), null],
    [4.5, col('integer'), 'type_mismatch'],
    ['7', col('integer'), null],
    ['lead', col('text', { labels: { values: ['lead', 'customer'], caseInsensitive: false } }), null],
    ['Lead', col('text', { labels: { values: ['lead', 'customer'], caseInsensitive: false } }), 'not_in_enum'],
    ['Lead  ', col('text', { labels: { values: ['lead', 'customer'], caseInsensitive: true } }), null],
    ['prospect', col('text', { labels: { values: ['lead', 'customer'], caseInsensitive: true } }), 'not_in_enum'],
    [1.7e308, col('float', { singlePrecision: true }), 'out_of_range'],
    [-3.5e38, col('float', { singlePrecision: true }), 'out_of_range'],
    [3.4e38, col('float', { singlePrecision: true }), null],
    [1.7e308, col('float'), null],
  ] as [Value, TargetColumn, string | null][])('%j', (value, column, code) => {
    const fit = fitTarget(value, column);
    expect(fit instanceof FitFailure ? fit.code : null).toBe(code);
  });
});

describe('row mapper', () => {
  const bound = boundEntity(
    `      id: id
      last_name: { from: name, transform: name.last }
      email_q: { from: email, clean: email }
      email_n: { from: email, clean: email, invalid: null }
      email_k: { from: email, clean: email, invalid: keep }
      email_d: { from: email, clean: email, invalid: default, default: "unknown@example.com" }
      status: { from: status, transform: { map: { A: active } }, invalid: null, default: unknown }
      origin: { value: legacy }
`,
    ['id', 'name', 'email', 'status'],
    (target) => (target === 'last_name' ? { nullable: false, maxLength: 10 } : {}),
  );
  const mapper = createRowMapper(bound, new QualityTally(bound.plan.fields.map((f) => f.target)));
  const map = (row: Value[]) => {
    const reasons: { field: string; rule: string; code: string }[] = [];
    const values = mapper(row, reasons);
    return { values, reasons: reasons.length > 0 ? reasons : null };
  };

  it('writes a clean row with every policy applied', () => {
    expect(map([1, 'Scott, Michael C.', ' M@X.COM ', 'A'])).toEqual({
      values: [1, 'Scott', 'm@x.com', 'm@x.com', 'm@x.com', 'm@x.com', 'active', 'legacy'],
      reasons: null,
    });
  });

  it('applies quarantine, null, keep and default to a bad email; all reasons are listed', () => {
    const r = map([2, null, 'bad@', 'Z']);
    expect(r.reasons).toEqual([
      { field: 'last_name', rule: 'target', code: 'not_null' },
      { field: 'email_q', rule: 'email', code: 'invalid_email' },
    ]);
    expect(r.values.slice(3, 7)).toEqual([null, 'bad@', 'unknown@example.com', 'unknown']);
  });

  it('quarantines a value too long for its column instead of truncating it', () => {
    expect(map([3, 'Bartholomew-Montgomery', null, 'A']).reasons).toEqual([
      { field: 'last_name', rule: 'target', code: 'too_long' },
    ]);
  });
});

describe('a name of one word (single_word)', () => {
  const mapperOf = (first: string, last = 'name.last') => {
    const bound = boundEntity(
      `      id: id
      first_name: { from: name, transform: ${first} }
      last_name: { from: name, transform: ${last} }
`,
      ['id', 'name'],
    );
    const mapper = createRowMapper(bound, new QualityTally(bound.plan.fields.map((f) => f.target)));
    return (name: string | null) => mapper([1, name], []).slice(1);
  };
  const asLast = mapperOf('name.first');
  const asFirst = mapperOf('{ name.first: { single_word: first } }');
  it.each([
    // [name, by default (a last name, as CRMs require one), with single_word: first]
    ['Madonna', [null, 'Madonna'], ['Madonna', null]],
    ['PRIYA', [null, 'PRIYA'], ['PRIYA', null]],
    ['John Smith', ['John', 'Smith'], ['John', 'Smith']],
    ['Smith, John', ['John', 'Smith'], ['John', 'Smith']],
    // A surname with its title, written as a surname, or with particles: a surname still.
    ['Dr. Smith', [null, 'Smith'], [null, 'Smith']],
    ['Smith,', [null, 'Smith'], [null, 'Smith']],
    ['van der Berg', [null, 'van der Berg'], [null, 'van der Berg']],
    ['van Dijk', [null, 'van Dijk'], [null, 'van Dijk']],
    ['Smith Jr.', [null, 'Smith'], [null, 'Smith']],
  ] as [string, Value[], Value[]][])('%s', (name, byDefault, given) => {
    expect(asLast(name)).toEqual(byDefault);
    expect(asFirst(name)).toEqual(given);
  });
  it('holds for every part of the column when given on one, and refuses two that disagree', () => {
    expect(mapperOf('name.first', '{ name.last: { single_word: first } }')('Cher')).toEqual(['Cher', null]);
    expect(() => mapperOf('{ name.first: { single_word: first } }', '{ name.last: { single_word: last } }')).toThrow(
      /the name parts of name disagree on single_word \(first and last\)/,
    );
  });
});

describe('COPY text codec', () => {
  const ugly: Value[][] = [
    [1, 'plain', null, true, 'tab\there', 'new\nline', 'back\\slash', 'cr\rx', '\\N', '', 'ünïcødé 😀'],
    [2, '\\x41', 'end\\', false, '\t', '\n\n', 'a\\tb', ' ', 'N', '"quoted"', 'null'],
  ];
  it('round-trips every ugly string, split at every byte boundary', () => {
    const bytes = Buffer.from(ugly.map(encodeRow).join(''), 'utf8');
    for (const cut of [1, 2, 3, 7, 50, bytes.length]) {
      const decoder = new CopyTextDecoder(ugly[0]?.map(() => (f: string) => f) ?? []);
      const rows: Value[][] = [];
      for (let i = 0; i < bytes.length; i += cut) decoder.push(bytes.subarray(i, i + cut), (r) => rows.push(r));
      decoder.end();
      expect(rows).toEqual(
        ugly.map((r) => r.map((v) => (v === null ? null : v === true ? 't' : v === false ? 'f' : String(v)))),
      );
    }
  });
});

describe('the common-address fast path of the email rule', () => {
  // Every address the fast path accepts must be one validator.js accepts: the fast path may only skip work.
  it('accepts nothing that validator.isEmail rejects (20,000 generated near-misses)', async () => {
    const { EMAIL_OPTIONS } = await import('../src/cleaning/email.js');
    const { COMMON_EMAIL, isCommonEmail } = await import('../src/cleaning/common-email.js');
    const validator = (await import('validator')).default;
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const ugly = 'abcxyz0129.-_+@!#$%&\'*/=?^`{|}~"() ,;:\\[]é';
    const plain = 'abcdefxyz0129.-';
    const piece = (max: number) => {
      const alphabet = rnd() < 0.5 ? plain : ugly;
      return Array.from({ length: Math.floor(rnd() * max) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(
        '',
      );
    };
    const labels = () =>
      Array.from({ length: 1 + Math.floor(rnd() * 3) }, () =>
        rnd() < 0.1 ? 'a'.repeat(62 + Math.floor(rnd() * 4)) : piece(8),
      ).join('.');
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const candidate = `${rnd() < 0.05 ? 'x'.repeat(60 + Math.floor(rnd() * 10)) : piece(12)}@${labels()}.${rnd() < 0.8 ? 'com' : piece(4)}`;
      // The scanner that runs per row answers as the expression that defines it, on every candidate.
      expect([candidate, isCommonEmail(candidate)]).toEqual([candidate, COMMON_EMAIL.test(candidate)]);
      if (COMMON_EMAIL.test(candidate)) {
        fast += 1;
        expect([candidate, validator.isEmail(candidate, EMAIL_OPTIONS)]).toEqual([candidate, true]);
      }
    }
    expect(fast).toBeGreaterThan(500);
    const long = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`;
    expect(long.length).toBeGreaterThan(254);
    expect(COMMON_EMAIL.test(long)).toBe(false);
  });

  it.each([
    ['a@b.co', true],
    ['a@b.c', false],
    ['ab@b.c1', false],
    ['a.b@x.org', true],
    ['.a@x.org', false],
    ['a.@x.org', false],
    ['a..b@x.org', false],
    ['@x.org.com', false],
    ['a@-x.org', false],
    ['a@x-.org', false],
    ['a@x-y.org', true],
    ['a@x..org', false],
    ['a@.x.org', false],
    ['a@x.org.', false],
    ['a@org', false],
    ['a@1.2.3.com', true],
    ['a@b@c.com', false],
    ['A@b.com', false],
    ['a@B.com', false],
    ['a b@c.com', false],
    ['jörg@x.de', false],
    ['a@x.c0m', false],
    ["o'brien+crm@x.ie", true],
    ['{}|~^`@x.io', true],
    ['a\n@x.org', false],
    [`${'a'.repeat(64)}@x.org`, true],
    [`${'a'.repeat(65)}@x.org`, false],
    [`a@${'b'.repeat(63)}.org`, true],
    [`a@${'b'.repeat(64)}.org`, false],
    [`a@b.${'c'.repeat(63)}`, true],
    [`a@b.${'c'.repeat(64)}`, false],
    // 254 characters in all at most: 64 + 1 + 189, then one more.
    [`${'a'.repeat(64)}@${'b.'.repeat(93)}com`, true],
    [`${'a'.repeat(64)}@${'b.'.repeat(93)}coma`, false],
    [`a@${'b.'.repeat(124)}coma`, true],
    [`a@${'b.'.repeat(125)}com`, false],
  ])('the per-row scanner reads %j as the expression does (%s)', async (address, expected) => {
    const { COMMON_EMAIL, isCommonEmail } = await import('../src/cleaning/common-email.js');
    expect(COMMON_EMAIL.test(address)).toBe(expected);
    expect(isCommonEmail(address)).toBe(expected);
  });
});
