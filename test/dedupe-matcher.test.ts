import { describe, expect, it } from 'vitest';
import { parseBlockingRule, keyPart } from '../src/dedupe/blocking.js';
import { clusterPairs } from '../src/dedupe/cluster.js';
import { comparison, kindForField, type CompareKind } from '../src/dedupe/compare.js';
import { editDistance } from '../src/dedupe/edit-distance.js';
import { estimateU, NULL_LEVEL, patternsOf, trainM } from '../src/dedupe/model.js';
import { sameNickname } from '../src/dedupe/nicknames.js';
import { defaultBlocking, type DedupePlan } from '../src/dedupe/plan.js';
import { defineSurvivorRule, survive } from '../src/dedupe/survivorship.js';

describe('edit distance (optimal string alignment, bounded)', () => {
  it.each([
    ['', '', 2, 0],
    ['abc', 'abc', 2, 0],
    ['abc', 'acb', 1, 1], // a transposition is one edit
    ['abc', 'ab', 1, 1],
    ['ab', 'abc', 1, 1],
    ['abc', 'xbc', 1, 1],
    ['abc', 'cba', 2, 2],
    ['19081209', '19081290', 1, 1],
    ['kitten', 'sitting', 2, 3], // over the bound: bound + 1
    ['a', 'abcdef', 2, 3],
    ['ca', 'abc', 2, 3], // OSA, not true Damerau-Levenshtein (which says 2)
    ['sondergeld', 'sondergedl', 1, 1],
  ])('%s ↔ %s within %i: %i', (a, b, max, expected) => {
    expect(editDistance(a, b, max)).toBe(expected);
  });
});

describe('nicknames', () => {
  it.each([
    ['bill', 'william', true],
    ['billy', 'liam', true], // both short for william
    ['peggy', 'margaret', true],
    ['bob', 'robert', true],
    ['bob', 'william', false],
    ['kate', 'katherine', true],
    ['zoe', 'zoey', false],
    ['kev', 'kevin', true],
    ['nan', 'nancy', true],
    ['sandy', 'sandra', true],
    ['mandy', 'amanda', true],
    ['terry', 'teresa', true],
    ['terry', 'terence', true],
    ['teresa', 'terence', false], // one short form, two formal names: a woman's and a man's
  ])('%s = %s: %s', (a, b, same) => expect(sameNickname(a, b)).toBe(same));
});

