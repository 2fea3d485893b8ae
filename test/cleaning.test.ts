import { describe, expect, it } from 'vitest';
import { MAX_DETAILS, QualityTally, OUTCOMES } from '../src/engine/map/quality.js';
import { createRowMapper } from '../src/engine/map/row-mapper.js';
import { parsePlan } from '../src/plan/load.js';
import '../src/mapping/compile.js';
import { findStep, type StepContext } from '../src/mapping/steps.js';
import type { Reason } from '../src/connectors/contract.js';
import type { TargetColumn } from '../src/engine/schema-check.js';
import { collapseSpaces, type Value } from '../src/values.js';
import { boundEntity } from './helpers/plans.js';

const rule = (name: string, options?: unknown) => {
  const def = findStep(name);
  if (!def) throw new Error(`no rule ${name}`);
  return def.create(def.options ? def.options.parse(options) : undefined);
};

/** [input, expected value, expected codes ("kind:code")] */
type Case = [Value, Value, string[]];
const codes = (r: { issues?: readonly { code: string; kind: string }[] | undefined }) =>
  (r.issues ?? []).map((i) => `${i.kind}:${i.code}`);

function table(name: string, options: unknown, cases: Case[], context?: StepContext) {
  describe(`${name} ${options === undefined ? '' : JSON.stringify(options)}`, () => {
    const run = rule(name, options);
    it.each(cases)('%j', (input, value, expected) => {
      const r = run(input, context);
      expect([r.value, codes(r)]).toEqual([value, expected]);
    });
  });
}

table('email', undefined, [
  [' John.Smith@Example.COM ', 'john.smith@example.com', ['fixed:normalized']],
  ['john@example.com', 'john@example.com', []],
  ['john at example.com', 'john@example.com', ['fixed:at_fixed']],
  ['john@@example.com', 'john@example.com', ['fixed:double_at_fixed']],
  ['john@gmial.com', 'john@gmial.com', ['flag:domain_typo']],
  ['john.smith@', 'john.smith@', ['invalid:invalid_email']],
  ['n/a', 'n/a', ['invalid:invalid_email']],
  ['', null, []],
  [null, null, []],
]);
table('email', { fix: 'domains', disposable: 'flag' }, [
  ['john@gmial.com', 'john@gmail.com', ['fixed:domain_typo_fixed']],
  ['Jane@YAHO.COM', 'jane@yahoo.com', ['fixed:normalized', 'fixed:domain_typo_fixed']],
  ['x@acme-corp.com', 'x@acme-corp.com', []],
  ['temp@mailinator.com', 'temp@mailinator.com', ['flag:disposable_domain']],
]);
table('email', { disposable: 'invalid' }, [
  ['temp@mailinator.com', 'temp@mailinator.com', ['invalid:disposable_domain']],
]);

