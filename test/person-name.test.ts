import { describe, expect, it } from 'vitest';
import { parsePersonName } from '../src/mapping/person-name.js';
import '../src/mapping/compile.js';
import { findStep } from '../src/mapping/steps.js';
import { parsePlan } from '../src/plan/load.js';

// [input, honorific, first, middle, last, suffix, nickname]; '' is null.
const CASES: [string | null, string, string, string, string, string, string?][] = [
  ['John Smith', '', 'John', '', 'Smith', ''],
  ['Scott, Michael C.', '', 'Michael', 'C.', 'Scott', ''],
  ['Scott, Michael', '', 'Michael', '', 'Scott', ''],
  ['SMITH, JOHN A', '', 'JOHN', 'A', 'SMITH', ''],
  ['Dr. Jane Doe', 'Dr.', 'Jane', '', 'Doe', ''],
  ['Mrs. Mary Ann Jones', 'Mrs.', 'Mary', 'Ann', 'Jones', ''],
  ['Prof. Dr. Hans Müller', 'Prof. Dr.', 'Hans', '', 'Müller', ''],
  ['DR JANE DOE', 'DR', 'JANE', '', 'DOE', ''],
  ['mr john smith', 'mr', 'john', '', 'smith', ''],
  ['John Smith Jr.', '', 'John', '', 'Smith', 'Jr.'],
  ['John Smith, Jr.', '', 'John', '', 'Smith', 'Jr.'],
  ['John Smith III', '', 'John', '', 'Smith', 'III'],
  ['Jane Doe, PhD', '', 'Jane', '', 'Doe', 'PhD'],
  ['John Smith Jr., PhD', '', 'John', '', 'Smith', 'Jr. PhD'],
  ['Smith Jr., John', '', 'John', '', 'Smith', 'Jr.'],
  ['Smith, John, Jr.', '', 'John', '', 'Smith', 'Jr.'],
  ['Smith, John Jr.', '', 'John', '', 'Smith', 'Jr.'],
  ['Smith, Dr. John', 'Dr.', 'John', '', 'Smith', ''],
  ['Dr. Martin Luther King Jr.', 'Dr.', 'Martin', 'Luther', 'King', 'Jr.'],
  ['Ludwig van Beethoven', '', 'Ludwig', '', 'van Beethoven', ''],
  ['Jan van der Berg', '', 'Jan', '', 'van der Berg', ''],
  ['Juan de la Cruz', '', 'Juan', '', 'de la Cruz', ''],
  ['van der Berg, Jan', '', 'Jan', '', 'van der Berg', ''],
  ['Mary St. Clair', '', 'Mary', '', 'St. Clair', ''],
  ['Leonardo da Vinci', '', 'Leonardo', '', 'da Vinci', ''],
  ['Van Morrison', '', 'Van', '', 'Morrison', ''],
  ['JAN VAN DER BERG', '', 'JAN', '', 'VAN DER BERG', ''],
  ["Conan O'Brien", '', 'Conan', '', "O'Brien", ''],
  ['Anna Smith-Jones', '', 'Anna', '', 'Smith-Jones', ''],
  ["Mary-Jane O'Neil-Watson", '', 'Mary-Jane', '', "O'Neil-Watson", ''],
  ['Madonna', '', '', '', 'Madonna', ''],
  ['Mr. Smith', 'Mr.', '', '', 'Smith', ''],
  ['Dr.', 'Dr.', '', '', '', ''],
  ['  John    Smith  ', '', 'John', '', 'Smith', ''],
  ['John\tSmith', '', 'John', '', 'Smith', ''],
  ['John\u00a0Smith', '', 'John', '', 'Smith', ''],
  ['José Álvarez Núñez', '', 'José', 'Álvarez', 'Núñez', ''],
  ['Zoë Østergaard', '', 'Zoë', '', 'Østergaard', ''],
  ['J. R. R. Tolkien', '', 'J.', 'R. R.', 'Tolkien', ''],
  ['William "Bill" Gates', '', 'William', '', 'Gates', '', 'Bill'],
  ['Robert (Bob) Jones', '', 'Robert', '', 'Jones', '', 'Bob'],
  ['George Herbert Walker Bush', '', 'George', 'Herbert Walker', 'Bush', ''],
  ['Sir Elton John', 'Sir', 'Elton', '', 'John', ''],
  ['Rev. Dr. Martin King', 'Rev. Dr.', 'Martin', '', 'King', ''],
  ['Thurston Howell V', '', 'Thurston', '', 'Howell', 'V'],
  ['Smith,John', '', 'John', '', 'Smith', ''],
  ['Smith ,  John', '', 'John', '', 'Smith', ''],
  ['', '', '', '', '', ''],
  ['   ', '', '', '', '', ''],
  [null, '', '', '', '', ''],
  ['Mohammed bin Rashid', '', 'Mohammed', '', 'bin Rashid', ''],
  ['Maria dos Santos', '', 'Maria', '', 'dos Santos', ''],
  // A generational suffix is never a surname: one word and its suffix, the word the last name (as one word is).
  ['John Jr.', '', '', '', 'John', 'Jr.'],
  ['Smith Jr.', '', '', '', 'Smith', 'Jr.'],
  ['Smith III', '', '', '', 'Smith', 'III'],
  // Particles from the first word on are a surname; a capital Van alone is a given name (Van Morrison).
  ['van Dijk', '', '', '', 'van Dijk', ''],
  ['van der Berg', '', '', '', 'van der Berg', ''],
  ['Van der Berg', '', '', '', 'Van der Berg', ''],
  ['de la Cruz', '', '', '', 'de la Cruz', ''],
  // Credentials after a comma are not "Last, First": the name keeps its order.
  ['John Doe, CLU, CFP', '', 'John', '', 'Doe', 'CLU CFP'],
  ['John Smith, Ph. D.', '', 'John', '', 'Smith', 'Ph. D.'],
  ['Jane Roe, CPA', '', 'Jane', '', 'Roe', 'CPA'],
  ['Mary Major, MP', '', 'Mary', '', 'Major', 'MP'],
  ['Ann Lee, MBA, PMP', '', 'Ann', '', 'Lee', 'MBA PMP'],
  // Credentials no list holds, after a full name in mixed case, are credentials too; a given name in capitals,
  // initials, or a name all in capitals stay "Last, First".
  ['Maria Lopez, CPCU, CLU, LUTC', '', 'Maria', '', 'Lopez', 'CPCU CLU LUTC'],
  ['Ahmed Karimi, FRCS, MBBS', '', 'Ahmed', '', 'Karimi', 'FRCS MBBS'],
  ['Grace Obi, CDFA', '', 'Grace', '', 'Obi', 'CDFA'],
  ['Smith, JOHN', '', 'JOHN', '', 'Smith', ''],
  ['Lee, TJ', '', 'TJ', '', 'Lee', ''],
  ['KOWALSKI, ANNA', '', 'ANNA', '', 'KOWALSKI', ''],
  ['de la Vega, JUAN', '', 'JUAN', '', 'de la Vega', ''],
  // Degrees written with their dots, after the name or after a comma; two single initials stay initials.
  ['Helen Park Q.C.', '', 'Helen', '', 'Park', 'Q.C.'],
  ['Tomás Ruiz M.D.', '', 'Tomás', '', 'Ruiz', 'M.D.'],
  ['Ines Bauer, B.Sc.', '', 'Ines', '', 'Bauer', 'B.Sc.'],
  ['Karl Weber MSc.Ed.', '', 'Karl', '', 'Weber', 'MSc.Ed.'],
  ['Osei, K.A.', '', 'K.A.', '', 'Osei', ''],
  // Ranks written as one word; one word after Sir or Dame is a given name (after Mr. it stays a surname).
  ['Lt.Col. Anna Berg', 'Lt.Col.', 'Anna', '', 'Berg', ''],
  ['Maj.Gen. Ray Odom', 'Maj.Gen.', 'Ray', '', 'Odom', ''],
  ['Sir Clive', 'Sir', 'Clive', '', '', ''],
  ['Dame Judith', 'Dame', 'Judith', '', '', ''],
  ['Mr. Clive', 'Mr.', '', '', 'Clive', ''],
  // A nickname in single quotes; an apostrophe inside a name is no quote.
  ["Robert 'Bobby' Chen", '', 'Robert', '', 'Chen', '', 'Bobby'],
  ["Sean O'Malley", '', 'Sean', '', "O'Malley", ''],
  ["'Bobby' Chen", '', '', '', 'Chen', '', 'Bobby'],
  ["Nkechi Ng'ang'a", '', 'Nkechi', '', "Ng'ang'a", ''],
  // A lower-case particle takes the two words after it: a surname of two words.
  ['Lucas van den Broek Smit', '', 'Lucas', '', 'van den Broek Smit', ''],
  ['Carlos de la Fuente Ramos', '', 'Carlos', '', 'de la Fuente Ramos', ''],
  ['greta von hohen berg', '', 'greta', '', 'von hohen berg', ''],
  ['Ana Sousa dos Reis', '', 'Ana', 'Sousa', 'dos Reis', ''],
  // Initials are initials, not the suffix Jr.
  ['Smith, J.R.', '', 'J.R.', '', 'Smith', ''],
  ['Smith, J. R.', '', 'J.', 'R.', 'Smith', ''],
  // Surnames that are also abbreviations of degrees stay surnames.
  ['Ma, Jack', '', 'Jack', '', 'Ma', ''],
  ['Do, Minh', '', 'Minh', '', 'Do', ''],
  // Titles of office, rank and faith, in any case, stacked or not.
  ['Senator John Smith', 'Senator', 'John', '', 'Smith', ''],
  ['Sen. Ann Lee', 'Sen.', 'Ann', '', 'Lee', ''],
  ['Rt. Hon. Jane Doe', 'Rt. Hon.', 'Jane', '', 'Doe', ''],
  ['Lt. Gov. Mark Roe', 'Lt. Gov.', 'Mark', '', 'Roe', ''],
  ['GOV. GAVIN NEWSOM', 'GOV.', 'GAVIN', '', 'NEWSOM', ''],
  ['Rabbi Jonathan Sacks', 'Rabbi', 'Jonathan', '', 'Sacks', ''],
  ['Sheikh Mohammed bin Rashid', 'Sheikh', 'Mohammed', '', 'bin Rashid', ''],
  ['Amb. Linda Thomas', 'Amb.', 'Linda', '', 'Thomas', ''],
  ['Cpl. Max Klinger', 'Cpl.', 'Max', '', 'Klinger', ''],
  ['Dott. Marco Rossi', 'Dott.', 'Marco', '', 'Rossi', ''],
  ['Mayor Ann Kerr', 'Mayor', 'Ann', '', 'Kerr', ''],
  // Given names that are also titles elsewhere stay given names.
  ['Dean Martin', '', 'Dean', '', 'Martin', ''],
  ['Pastor Martinez', '', 'Pastor', '', 'Martinez', ''],
  ['Prince Rogers Nelson', '', 'Prince', 'Rogers', 'Nelson', ''],
  // Compound surnames joined by y, e, i; particles that are particles only in lower case.
  ['Juan Velasquez y Garcia', '', 'Juan', '', 'Velasquez y Garcia', ''],
  ['João Silva e Souza', '', 'João', '', 'Silva e Souza', ''],
  ['Joan Miró i Ferrà', '', 'Joan', '', 'Miró i Ferrà', ''],
  ['Maria de la Vega y Ruiz', '', 'Maria', '', 'de la Vega y Ruiz', ''],
  ['Mary E Smith', '', 'Mary', 'E', 'Smith', ''],
  ['mary ann e smith', '', 'mary', 'ann e', 'smith', ''],
  ['Ahmed ben Husain', '', 'Ahmed', '', 'ben Husain', ''],
  ['Ewan Mac Coll', '', 'Ewan', '', 'Mac Coll', ''],
  ['Lady Ann Mc Beth', 'Lady', 'Ann', '', 'Mc Beth', ''],
  ['John Ben Smith', '', 'John', 'Ben', 'Smith', ''],
];