describe('comparison levels', () => {
  const level = (kind: CompareKind, a: unknown, b: unknown) => {
    const c = comparison('f', kind);
    const x = c.prepare(a as string);
    const y = c.prepare(b as string);
    if (!x || !y) return 'blank';
    const against = c.against?.(x, y);
    return against ? `${c.levels[c.level(x, y)]}, ${against}` : c.levels[c.level(x, y)];
  };
  it.each([
    ['first_name', 'William', ' william ', 'exact'],
    ['first_name', 'Bill', 'William', 'jw>=0.92, nickname or slip'],
    ['first_name', 'Jon', 'John', 'jw>=0.92, nickname or slip'],
    // A nickname against a typo of its formal name, and slips that cost Jaro-Winkler its prefix bonus.
    ['first_name', 'Tom', 'Tohmas', 'jw>=0.92, nickname or slip'],
    ['first_name', 'Kraen', 'Karen', 'jw>=0.92, nickname or slip'],
    ['first_name', 'Saarah', 'Sarah', 'jw>=0.92, nickname or slip'],
    ['first_name', 'Stven', 'Steven', 'jw>=0.92, nickname or slip'],
    // Other people's names, one letter apart: never better than "sounds alike", where a first name vetoes.
    // A woman's and a man's given name are two people; two other real names at most "another name".
    ['first_name', 'Mark', 'Mary', 'else'],
    ['first_name', 'John', 'Joan', 'else'],
    ['first_name', 'Carl', 'Carol', 'else'],
    ['first_name', 'Paul', 'Paula', 'else'],
    ['first_name', 'Michael', 'Michelle', 'else'],
    ['first_name', 'Jenny', 'Jenna', 'jw>=0.88, sounds alike or another name'],
    ['first_name', 'Marie', 'Maria', 'jw>=0.88, sounds alike or another name'],
    ['first_name', 'Chris', 'Christine', 'jw>=0.92, nickname or slip'], // a short form of hers
    // Two spellings of one given name (a letter doubled or left out inside a long name), and a short form
    // against another spelling of its formal name: one name, though both spellings are on the list.
    ['first_name', 'Matthew', 'Mathew', 'jw>=0.92, nickname or slip'],
    ['first_name', 'Anthony', 'Antony', 'jw>=0.92, nickname or slip'],
    ['first_name', 'Barbara', 'Barbra', 'jw>=0.92, nickname or slip'],
    ['first_name', 'Philip', 'Phillip', 'jw>=0.92, nickname or slip'],
    ['first_name', 'Matt', 'Mathew', 'jw>=0.92, nickname or slip'],
    ['first_name', 'Jen', 'Jenifer', 'jw>=0.92, nickname or slip'],
    // Two letters swapped between two real names, or one added at the end: two names, not one spelt twice.
    ['first_name', 'Elise', 'Elsie', 'jw>=0.88, sounds alike or another name'],
    ['first_name', 'Marian', 'Marina', 'jw>=0.88, sounds alike or another name'],
    ['first_name', 'Louis', 'Louise', 'else'],
    // Double Metaphone codes Almi and William alike; sounding alike lifts one rung, never from "else".
    ['first_name', 'Almi', 'William', 'else'],
    ['last_name', 'Smith', 'Smyth', 'jw>=0.88 or sounds alike'],
    ['last_name', 'Smith', 'Jones', 'else'],
    // Titles are not the name; Jr and Sr on one name are father and son.
    ['first_name', 'Dr. John', 'john', 'exact'],
    ['last_name', 'Smith Jr.', 'Smith', 'exact'],
    ['last_name', 'Smith Jr.', 'smith jnr', 'exact'],
    ['last_name', 'Smith Jr.', 'Smith Sr.', 'else'],
    ['last_name', 'Ramirez III', 'Ramirez II', 'else'],
    ['last_name', '', 'Jones', 'blank'],
    ['last_name', null, 'Jones', 'blank'],
    ['email', 'Ann@X.com', 'ann@x.com', 'exact'],
    // A local part made of a name is shared by different people at different domains: no level of its own.
    ['email', 'ann@x.com', 'ann@y.org', 'else'],
    ['email', 'ann1@x.com', 'ann2@x.com', 'else, another address at the same company domain'],
    ['email', 'ann1@gmail.com', 'ann2@gmail.com', 'else'],
    ['phone', '+1 (415) 555-0100', '14155550100', 'same digits'],
    ['phone', '+14155550100', '4155550100', 'same last 8 digits or one edit'],
    ['phone', '+14155550100', '+14155559999', 'else'],
    // Junk is no number: two customers who both typed a placeholder share nothing.
    ['phone', '000-000-0000', '(000) 000-0000', 'blank'],
    ['phone', '999 9999', '9999999', 'blank'],
    ['phone', 'ext. 12', 'ext. 12', 'blank'],
    ['date', '1990-03-04', '19900304', 'exact'],
    ['date', '1990-03-04', '1990-04-03', 'one typo or day/month swapped'],
    ['date', '1990-03-04', '1990-03-14', 'one typo or day/month swapped'],
    ['date', '1990-03-04', '1990-09-30', 'within a year'],
    ['date', '1990-03-04', '1985-01-01', 'within ten years'],
    ['date', '1990-03-04', '1950-01-01', 'else'],
    ['id', '6988048', '6988084', 'one edit'],
    ['postcode', '4011', '4110', 'two edits'],
    ['exact', '6', '6', 'exact'],
  ] as const)('%s: %s ↔ %s is %s', (kind, a, b, expected) => {
    expect(level(kind, a, b)).toBe(expected);
  });
  it('a Date value compares as its day', () => {
    expect(level('date', new Date('1990-03-04T00:00:00Z'), '1990-03-04')).toBe('exact');
  });
  it.each([
    ['email', 'email'],
    ['cust_email', 'email'],
    ['mobile_phone', 'phone'],
    ['first_name', 'first_name'],
    ['given_name', 'first_name'],
    ['surname', 'last_name'],
    ['full_name', 'name'],
    ['date_of_birth', 'date'],
    ['zip', 'postcode'],
    ['soc_sec_id', 'id'],
    ['city', 'text'],
    // Bookkeeping of the old CRM is no name and no date of birth: exact, and warned about when the plan names it.
    ['last_update', 'exact'],
    ['created_at', 'exact'],
    ['date_modified', 'exact'],
    ['modified_by', 'exact'],
    ['date_entered', 'exact'],
  ])('a field named %s compares as %s', (field, kind) => expect(kindForField(field)).toBe(kind));
});