table('phone', { country: 'US' }, [
  ['(415) 555-2671', '+14155552671', ['fixed:formatted']],
  ['415.555.2671', '+14155552671', ['fixed:formatted']],
  ['+1 415 555 2671', '+14155552671', ['fixed:formatted']],
  ['+14155552671', '+14155552671', []],
  ['415-555-2671 x12', '+14155552671;ext=12', ['fixed:formatted']],
  ['+44 20 7946 0958', '+442079460958', ['fixed:formatted']],
  ['N/A', 'N/A', ['invalid:not_a_phone']],
  ['call office', 'call office', ['invalid:not_a_phone']],
  ['000-000-0000', '000-000-0000', ['invalid:placeholder']],
  ['12', '12', ['invalid:too_short']],
  ['555-0100', '555-0100', ['invalid:too_short']],
  ['(209)172-7124', '(209)172-7124', ['invalid:invalid_phone']],
  ['', null, []],
  [null, null, []],
  [4155552671, '+14155552671', ['fixed:formatted']],
  // Decimal digits of any script are digits: full-width (as Japanese and Chinese input methods type them),
  // Arabic-Indic, Devanagari.
  ['（４１５）５５５－２６７１', '+14155552671', ['fixed:formatted']],
  ['＋１４１５５５５２６７１', '+14155552671', ['fixed:formatted']],
  ['٤١٥٥٥٥٢٦٧١', '+14155552671', ['fixed:formatted']],
  ['+४४ २० ७९४६ ०९५८', '+442079460958', ['fixed:formatted']],
  ['０００－０００－００００', '０００－０００－００００', ['invalid:placeholder']],
]);
// Full metadata: a number must lie in a range its region assigns, not only have a possible length.
table('phone', { country: 'DE' }, [
  ['030 12345678', '+493012345678', ['fixed:formatted']],
  ['0151 23456789', '+4915123456789', ['fixed:formatted']],
  ['0100 1234567', '0100 1234567', ['invalid:invalid_phone']],
  ['+55 10 12345-6789', '+55 10 12345-6789', ['invalid:invalid_phone']],
  ['+55 11 91234-5678', '+5511912345678', ['fixed:formatted']],
  ['+86 123 4567 8901', '+86 123 4567 8901', ['invalid:invalid_phone']],
  ['+86 138 0013 8000', '+8613800138000', ['fixed:formatted']],
  ['+44 7400 123456', '+447400123456', ['fixed:formatted']],
]);
// `unassigned: flag`: a possible number in no assigned range is written, flagged for someone to check;
// junk and wrong lengths stay invalid.
table('phone', { country: 'US', unassigned: 'flag' }, [
  ['(861) 354-2170', '+18613542170', ['flag:unassigned_range']],
  ['(209)172-7124', '+12091727124', ['flag:unassigned_range']],
  ['(415) 555-2671', '+14155552671', ['fixed:formatted']],
  ['+49 0100 1234567', '+491001234567', ['flag:unassigned_range']],
  ['555-0100', '555-0100', ['invalid:too_short']],
  ['000-000-0000', '000-000-0000', ['invalid:placeholder']],
  ['N/A', 'N/A', ['invalid:not_a_phone']],
]);
table('phone', { country: 'US', unassigned: 'flag', format: 'country' }, [['(415) 555-2671', 'US', []]]);
// Internationalised domains, written one way when the plan says which; kept as written when it does not.
table('email', { idn: 'ascii' }, [
  ['José@Bücher.de', 'josé@xn--bcher-kva.de', ['fixed:normalized', 'fixed:idn_encoded']],
  ['info@xn--bcher-kva.de', 'info@xn--bcher-kva.de', []],
  ['ann@acme.com', 'ann@acme.com', []],
  ['li@例子.中国', 'li@xn--fsqu00a.xn--fiqs8s', ['fixed:idn_encoded']],
  ['ivan@пример.рф', 'ivan@xn--e1afmkfd.xn--p1ai', ['fixed:idn_encoded']],
  ['x@xn--zz.de', 'x@xn--zz.de', ['invalid:invalid_email']],
]);
table('email', { idn: 'unicode' }, [
  ['info@xn--bcher-kva.de', 'info@bücher.de', ['fixed:idn_decoded']],
  ['info@bücher.de', 'info@bücher.de', []],
  ['ann@acme.com', 'ann@acme.com', []],
]);
table('email', undefined, [
  ['info@bücher.de', 'info@bücher.de', []],
  ['info@xn--bcher-kva.de', 'info@xn--bcher-kva.de', []],
]);
table('phone', { country: 'US', format: 'international' }, [
  ['(415) 555-2671', '+1 415 555 2671', ['fixed:formatted']],
]);
table('phone', { country: 'US', format: 'national' }, [['+1 415 555 2671', '(415) 555-2671', ['fixed:formatted']]]);
// Its parts, for CRMs that keep them in columns of their own: derived from a valid number, not corrections.
table('phone', { country: 'US', format: 'country' }, [
  ['(415) 555-2671', 'US', []],
  ['+44 20 7946 0958', 'GB', []],
  ['+800 1234 5678', '+800 1234 5678', ['invalid:no_country']],
  ['555-0100', '555-0100', ['invalid:too_short']],
]);
table('phone', { country: 'US', format: 'calling_code' }, [
  ['(415) 555-2671', '1', []],
  ['+44 20 7946 0958', '44', []],
  ['（４１５）５５５－２６７１', '1', []],
]);
table('phone', { country: 'DE', format: 'national_number' }, [
  ['030 1234567', '301234567', []],
  ['+1 415 555 2671 ext. 12', '4155552671', []],
]);
table('phone', { country: 'US', format: 'extension' }, [
  ['415-555-2671 ext. 12', '12', []],
  ['(415) 555-2671', null, []],
  ['n/a', 'n/a', ['invalid:not_a_phone']],
]);
table('phone', { country: 'US', country_from: 'country' }, [['030 1234567', '+49301234567', ['fixed:formatted']]], {
  get: () => 'Germany',
});

