import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { parseBlockingRule, type BlockingRule } from '../src/dedupe/blocking.js';
import { comparison } from '../src/dedupe/compare.js';
import { findMatches, type MatchRecords, type MatchResult, type MatchSettings } from '../src/dedupe/match.js';
import type { Value } from '../src/values.js';

/**
 * FEBRL data sets as the matcher sees them, and pair-level scoring against their ground truth. The truth is
 * the `rec-N` part of `rec_id`; it is kept out of the records handed to the matcher.
 */
export const FEBRL_FIELDS = [
  'given_name',
  'surname',
  'street_number',
  'address_1',
  'address_2',
  'suburb',
  'postcode',
  'state',
  'date_of_birth',
  'soc_sec_id',
] as const;

export interface FebrlSet {
  readonly records: MatchRecords;
  /** The ground-truth entity of each record (`rec-N`). */
  readonly truth: readonly string[];
}

export function readFebrl(files: readonly string[]): FebrlSet {
  const columns = new Map<string, Value[]>(FEBRL_FIELDS.map((f) => [f, []]));
  const truth: string[] = [];
  const group: number[] = [];
  files.forEach((file, g) => {
    const rows = parse<Record<string, string>>(readFileSync(file), {
      columns: (h: string[]) => h.map((c) => c.trim()),
      trim: true,
      skip_empty_lines: true,
    });
    for (const row of rows) {
      truth.push(/^rec-(\d+)/.exec(row.rec_id ?? '')?.[1] ?? '');
      group.push(g);
      for (const f of FEBRL_FIELDS)
        (columns.get(f) as Value[]).push(row[f] === '' || row[f] === undefined ? null : row[f]);
    }
  });
  return { records: { count: truth.length, columns, group: Uint8Array.from(group) }, truth };
}

/** The comparisons and blocking rules used for FEBRL: Splink's own choice of fields for these data sets. */
export function febrlSettings(linkOnly: boolean, overrides: Partial<MatchSettings> = {}): MatchSettings {
  const rules = [
    'soc_sec_id',
    'given_name + surname',
    'date_of_birth',
    'postcode + street_number',
    'metaphone(surname) + initial(given_name)',
    'address_1 + suburb',
  ];
  return {
    comparisons: [
      comparison('given_name', 'first_name'),
      comparison('surname', 'last_name'),
      comparison('date_of_birth', 'date'),
      comparison('soc_sec_id', 'id'),
      comparison('street_number', 'exact'),
      comparison('address_1', 'text'),
      comparison('suburb', 'text'),
      comparison('postcode', 'postcode'),
      comparison('state', 'exact'),
    ],
    blocking: rules.map((r) => parseBlockingRule(r) as BlockingRule),
    threshold: 0.5,
    termFrequency: ['given_name', 'surname', 'postcode'],
    maxBlock: 1000,
    maxCluster: 25,
    linkOnly,
    ...overrides,
  };
}

export interface PairScore {
  readonly truePairs: number;
  readonly predicted: number;
  readonly tp: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Pair precision/recall/F1 of the clusters: every two records in one cluster are a predicted pair. */
export function scorePairs(set: FebrlSet, result: MatchResult, linkOnly: boolean): PairScore {
  const group = set.records.group;
  const counted = (a: number, b: number) => !linkOnly || group?.[a] !== group?.[b];
  const byEntity = new Map<string, number[]>();
  set.truth.forEach((t, i) => byEntity.set(t, [...(byEntity.get(t) ?? []), i]));
  let truePairs = 0;
  for (const members of byEntity.values())
    for (let x = 0; x < members.length; x++)
      for (let y = x + 1; y < members.length; y++) if (counted(members[x], members[y])) truePairs++;
  let predicted = 0;
  let tp = 0;
  for (const c of result.clusters) {
    for (let x = 0; x < c.length; x++) {
      for (let y = x + 1; y < c.length; y++) {
        const a = c[x];
        const b = c[y];
        if (!counted(a, b)) continue;
        predicted++;
        if (set.truth[a] === set.truth[b]) tp++;
      }
    }
  }
  const precision = predicted === 0 ? 1 : tp / predicted;
  const recall = truePairs === 0 ? 1 : tp / truePairs;
  return {
    truePairs,
    predicted,
    tp,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
  };
}

export function runFebrl(
  files: readonly string[],
  linkOnly: boolean,
  overrides: Partial<MatchSettings> = {},
): { score: PairScore; result: MatchResult; seconds: number } {
  const set = readFebrl(files);
  const started = performance.now();
  const result = findMatches(set.records, febrlSettings(linkOnly, overrides));
  const seconds = (performance.now() - started) / 1000;
  return { score: scorePairs(set, result, linkOnly), result, seconds };
}