describe('blocking rules', () => {
  it('parses rules and refuses what is not one', () => {
    expect(parseBlockingRule('metaphone(last_name) + initial(first_name)')).toMatchObject({
      parts: [
        { fn: 'metaphone', field: 'last_name' },
        { fn: 'initial', field: 'first_name' },
      ],
    });
    expect(parseBlockingRule('email')).toMatchObject({ parts: [{ fn: 'exact', field: 'email' }] });
    expect(parseBlockingRule('soundex(last_name)')).toMatch(/unknown key function soundex/);
    expect(parseBlockingRule('last name')).toMatch(/not a field/);
  });
  it.each([
    ['exact', ' Ann ', 'ann'],
    ['metaphone', 'Smith', 'SM0'],
    ['metaphone', 'Smyth', 'SM0'],
    ['initial', 'William', 'w'],
    ['digits', '+1 (415) 555', '1415555'],
    ['year', '1990-03-04', '1990'],
    ['exact', '   ', null],
    ['digits', 'n/a', null],
  ] as const)('%s(%s) = %s', (fn, value, key) => expect(keyPart(fn, value)).toBe(key));
  it('derives default rules from the kinds of the compared fields', () => {
    const on = ['email', 'phone', 'first_name', 'last_name', 'birth_date'].map((field) => ({
      field,
      kind: kindForField(field),
    }));
    expect(defaultBlocking(on)).toEqual([
      'email',
      'digits(phone)',
      'metaphone(last_name) + metaphone(first_name)',
      'last_name + initial(first_name)',
      'birth_date + metaphone(last_name)',
      'birth_date + initial(first_name)',
    ]);
  });
  it('blocks a street line with its city and a house number with its postcode (FEBRL names them so)', () => {
    const fields = ['given_name', 'surname', 'street_number', 'address_1', 'suburb', 'postcode'];
    expect(defaultBlocking(fields.map((field) => ({ field, kind: kindForField(field) })))).toEqual([
      'metaphone(surname) + metaphone(given_name)',
      'surname + initial(given_name)',
      'postcode + initial(surname)',
      'postcode + initial(given_name)',
      'street_number + postcode',
      'address_1 + suburb',
    ]);
  });
});

describe('EM training of m', () => {
  it('recovers m from unlabelled pairs when u is known', () => {
    // Two comparisons of 2 levels; 30 % matches with m = [0.95, 0.05], non-matches with u = [0.1, 0.9].
    const vectors: number[] = [];
    const add = (levels: number[], count: number) => {
      for (let i = 0; i < count; i++) vectors.push(...levels);
    };
    const mix = (match: boolean, n: number) => {
      const [a0, a1] = match ? [0.95, 0.05] : [0.1, 0.9];
      add([0, 0], Math.round(n * a0 * a0));
      add([0, 1], Math.round(n * a0 * a1));
      add([1, 0], Math.round(n * a1 * a0));
      add([1, 1], Math.round(n * a1 * a1));
    };
    mix(true, 3000);
    mix(false, 7000);
    const u = [
      [0.1, 0.9],
      [0.1, 0.9],
    ];
    const trained = trainM(patternsOf(Uint8Array.from(vectors), 2), [2, 2], u, new Set());
    expect(trained.m[0]?.[0]).toBeCloseTo(0.95, 2);
    expect(trained.m[1]?.[0]).toBeCloseTo(0.95, 2);
    expect(trained.matches).toBeGreaterThan(2900);
    expect(trained.matches).toBeLessThan(3100);
  });
  it('leaves out the excluded comparisons, and u never has a zero level', () => {
    const trained = trainM(
      patternsOf(Uint8Array.from([0, 0, 1, 1]), 2),
      [2, 2],
      [
        [0.5, 0.5],
        [0.5, 0.5],
      ],
      new Set([1]),
    );
    expect(trained.m[1]).toBeUndefined();
    const u = estimateU(Uint8Array.from([1, NULL_LEVEL, 1, 1]), [2, 2]);
    expect(u[0]?.[0]).toBeGreaterThan(0);
    expect(u[1]?.[0]).toBeGreaterThan(0);
  });
});