table('person_name', undefined, [
  // A surname spelled as an Object member is a name like any other (an object-literal lookup returned a function).
  ['CONSTRUCTOR SMITH', 'Constructor Smith', ['fixed:case_repaired']],
  ['ann hasownproperty', 'Ann Hasownproperty', ['fixed:case_repaired']],
  ["SCOTT O'BRIEN-MCDONALD", "Scott O'Brien-McDonald", ['fixed:case_repaired']],
  ['juan de la cruz', 'Juan de la Cruz', ['fixed:case_repaired']],
  ['JAN VAN DER BERG', 'Jan van der Berg', ['fixed:case_repaired']],
  ['VAN MORRISON', 'Van Morrison', ['fixed:case_repaired']],
  ['JOHN SMITH III', 'John Smith III', ['fixed:case_repaired']],
  ['MARY SMITH, PHD', 'Mary Smith, PhD', ['fixed:case_repaired']],
  ["d'angelo, maria", "D'Angelo, Maria", ['fixed:case_repaired']],
  ['John McDonald', 'John McDonald', []],
  // Mac- surnames take a capital after Mac; names that only begin so do not.
  ['RONALD MACDONALD', 'Ronald MacDonald', ['fixed:case_repaired']],
  ['fiona macleod', 'Fiona MacLeod', ['fixed:case_repaired']],
  ['MACKENZIE MACK', 'Mackenzie Mack', ['fixed:case_repaired']],
  ['MACY MACHADO', 'Macy Machado', ['fixed:case_repaired']],
  ['Shirley Maclaine', 'Shirley Maclaine', []],
  ['DONOVAN MCNABB-SMITH', 'Donovan McNabb-Smith', ['fixed:case_repaired']],
  ['ZOË ØSTERGAARD', 'Zoë Østergaard', ['fixed:case_repaired']],
  ['  JOHN   SMITH ', 'John Smith', ['fixed:case_repaired']],
  ['eBay Smith', 'eBay Smith', []],
  ['Ng', 'Ng', []],
  ['NG', 'Ng', ['fixed:case_repaired']],
  ['o', 'O', ['fixed:case_repaired']],
  ['Søren KIERKEGAARD', 'Søren KIERKEGAARD', []],
  ['SØREN', 'Søren', ['fixed:case_repaired']],
  ['mary-jane', 'Mary-Jane', ['fixed:case_repaired']],
  // Each prefix after which a second capital comes, and the words that only look so.
  ["GUY L'ESPERANCE", "Guy L'Esperance", ['fixed:case_repaired']],
  ["o'neil", "O'Neil", ['fixed:case_repaired']],
  ['LARA MACLEAN-MCCOY', 'Lara MacLean-McCoy', ['fixed:case_repaired']],
  ["D'", "D'", []],
  ['mc', 'Mc', ['fixed:case_repaired']],
  ['LOLA DOLL', 'Lola Doll', ['fixed:case_repaired']],
  ['DR. JOHN SMITH MD', 'Dr. John Smith MD', ['fixed:case_repaired']],
  ['J.D. SALINGER', 'J.D. Salinger', ['fixed:case_repaired']],
  ['ANNA, DE LA CRUZ', 'Anna, de la Cruz', ['fixed:case_repaired']],
  [', DE SOUZA', ', De Souza', ['fixed:case_repaired']],
  ['123', '123', []],
]);

