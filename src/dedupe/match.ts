import { seededRandom } from '../random.js';
import type { BlockingRule } from './blocking.js';
import {
  candidatePairs,
  findPacked,
  findPair,
  unpackPair,
  type MatchRecords,
  type SkippedBlocks,
} from './candidates.js';
import { clusterPairs } from './cluster.js';
import type { Comparison, Prepared } from './compare.js';
import {
  defaultM,
  estimatePrior,
  estimateU,
  levelWeights,
  NULL_LEVEL,
  patternsOf,
  priorWeight,
  probability,
  trainM,
  type FsModel,
} from './model.js';

export type { MatchRecords } from './candidates.js';

const NAME_KINDS: ReadonlySet<string> = new Set(['first_name', 'last_name', 'name']);

export interface MatchSettings {
  readonly comparisons: readonly Comparison[];
  readonly blocking: readonly BlockingRule[];
  /** A pair whose match probability reaches this is merged. */
  readonly threshold: number;
  /** Pairs from this probability up to `threshold` are set aside for review instead; absent: no review band. */
  readonly review?: number | undefined;
  /** Fields whose exact agreement weighs by how rare the value is (a shared "smith" says less than "sondergeld"). */
  readonly termFrequency: readonly string[];
  readonly maxBlock: number;
  readonly maxCluster: number;
  /** Pair only records of different sources (each source is already free of duplicates). */
  readonly linkOnly: boolean;
}

/** A reviewer's verdict on a pair, by record index. */
export interface PairDecision {
  readonly a: number;
  readonly b: number;
  readonly same: boolean;
}

/** Why a pair scored as it did: the prior, then each comparison's level and weight (log2 m/u). */
export interface Explanation {
  readonly prior: number;
  readonly fields: readonly { field: string; level: string; weight: number }[];
  readonly weight: number;
  readonly probability: number;
}

export interface MatchResult {
  /** Candidate pairs compared. */
  readonly compared: number;
  readonly model: FsModel;
  readonly skipped: readonly SkippedBlocks[];
  /** Clusters of two or more records (record indexes, ascending). */
  readonly clusters: readonly (readonly number[])[];
  /** Candidate pairs in the review band with no decision yet: [a, b, probability]. */
  readonly review: readonly (readonly [number, number, number])[];
  /** The match weight of two records, or undefined when they were never compared. */
  weightOf(a: number, b: number): number | undefined;
  /** True when the two records were judged different: vetoed, a reviewer said so, or evidence against. */
  apart(a: number, b: number): boolean;
  explain(a: number, b: number): Explanation | undefined;
}

/**
 * Finds the records that are the same customer: blocking → comparison vectors → EM → weights (with term
 * frequencies) → accepted pairs → guarded clusters. Decisions from review override the model both ways.
 */