describe('clusters', () => {
  it('joins chains, but not across a pair judged different, nor beyond the size limit', () => {
    const pairs: [number, number][] = [
      [0, 1],
      [1, 2],
      [3, 4],
      [4, 5],
      [6, 7],
      [7, 8],
      [8, 9],
    ];
    const apart = (a: number, b: number) => (a === 3 && b === 5) || (a === 5 && b === 3);
    expect(clusterPairs({ count: 10, pairs, maxSize: 3, apart })).toEqual(
      [[0, 1, 2], [3, 4], [5], [6, 7, 8], [9]].filter((c) => c.length > 1),
    );
  });
  it('joins across a pair judged different only where a member bridges it', () => {
    // 0 Corvius, 1 Corvis, 2 Covius: the two typos are apart, each is close to the original.
    // 3 Mark, 4 Mary with a record 5 close to neither: no bridge.
    const pairs: [number, number][] = [
      [0, 1],
      [0, 2],
      [3, 5],
      [4, 5],
    ];
    const judged = new Set(['1-2', '3-4']);
    const apart = (a: number, b: number) => judged.has(`${Math.min(a, b)}-${Math.max(a, b)}`);
    const bridged = (a: number, b: number, members: readonly number[]) =>
      Math.min(a, b) === 1 && Math.max(a, b) === 2 && members.includes(0);
    expect(clusterPairs({ count: 6, pairs, maxSize: 25, apart, bridged })).toEqual([
      [0, 1, 2],
      [3, 5],
    ]);
    expect(clusterPairs({ count: 6, pairs, maxSize: 25, apart })).toEqual([
      [0, 1],
      [3, 5],
    ]);
  });
});

describe('survivorship', () => {
  const plan = (over: Partial<DedupePlan>): DedupePlan => ({
    on: [],
    blocking: [],
    threshold: 0.9,
    review: undefined,
    termFrequency: [],
    maxBlock: 1000,
    maxCluster: 25,
    with: [],
    linkOnly: false,
    survivor: 'most_complete',
    recency: 'updated',
    priority: ['crm', 'shop'],
    fields: {},
    ...over,
  });
  const member = (entity: string, sourceKey: string, values: Record<string, unknown>) => ({
    entity,
    sourceKey,
    values: new Map(Object.entries(values)) as Map<string, never>,
  });
  const cluster = [
    member('crm', '1', {
      id: 1,
      name: 'Bill Smith',
      email: null,
      phone: '+14155550100',
      updated: '2020-01-01',
      since: '2010-05-01',
    }),
    member('shop', '7', {
      id: 7,
      name: 'William Smith',
      email: 'bill@x.com',
      phone: null,
      updated: '2024-06-01',
      since: null,
    }),
    member('crm', '9', {
      id: 9,
      name: 'W. Smith',
      email: 'w@y.com',
      phone: '+14155550199',
      updated: null,
      since: null,
    }),
  ];
  it.each([
    ['most_complete', {}, 0, { id: 1, name: 'Bill Smith', email: 'bill@x.com', phone: '+14155550100' }],
    ['most_recent', {}, 1, { id: 7, name: 'William Smith', email: 'bill@x.com', phone: '+14155550100' }],
    ['source_priority', {}, 0, { id: 1 }],
    [
      'most_complete',
      { name: 'longest', email: 'most_recent', since: 'min' },
      0,
      { id: 1, name: 'William Smith', email: 'bill@x.com', since: '2010-05-01' },
    ],
    [
      'most_complete',
      { phone: 'first_non_null', updated: 'max', email: 'first_non_null' },
      0,
      { phone: '+14155550100', updated: '2024-06-01', email: 'bill@x.com' },
    ],
    ['most_recent', { email: 'source_priority' }, 1, { id: 7, email: 'w@y.com' }],
  ] as const)('survivor %s with %o', (survivor, fields, expectedSurvivor, expected) => {
    const result = survive(cluster, plan({ survivor, fields }), ['id']);
    expect(result.survivor).toBe(expectedSurvivor);
    expect(Object.fromEntries(result.values)).toMatchObject(expected);
  });
  it('takes a field by a rule defined from TypeScript, given the records best-ranked first', () => {
    defineSurvivorRule(
      'test_mobile_first',
      (records, field) =>
        records.map((r) => r.values.get(field) ?? null).find((v) => typeof v === 'string' && v.endsWith('99')) ?? null,
    );
    const result = survive(cluster, plan({ fields: { phone: 'test_mobile_first' } }), ['id']);
    expect(result.values.get('phone')).toBe('+14155550199');
    expect(() => defineSurvivorRule('longest', () => null)).toThrow(/already defined/);
  });
});