table('date', undefined, [
  ['2020-01-05', '2020-01-05', []],
  ['2020/1/5', '2020-01-05', ['fixed:reformatted']],
  ['20200105', '2020-01-05', ['fixed:reformatted']],
  ['13/04/2020', '2020-04-13', ['fixed:reformatted']],
  ['04/13/2020', '2020-04-13', ['fixed:reformatted']],
  ['31.12.2020', '2020-12-31', ['fixed:reformatted']],
  ['05/05/2020', '2020-05-05', ['fixed:reformatted']],
  ['Jan 5, 2020', '2020-01-05', ['fixed:reformatted']],
  ['5 January 2020', '2020-01-05', ['fixed:reformatted']],
  ['05-Jan-2020', '2020-01-05', ['fixed:reformatted']],
  ['2016-12-25 10:24:00', '2016-12-25', ['fixed:reformatted']],
  ['03/04/2020', '03/04/2020', ['invalid:ambiguous_date']],
  ['2023-02-30', '2023-02-30', ['invalid:impossible_date']],
  ['0000-00-00', '0000-00-00', ['invalid:impossible_date']],
  ['2023-13-01', '2023-13-01', ['invalid:impossible_date']],
  ['2024-02-29', '2024-02-29', []],
  ['2023-02-29', '2023-02-29', ['invalid:impossible_date']],
  ['yesterday', 'yesterday', ['invalid:unparseable_date']],
  ['', null, []],
  [new Date('2020-01-05T10:00:00Z'), '2020-01-05', []],
]);
table('date', { order: 'dmy' }, [
  ['03/04/2020', '2020-04-03', ['flag:ambiguous_order_assumed', 'fixed:reformatted']],
  ['1/2/99', '1999-02-01', ['flag:two_digit_year', 'flag:ambiguous_order_assumed', 'fixed:reformatted']],
]);
table('date', { order: 'mdy' }, [['03/04/2020', '2020-03-04', ['flag:ambiguous_order_assumed', 'fixed:reformatted']]]);
table('datetime', undefined, [
  ['2020-01-05 10:24', '2020-01-05T10:24:00', ['fixed:reformatted']],
  ['2020-01-05T10:24:00Z', '2020-01-05T10:24:00Z', []],
  ['2020-01-05 10:24:00+0200', '2020-01-05T10:24:00+02:00', ['fixed:reformatted']],
  ['Jan 5, 2020 3:04 PM', '2020-01-05T15:04:00', ['fixed:reformatted']],
  ['2020-01-05 25:00', '2020-01-05 25:00', ['invalid:impossible_date']],
  ['2020-01-05', '2020-01-05T00:00:00', ['fixed:reformatted']],
]);

table('picklist', { A: 'active', I: 'inactive', 'On Hold': 'paused' }, [
  ['A', 'active', []],
  [' a ', 'active', ['fixed:normalized']],
  ['on   hold', 'paused', ['fixed:normalized']],
  ['X', 'X', ['invalid:unmapped_value']],
  ['', null, []],
]);
table(
  'picklist',
  ['Gold', 'Silver'],
  [
    ['gold', 'Gold', ['fixed:normalized']],
    ['Gold', 'Gold', []],
    ['Bronze', 'Bronze', ['invalid:unmapped_value']],
  ],
);

table('country', undefined, [
  ['Germany', 'DE', ['fixed:normalized']],
  ['Deutschland', 'DE', ['fixed:normalized']],
  ['Allemagne', 'DE', ['fixed:normalized']],
  ['usa', 'US', ['fixed:normalized']],
  ['U.S.A.', 'US', ['fixed:normalized']],
  ['United States of America', 'US', ['fixed:normalized']],
  ['UK', 'GB', ['fixed:normalized']],
  ['FRA', 'FR', ['fixed:normalized']],
  ['fr', 'FR', ['fixed:normalized']],
  ['DE', 'DE', []],
  ['Narnia', 'Narnia', ['invalid:unknown_country']],
  ['XX', 'XX', ['invalid:unknown_country']],
  ['constructor', 'constructor', ['invalid:unknown_country']],
  ['__proto__', '__proto__', ['invalid:unknown_country']],
  ['', null, []],
]);

table('trim', undefined, [
  ['  a ', 'a', ['fixed:trimmed']],
  ['a', 'a', []],
]);
table('collapse_spaces', undefined, [
  ['  a \t b ', 'a b', ['fixed:spaces_collapsed']],
  ['a b', 'a b', []],
  ['a\u00a0b', 'a b', ['fixed:spaces_collapsed']],
  ['a\u3000\u2028b\ufeff', 'a b', ['fixed:spaces_collapsed']],
  ['a\u200bb', 'a\u200bb', []],
  [' ', '', ['fixed:spaces_collapsed']],
]);

