/**
 * The Fellegi-Sunter model, trained without labels the way Splink trains it: u (how often two different
 * people agree at each level) from random record pairs; m (how often the same person does) by
 * expectation-maximisation over each blocking rule's pairs with that rule's own fields left out (they agree
 * by construction there, so they say nothing); λ, the chance that two records match, as the fixed point of
 * "expected matches among the candidates ÷ all pairs". Pairs are grouped by their comparison vector — a
 * million pairs fall into a few hundred patterns — so each EM step costs patterns, not pairs.
 */
export interface FsModel {
  /** The prior: the chance two records picked at random are the same customer. */
  readonly lambda: number;
  /** m[k][level] and u[k][level], comparison by comparison. */
  readonly m: readonly (readonly number[])[];
  readonly u: readonly (readonly number[])[];
  readonly iterations: number;
}

/** A missing value: the comparison says nothing either way (weight 0). */
export const NULL_LEVEL = 255;

const SMOOTH = 1e-6;

type Patterns = { levels: number[]; count: number }[];

export function patternsOf(vectors: Uint8Array, K: number): Patterns {
  const patterns = new Map<string, { levels: number[]; count: number }>();
  for (let p = 0; p < vectors.length / K; p++) {
    const levels = Array.from(vectors.subarray(p * K, p * K + K));
    const key = levels.join(',');
    const known = patterns.get(key);
    if (known) known.count += 1;
    else patterns.set(key, { levels, count: 1 });
  }
  return [...patterns.values()];
}

/** u from comparison vectors of random pairs (nearly all of them different people); no level is ever 0. */
export function estimateU(vectors: Uint8Array, levelCounts: readonly number[]): number[][] {
  const K = levelCounts.length;
  const counts = levelCounts.map((n) => new Array<number>(n).fill(0.5));
  for (let p = 0; p < vectors.length / K; p++) {
    for (let k = 0; k < K; k++) {
      const l = vectors[p * K + k];
      if (l !== NULL_LEVEL) counts[k][l] += 1;
    }
  }
  return counts.map((c) => {
    const t = c.reduce((a, b) => a + b, 0);
    return c.map((v) => v / t);
  });
}

/** The m a comparison starts from, and keeps when no training session could estimate it. */
export const defaultM = (levels: number): number[] =>
  Array.from({ length: levels }, (_v, l) => (l === 0 ? 0.9 : 0.1 / (levels - 1)));

/**
 * One training session: EM over pairs with u fixed, estimating m of the comparisons not in `exclude`, and
 * the session's own match share. Returns m per comparison (undefined where excluded) and the expected
 * number of matches, which weighs the session when sessions are averaged.
 */
export function trainM(
  patterns: Patterns,
  levelCounts: readonly number[],
  u: readonly (readonly number[])[],
  exclude: ReadonlySet<number>,
  options: { maxIterations?: number; tolerance?: number } = {},
) {
  const K = levelCounts.length;
  let m = levelCounts.map((n) => defaultM(n));
  let lambda = 0.1;
  let iterations = 0;
  let matches = 0;
  for (; iterations < (options.maxIterations ?? 100); iterations++) {
    const sums = levelCounts.map((n) => new Array<number>(n).fill(SMOOTH));
    let matched = 0;
    let total = 0;
    for (const { levels, count } of patterns) {
      let pm = lambda;
      let pu = 1 - lambda;
      for (let k = 0; k < K; k++) {
        const l = levels[k];
        if (l === NULL_LEVEL || exclude.has(k)) continue;
        pm *= m[k][l];
        pu *= u[k][l];
      }
      const g = pm / (pm + pu);
      matched += g * count;
      total += count;
      for (let k = 0; k < K; k++) {
        const l = levels[k];
        if (l !== NULL_LEVEL && !exclude.has(k)) sums[k][l] += g * count;
      }
    }
    const next = sums.map((s, k) => {
      if (exclude.has(k)) return m[k];
      const t = s.reduce((a, b) => a + b, 0);
      return s.map((v) => v / t);
    });
    const nextLambda = total === 0 ? lambda : Math.min(Math.max(matched / total, SMOOTH), 1 - SMOOTH);
    let change = Math.abs(nextLambda - lambda);
    next.forEach((row, k) => row.forEach((v, l) => (change = Math.max(change, Math.abs(v - m[k][l])))));
    m = next;
    lambda = nextLambda;
    matches = matched;
    if (change < (options.tolerance ?? 1e-6)) break;
  }
  return { m: m.map((row, k) => (exclude.has(k) ? undefined : row)), matches, iterations: iterations + 1 };
}

/** log2(m/u) of each comparison level: how much agreeing at that level says for a match. */
export function levelWeights(model: FsModel): number[][] {
  return model.m.map((ms, k) => ms.map((mv, l) => Math.log2(mv / model.u[k][l])));
}

export const priorWeight = (model: FsModel): number => Math.log2(model.lambda / (1 - model.lambda));

export const probability = (weight: number): number => 1 / (1 + 2 ** -weight);

/** The lowest prior: at it, the model found (next to) no matches among the candidates. */
export const PRIOR_FLOOR = 1e-12;

/**
 * λ over all pairs: the candidates' expected matches (their posteriors under λ) ÷ all pairs, to a fixed
 * point. Pairs left out by blocking count as non-matches — blocking is meant to miss almost no match.
 */
export function estimatePrior(evidence: Float64Array, allPairs: number): number {
  let lambda = Math.min(0.5, evidence.length / Math.max(allPairs, 1));
  for (let i = 0; i < 100; i++) {
    const prior = Math.log2(lambda / (1 - lambda));
    let expected = 0;
    for (const e of evidence) expected += 1 / (1 + 2 ** -(prior + e));
    const next = Math.min(Math.max(expected / allPairs, PRIOR_FLOOR), 0.5);
    if (Math.abs(next - lambda) <= lambda * 1e-6) return next;
    lambda = next;
  }
  return lambda;
}