export function findMatches(
  records: MatchRecords,
  settings: MatchSettings,
  decisions: readonly PairDecision[] = [],
): MatchResult {
  const n = records.count;
  const comparisons = settings.comparisons;
  const K = comparisons.length;
  const prepared: (Prepared | null)[][] = comparisons.map((c) => {
    const values = records.columns.get(c.field) ?? [];
    return Array.from({ length: n }, (_v, i) => c.prepare(values[i] ?? null));
  });
  // Names block as they compare, without a title or a generational suffix: "Dr. William" meets "William".
  const blockingColumns = new Map(records.columns);
  comparisons.forEach((c, k) => {
    if (NAME_KINDS.has(c.kind))
      blockingColumns.set(
        c.field,
        prepared[k].map((v) => v?.text ?? null),
      );
  });
  const { packed, byRule, skipped } = candidatePairs({ ...records, columns: blockingColumns }, settings.blocking, {
    maxBlock: settings.maxBlock,
    linkOnly: settings.linkOnly,
  });
  const P = packed.length;
  const vectors = new Uint8Array(P * K);
  const levelOf = (k: number, a: number, b: number): number => {
    const x = prepared[k][a];
    const y = prepared[k][b];
    return x && y ? comparisons[k].level(x, y) : NULL_LEVEL;
  };
  for (let p = 0; p < P; p++) {
    const [a, b] = unpackPair(packed[p], n);
    for (let k = 0; k < K; k++) vectors[p * K + k] = levelOf(k, a, b);
  }
  const levelCounts = comparisons.map((c) => c.levels.length);
  const u = estimateU(randomPairVectors(n, K, levelOf, settings.linkOnly ? records.group : undefined), levelCounts);
  const { m, iterations } = estimateM({ rules: settings.blocking, comparisons, byRule, packed, vectors, u });
  const tf = termFrequencies(comparisons, prepared, settings.termFrequency);
  // log2(m/u) per comparison level: the prior (λ) is added afterwards, so the evidence can estimate it.
  const weights = levelWeights({ lambda: 0.5, m, u, iterations });
  /** What comparison k at level l says for a pair whose first record is a: exact agreement on a rare value says more than on a common one. */
  const fieldWeight = (k: number, l: number, a: number): number => {
    if (l === NULL_LEVEL) return 0;
    const base = weights[k][l];
    const freq = tf[k];
    return l === 0 && freq ? base + freq.adjust((prepared[k][a] as Prepared).text) : base;
  };
  const evidence = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    const [a] = unpackPair(packed[p], n);
    let w = 0;
    for (let k = 0; k < K; k++) w += fieldWeight(k, vectors[p * K + k], a);
    evidence[p] = w;
  }
  const model: FsModel = {
    lambda: estimatePrior(evidence, allPairsOf(n, settings.linkOnly ? records.group : undefined)),
    m,
    u,
    iterations,
  };
  const prior = priorWeight(model);
  const fieldWeights = (a: number, levels: ArrayLike<number>) =>
    comparisons.map((_c, k) => fieldWeight(k, levels[k], a));
  const weight = evidence.map((e) => prior + e);
  const decided = new Map<number, boolean>();
  for (const d of decisions) {
    const p = findPair(packed, n, d.a, d.b);
    if (p >= 0) decided.set(p, d.same);
  }
  const thresholdWeight = Math.log2(settings.threshold / (1 - settings.threshold));
  const reviewWeight =
    settings.review === undefined ? thresholdWeight : Math.log2(settings.review / (1 - settings.review));
  // Names that disagree (a comparison's veto level) make a pair two people, never merged, at most reviewed,
  // unless something only one person has agrees: a date of birth or an id (FEBRL's records swap and mistype
  // names, and their birth dates and social security ids still say who is who). An email or a phone does not
  // count here: families and colleagues share them.
  const identity = comparisons.flatMap((c, k) => (c.kind === 'date' || c.kind === 'id' ? [k] : []));
  const againstAt = (k: number, a: number, b: number): string | undefined => {
    const x = prepared[k][a];
    const y = prepared[k][b];
    return x && y ? comparisons[k].against?.(x, y) : undefined;
  };
  /** Comparison k says "two people" for pair p (of records a and b): its veto level, or evidence against. */
  const vetoesAt = (p: number, k: number, a: number, b: number): boolean => {
    const veto = comparisons[k].veto;
    const level = vectors[p * K + k];
    return (veto !== undefined && level !== NULL_LEVEL && level >= veto) || againstAt(k, a, b) !== undefined;
  };
  const vetoed = (p: number): boolean => {
    const [a, b] = unpackPair(packed[p], n);
    return comparisons.some((_c, k) => vetoesAt(p, k, a, b)) && !identity.some((k) => vectors[p * K + k] <= 1);
  };
  // A name alone is weaker proof than the model takes it for when the plan compares more than names: a first
  // and a last name are not independent of each other, and families share both. Such a pair merges only when
  // nothing else could speak against it (one record has no email, phone… to compare) and it reaches twice the
  // threshold's odds; else it is reviewed. Two different mailboxes stay a reason for doubt. Measured on
  // CRM-like data (bench/crm-people.ts, four seeds of 20,000): names alone with nothing to compare were one
  // person 129 times in 131 at the threshold, both misses just above it; at twice its odds 107 times in 107.
  const others = comparisons.flatMap((c, k) => (NAME_KINDS.has(c.kind) ? [] : [k]));
  const namesAloneWeight = thresholdWeight + 1;
  // Asked of nearly every candidate pair: one pass over the other fields, nothing allocated.
  const namesAlone = (p: number): boolean => {
    if (others.length === 0) return false;
    const [a] = unpackPair(packed[p], n);
    let blank = true;
    for (const k of others) {
      const level = vectors[p * K + k];
      if (fieldWeight(k, level, a) > 0) return false;
      if (level !== NULL_LEVEL) blank = false;
    }
    return !(blank && weight[p] >= namesAloneWeight);
  };
  const accepted: number[] = [];
  const review: [number, number, number][] = [];
  for (let p = 0; p < P; p++) {
    const verdict = decided.get(p);
    const w = weight[p];
    const doubt = verdict === undefined && (vetoed(p) || namesAlone(p));
    if (verdict === true || (verdict === undefined && !doubt && w >= thresholdWeight)) accepted.push(p);
    else if (verdict === undefined && (w >= reviewWeight || (doubt && w >= thresholdWeight)))
      review.push([...unpackPair(packed[p], n), probability(w)]);
  }
  accepted.sort((x, y) => weight[y] - weight[x] || x - y);
  const pairOf = (p: number): [number, number] => unpackPair(packed[p], n);
  const apart = (a: number, b: number): boolean => {
    if (settings.linkOnly && records.group?.[a] === records.group?.[b]) return true;
    const p = findPair(packed, n, a, b);
    if (p < 0) return false;
    const verdict = decided.get(p);
    // Judged different: names that disagree, or fields whose evidence says "two people" on balance. A pair
    // below the threshold only for want of evidence (the prior of a big table) does not keep a cluster apart.
    return verdict === false || (verdict === undefined && (vetoed(p) || evidence[p] < 0));
  };
  const clusters = clusterPairs({
    count: n,
    pairs: accepted.map(pairOf),
    maxSize: settings.maxCluster,
    apart,
    bridged: bridgedBy({
      comparisons,
      levelOf,
      prepared: (k, r) => prepared[k][r] ?? null,
      // Bridged only when comparison k alone keeps the pair apart: not a reviewer, not another comparison's
      // veto, not evidence against on balance.
      apartOnlyBy: (k, a, b) => {
        const p = findPair(packed, n, a, b);
        return (
          p >= 0 &&
          !decided.has(p) &&
          evidence[p] >= 0 &&
          comparisons.every((_c, j) => j === k || !vetoesAt(p, j, a, b))
        );
      },
    }),
  });

  return {
    compared: P,
    model,
    skipped,
    clusters,
    review,
    apart,
    weightOf: (a, b) => {
      const p = findPair(packed, n, a, b);
      return p < 0 ? undefined : weight[p];
    },
    explain: (a, b) => {
      const p = findPair(packed, n, a, b);
      if (p < 0) return undefined;
      const levels = vectors.subarray(p * K, p * K + K);
      const ws = fieldWeights(Math.min(a, b), levels);
      const total = weight[p];
      return {
        prior,
        fields: comparisons.map((c, k) => {
          const against = againstAt(k, a, b);
          const level = levels[k] === NULL_LEVEL ? 'blank' : c.levels[levels[k]];
          return { field: c.field, level: against ? `${level}, ${against}` : level, weight: ws[k] };
        }),
        weight: total,
        probability: probability(total),
      };
    },
  };
}