describe('collapseSpaces', () => {
  // The definition it must agree with, whatever the text: every white space run made one space, then trimmed.
  const byReplace = (s: string) => s.replace(/\s+/g, ' ').trim();
  it.each([
    '',
    ' ',
    'a',
    'Mary Smith',
    ' Mary',
    'Mary ',
    'Mary  Smith',
    'Mary\tSmith',
    'Mary\nSmith',
    'Mary\u00a0Smith',
    'Mary\u2009Smith',
    'Mary\u3000Smith',
    'Mary\u2028Smith',
    '\ufeffMary',
    'Mary\u200bSmith',
    'Mary\u180eSmith',
    'José  María',
    'a b c d e',
  ])('%j', (text) => {
    expect(collapseSpaces(text)).toBe(byReplace(text));
  });
  it('agrees with the replace on random text of spaces and letters', () => {
    const alphabet = [' ', ' ', '\t', '\n', '\u00a0', '\u2003', '\u200b', '\ufeff', 'a', 'é', '-'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let n = 0; n < 20_000; n++) {
      const text = Array.from({ length: next() % 9 }, () => alphabet[next() % alphabet.length]).join('');
      expect(collapseSpaces(text), JSON.stringify(text)).toBe(byReplace(text));
    }
  });
});
table('nfc', undefined, [
  ['e\u0301', '\u00e9', ['fixed:normalized']],
  ['\u00e9', '\u00e9', []],
]);
table('required', undefined, [
  [null, null, ['invalid:required']],
  ['  ', '  ', ['invalid:required']],
  ['x', 'x', []],
]);
table('regex', '^[A-Z]{2}-\\d+$', [
  ['AB-12', 'AB-12', []],
  ['ab-12', 'ab-12', ['invalid:pattern_mismatch']],
  [null, null, []],
]);
table('regex', { pattern: '^[a-z]+$', flags: 'i' }, [['AbC', 'AbC', []]]);
table('max_length', 3, [
  ['abc', 'abc', []],
  ['abcd', 'abcd', ['invalid:too_long']],
  ['😀😀😀', '😀😀😀', []],
]);
table(
  'one_of',
  ['Gold', 'Silver'],
  [
    ['gold', 'Gold', ['fixed:normalized']],
    ['Bronze', 'Bronze', ['invalid:not_allowed']],
  ],
);
table('range', { min: 0, max: 120 }, [
  [42, 42, []],
  ['130', '130', ['invalid:out_of_range']],
  ['abc', 'abc', ['invalid:not_a_number']],
  [null, null, []],
]);
table('range', { min: '1900-01-01' }, [
  ['1899-12-31', '1899-12-31', ['invalid:out_of_range']],
  ['2000-01-01', '2000-01-01', []],
]);

describe('rule options are checked when the plan loads', () => {
  it.each([
    ['phone: { format: e165 }', /bad options for clean "phone"/],
    ['email: { fix: everything }', /bad options for clean "email"/],
    ['regex: "("', /not a valid regular expression/],
    ['date: { order: ydm }', /bad options for clean "date"/],
  ])('%s', (clean, message) => {
    const text = `version: 1\nsource: "sqlite::memory:"\ntarget: "sqlite::memory:"\nentities:\n  c:\n    from: a\n    into: b\n    key: id\n    fields:\n      x: { from: x, clean: { ${clean} } }\n`;
    expect(() => parsePlan(text, 'p.yaml', {})).toThrow(message);
  });
});