describe('parsePersonName', () => {
  it.each(CASES)('%j', (input, honorific, first, middle, last, suffix, nickname = '') => {
    const n = (s: string) => (s === '' ? null : s);
    expect(parsePersonName(input)).toEqual({
      honorific: n(honorific),
      first: n(first),
      middle: n(middle),
      last: n(last),
      suffix: n(suffix),
      nickname: n(nickname),
      partner: null,
      flags: [],
    });
  });

  it('has at least 40 ugly cases', () => expect(CASES.length).toBeGreaterThanOrEqual(40));

  // Two people in one name: the first parsed, the other kept as the partner, and flagged; never nonsense.
  it.each([
    ['John and Jane Smith', { first: 'John', last: 'Smith', partner: 'Jane Smith' }],
    ['Mr. and Mrs. John Smith', { honorific: 'Mr.', first: 'John', last: 'Smith', partner: 'Mrs. Smith' }],
    ['Mr & Mrs John Smith', { honorific: 'Mr', first: 'John', last: 'Smith', partner: 'Mrs Smith' }],
    ['Dr. and Mr. Ann Lee', { honorific: 'Dr.', first: 'Ann', last: 'Lee', partner: 'Mr. Lee' }],
    ['John Smith & Jane Doe', { first: 'John', last: 'Smith', partner: 'Jane Doe' }],
    ['Smith, John and Jane', { first: 'John', last: 'Smith', partner: 'Jane Smith' }],
    ['Ana y Luis García', { first: 'Ana', middle: 'y Luis', last: 'García', partner: null }],
  ])('%s', (input, parts) => {
    const parsed = parsePersonName(input);
    expect(parsed).toMatchObject({ honorific: null, middle: null, suffix: null, ...parts });
    expect(parsed.flags).toEqual(parts.partner === null ? [] : ['household']);
  });

  it('leaves a firm with "and" in it alone', () => {
    expect(parsePersonName('Procter and Gamble')).toMatchObject({ partner: null, flags: [] });
    expect(parsePersonName('Smith & Wesson')).toMatchObject({ partner: null, flags: [] });
  });

  it('drops emoji and symbols from a name, and says so', () => {
    expect(parsePersonName('Jane 😀 Doe')).toMatchObject({ first: 'Jane', last: 'Doe', flags: ['symbols_dropped'] });
    expect(parsePersonName('👨‍👩‍👧 Ann Lee ★')).toMatchObject({ first: 'Ann', last: 'Lee', flags: ['symbols_dropped'] });
    expect(parsePersonName('Zoë Østergaard')).toMatchObject({ flags: [] });
  });

  it('drops a second parenthesis as a note, says so, and keeps the name in its order', () => {
    expect(parsePersonName('Omar Haddad (Acme Ltd), Jr. (left 2019)')).toMatchObject({
      first: 'Omar',
      last: 'Haddad',
      suffix: 'Jr.',
      nickname: 'Acme Ltd',
      flags: ['parenthesis_dropped'],
    });
    expect(parsePersonName('Omar (Oz) Haddad')).toMatchObject({ nickname: 'Oz', flags: [] });
  });

  it('never throws on junk', () => {
    for (const junk of [
      ',,,',
      '"',
      '()',
      '""',
      '12345',
      'a,b,c,d',
      '\u0000',
      ', Jr.',
      'Jr.',
      '....',
      42,
      {},
      undefined,
    ]) {
      expect(() => parsePersonName(junk)).not.toThrow();
    }
  });

  it('gives the partner to name.partner, and each name field counts the household as a flag', () => {
    const part = (name: string) =>
      findStep(`name.${name}`)?.create(undefined) as (v: string) => {
        value: unknown;
        issues?: readonly { code: string; kind: string }[];
      };
    expect(part('partner')('John and Jane Smith')).toEqual({
      value: 'Jane Smith',
      issues: [{ code: 'household', kind: 'flag' }],
    });
    expect(part('first')('John and Jane Smith')).toEqual({
      value: 'John',
      issues: [{ code: 'household', kind: 'flag' }],
    });
    expect(part('last')('Jane 😀 Doe')).toEqual({ value: 'Doe', issues: [{ code: 'symbols_dropped', kind: 'flag' }] });
    expect(part('partner')('Jane Doe')).toEqual({ value: null });
  });

  it('counts the parts of a name no field takes, on one field, unless the name is kept whole too', () => {
    const plan = (extra = '') =>
      parsePlan(
        `version: 1
source: "sqlite::memory:"
target: "sqlite::memory:"
entities:
  people:
    from: people
    into: people
    key: id
    fields:
      id: id
      first_name: { from: name, transform: name.first }
      last_name: { from: name, transform: name.last }${extra}
`,
        'plan.yaml',
      );
    const step = (p: ReturnType<typeof plan>, field: string) =>
      p.entities[0]?.fields.find((f) => f.target === field)?.steps[0]?.run as (v: string) => {
        value: unknown;
        issues?: readonly { code: string }[];
      };
    const codes = (r: { issues?: readonly { code: string }[] }) => (r.issues ?? []).map((i) => i.code);
    const p = plan();
    expect(codes(step(p, 'last_name')('Dr. Mary Ann "Mimi" Jones Jr.'))).toEqual([
      'honorific_dropped',
      'middle_dropped',
      'suffix_dropped',
      'nickname_dropped',
    ]);
    expect(codes(step(p, 'last_name')('Mary Jones'))).toEqual([]);
    expect(codes(step(p, 'first_name')('Dr. Mary Ann Jones'))).toEqual([]);
    expect(codes(step(p, 'last_name')('John and Jane Smith'))).toEqual(['household', 'partner_dropped']);
    // Kept whole in a field of its own, nothing is lost.
    expect(codes(step(plan('\n      full_name: name'), 'last_name')('Dr. Mary Ann Jones Jr.'))).toEqual([]);
  });
});