/**
 * Two records kept apart by a first name alone may join when a member of the cluster is close to both (within
 * a slip, a nickname or a spelling): they are two typos of one name (Corvis and Covius beside Corvius), not two
 * names. Not for two known given names (Mark and Mary), nor when any other comparison vetoes.
 */
function bridgedBy(input: {
  comparisons: readonly Comparison[];
  levelOf: (k: number, a: number, b: number) => number;
  prepared: (k: number, r: number) => Prepared | null;
  apartOnlyBy: (k: number, a: number, b: number) => boolean;
}): ((a: number, b: number, members: readonly number[]) => boolean) | undefined {
  const { comparisons, levelOf } = input;
  const name = comparisons.findIndex((c) => c.bridgeable !== undefined);
  if (name < 0) return undefined;
  const first = comparisons[name];
  const bridgeable = first.bridgeable as NonNullable<Comparison['bridgeable']>;
  return (a, b, members) => {
    const level = levelOf(name, a, b);
    if (level === NULL_LEVEL || level >= first.levels.length - 1 || !input.apartOnlyBy(name, a, b)) return false;
    const [x, y] = [input.prepared(name, a), input.prepared(name, b)];
    return (
      x !== null &&
      y !== null &&
      bridgeable(x, y) &&
      members.some((r) => r !== a && r !== b && levelOf(name, r, a) <= 1 && levelOf(name, r, b) <= 1)
    );
  };
}