describe('policies and the quality report', () => {
  const bound = boundEntity(
    `      id: id
      email: { from: email, clean: email, invalid: quarantine }
      email_report: { from: email, clean: email, invalid: keep, fix: false }
      status: { from: status, clean: { picklist: { A: active } }, invalid: default, default: unknown }
      phone: { from: phone, clean: { phone: { country: US } }, invalid: null }
`,
    ['id', 'email', 'status', 'phone'],
  );
  const entity = bound.plan;
  const rows: Value[][] = [
    [1, 'a@example.com', 'A', '+14155552671'],
    [2, ' B@EXAMPLE.COM ', 'a', '(415) 555-2671'],
    [3, 'bad@', 'X', 'N/A'],
    [4, null, 'X', null],
    [5, 'c@gmial.com', null, '000-000-0000'],
  ];

  it('applies each policy and counts every value exactly once', () => {
    const tally = new QualityTally(entity.fields.map((f) => f.target));
    const map = createRowMapper(bound, tally);
    const out = rows.map((r) => {
      const reasons: { field: string; rule: string; code: string }[] = [];
      const values = map(r, reasons);
      return reasons.length > 0 ? reasons.map((x) => `${x.field}:${x.code}`) : values;
    });
    expect(out).toEqual([
      [1, 'a@example.com', 'a@example.com', 'active', '+14155552671'],
      [2, 'b@example.com', ' B@EXAMPLE.COM ', 'active', '+14155552671'],
      ['email:invalid_email'],
      [4, null, null, 'unknown', null],
      [5, 'c@gmial.com', 'c@gmial.com', 'unknown', null],
    ]);
    const quality = tally.snapshot();
    for (const q of Object.values(quality)) {
      expect(OUTCOMES.reduce((sum, o) => sum + q[o], 0)).toBe(q.checked);
      expect(q.checked).toBe(rows.length);
    }
    expect(quality.email).toMatchObject({ valid: 2, corrected: 1, flagged: 1, quarantined: 1 });
    expect(quality.email_report).toMatchObject({ valid: 2, flagged: 2, kept: 1 });
    expect(quality.status).toMatchObject({ valid: 2, corrected: 1, nulled: 2 });
    expect(quality.status?.findings).toContainEqual({
      rule: 'picklist',
      code: 'unmapped_value',
      outcome: 'nulled',
      count: 2,
      detail: 'x',
    });
    expect(quality.phone).toMatchObject({ valid: 2, corrected: 1, nulled: 2 });
    expect(JSON.stringify(quality)).not.toMatch(/example\.com|gmial|555/);
  });

  it('lists at most MAX_DETAILS unmapped values per finding and counts the rest without their value', () => {
    // A picklist put on a free-text column: every row a value of its own.
    const chunk = new QualityTally(['status']);
    for (let i = 0; i < 300; i++) chunk.finding(0, 'picklist', 'unmapped_value', 'nulled', `free text ${i}`);
    chunk.finding(0, 'picklist', 'unmapped_value', 'nulled', 'free text 3');
    const entity = new QualityTally(['status']);
    entity.merge(chunk.snapshot());
    entity.merge(chunk.snapshot());
    const findings = entity.snapshot().status?.findings ?? [];
    const listed = findings.filter((f) => f.detail !== undefined);
    expect(listed).toHaveLength(MAX_DETAILS);
    expect(listed.find((f) => f.detail === 'free text 3')?.count).toBe(4);
    expect(findings.find((f) => f.detail === undefined)).toEqual({
      rule: 'picklist',
      code: 'unmapped_value',
      outcome: 'nulled',
      count: 602 - (MAX_DETAILS + 1) * 2,
    });
    expect(findings.reduce((sum, f) => sum + f.count, 0)).toBe(602);
  });

  it('writes empty text into a non-text column as NULL, counted as its own correction, and a NOT NULL one still refuses it', () => {
    const types: Record<string, Partial<TargetColumn>> = {
      score: { type: 'integer' },
      born: { type: 'date' },
      vip: { type: 'boolean', nullable: false },
      note: { type: 'text' },
    };
    const empty = boundEntity(
      '      id: id\n      score: score\n      born: born\n      vip: vip\n      note: note\n',
      ['id', 'score', 'born', 'vip', 'note'],
      (t) => types[t] ?? {},
    );
    const tally = new QualityTally(empty.plan.fields.map((f) => f.target));
    const map = createRowMapper(empty, tally);
    const out = [
      [1, '', '  ', 'true', ''],
      [2, '7', '2020-02-29', '', ' '],
      [3, 'x', '', 'false', null],
    ].map((r) => {
      const reasons: Reason[] = [];
      const values = map(r, reasons);
      return reasons.length > 0 ? reasons.map((x) => `${x.field}:${x.code}`) : values;
    });
    expect(out).toEqual([[1, null, null, true, ''], ['vip:not_null'], ['score:type_mismatch']]);
    const quality = tally.snapshot();
    expect(quality.score?.findings).toContainEqual({
      rule: 'target',
      code: 'empty_to_null',
      outcome: 'corrected',
      count: 1,
    });
    expect(quality.born).toMatchObject({ corrected: 2, valid: 1 });
    expect(quality.note?.findings).toEqual([]);
  });
});