/** Per term-frequency field: log2(E[tf] / tf(value)), the adjustment to an exact agreement on that value. */
function termFrequencies(
  comparisons: readonly Comparison[],
  prepared: (Prepared | null)[][],
  fields: readonly string[],
) {
  return comparisons.map((c, k) => {
    if (!fields.includes(c.field)) return undefined;
    const counts = new Map<string, number>();
    let total = 0;
    for (const v of prepared[k]) {
      if (!v) continue;
      counts.set(v.text, (counts.get(v.text) ?? 0) + 1);
      total += 1;
    }
    let expected = 0;
    for (const c of counts.values()) expected += (c / total) ** 2;
    return { adjust: (text: string) => Math.log2(expected / ((counts.get(text) ?? 1) / total)) };
  });
}

/** How many pairs there are to match among: all of them, or with `group` only those across groups. */
function allPairsOf(n: number, group: Uint8Array | undefined): number {
  if (!group) return (n * (n - 1)) / 2;
  const sizes = new Map<number, number>();
  for (const g of group) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  let same = 0;
  for (const s of sizes.values()) same += (s * (s - 1)) / 2;
  return (n * (n - 1)) / 2 - same;
}

/** Pairs sampled to estimate u; every pair when there are fewer. */
const U_SAMPLE = 200_000;

/**
 * Comparison vectors of random record pairs (a fixed seed: the same records give the same model, so a
 * resumed run merges exactly what the interrupted one planned). With `group`, pairs across groups only.
 */
function randomPairVectors(
  n: number,
  K: number,
  levelOf: (k: number, a: number, b: number) => number,
  group: Uint8Array | undefined,
): Uint8Array {
  const pairs: [number, number][] = [];
  const allowed = (a: number, b: number) => a !== b && (!group || group[a] !== group[b]);
  if (allPairsOf(n, group) <= U_SAMPLE) {
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) if (allowed(a, b)) pairs.push([a, b]);
  } else {
    const next = seededRandom(0x9e3779b9);
    while (pairs.length < U_SAMPLE) {
      const a = Math.floor(next() * n);
      const b = Math.floor(next() * n);
      if (allowed(a, b)) pairs.push([a, b]);
    }
  }
  const vectors = new Uint8Array(pairs.length * K);
  pairs.forEach(([a, b], i) => {
    for (let k = 0; k < K; k++) vectors[i * K + k] = levelOf(k, a, b);
  });
  return vectors;
}

/**
 * m, one blocking rule at a time, leaving out the comparisons of the rule's own fields (its pairs agree on
 * them by construction); then averaged, each session weighing by the matches it found. A comparison no
 * session could estimate keeps its default m.
 */
function estimateM(input: {
  rules: readonly BlockingRule[];
  comparisons: readonly Comparison[];
  byRule: readonly Float64Array[];
  packed: Float64Array;
  vectors: Uint8Array;
  u: readonly (readonly number[])[];
}): { m: number[][]; iterations: number } {
  const { comparisons, packed, vectors, u } = input;
  const K = comparisons.length;
  const levelCounts = comparisons.map((c) => c.levels.length);
  const sums = levelCounts.map((c) => ({ m: new Array<number>(c).fill(0), weight: 0 }));
  let iterations = 0;
  input.rules.forEach((rule, r) => {
    const exclude = new Set(
      comparisons.flatMap((c, k) => (rule.parts.some((part) => part.field === c.field) ? [k] : [])),
    );
    const pairs = input.byRule[r];
    const sessionVectors = new Uint8Array(pairs.length * K);
    pairs.forEach((v, i) => {
      const p = findPacked(packed, v);
      sessionVectors.set(vectors.subarray(p * K, p * K + K), i * K);
    });
    const session = trainM(patternsOf(sessionVectors, K), levelCounts, u, exclude);
    iterations += session.iterations;
    session.m.forEach((m, k) => {
      if (!m || session.matches < 1) return;
      const sum = sums[k];
      m.forEach((v, l) => (sum.m[l] = sum.m[l] + v * session.matches));
      sum.weight += session.matches;
    });
  });
  return {
    m: sums.map((s, k) => (s.weight > 0 ? s.m.map((v) => v / s.weight) : defaultM(levelCounts[k]))),
    iterations,
  };
}
