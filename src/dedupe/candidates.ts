import type { Value } from '../values.js';
import { keyPart, type BlockingRule } from './blocking.js';

/** The records to match: each field's values by record index, and for linkage the source each record came from. */
export interface MatchRecords {
  readonly count: number;
  readonly columns: ReadonlyMap<string, readonly Value[]>;
  /** Which source (0, 1, …) each record came from; with `linkOnly`, only records of different sources are paired. */
  readonly group?: Uint8Array | undefined;
}

/** What blocking left out: blocks bigger than the limit are not paired (they would be quadratic), and say so. */
export interface SkippedBlocks {
  readonly rule: string;
  readonly blocks: number;
  readonly records: number;
}

export interface Candidates {
  /** Pairs (a < b) as a·count + b, sorted and unique: a pair found by two rules is compared once. */
  readonly packed: Float64Array;
  /** Each rule's own pairs (packed the same way), at most TRAINING_PAIRS of them: the model is trained rule by rule. */
  readonly byRule: readonly Float64Array[];
  readonly skipped: SkippedBlocks[];
}

/** Pairs per blocking rule used to estimate m; more adds time, not accuracy. */
const TRAINING_PAIRS = 300_000;

/**
 * The candidate pairs: records that agree on every part of at least one blocking rule. Each rule's blocks
 * are laid out in one array of record indexes (a million records, not a million small arrays).
 */
export function candidatePairs(
  records: MatchRecords,
  rules: readonly BlockingRule[],
  options: { maxBlock: number; linkOnly: boolean },
): Candidates {
  const n = records.count;
  let packed = new Float64Array(1 << 16);
  let size = 0;
  const push = (a: number, b: number) => {
    if (size === packed.length) {
      const grown = new Float64Array(packed.length * 2);
      grown.set(packed);
      packed = grown;
    }
    packed[size++] = packPair(a, b, n);
  };
  const skipped: SkippedBlocks[] = [];
  const byRule: Float64Array[] = [];
  for (const rule of rules) {
    const ruleStart = size;
    const keys: (string | null)[] = new Array<string | null>(n);
    const columns = rule.parts.map((p) => records.columns.get(p.field) ?? []);
    for (let i = 0; i < n; i++) {
      let key = '';
      for (let k = 0; k < rule.parts.length; k++) {
        const part = keyPart(rule.parts[k].fn, columns[k]?.[i] ?? null);
        if (part === null) {
          key = '';
          break;
        }
        key += (k === 0 ? '' : '\u0001') + part;
      }
      keys[i] = key === '' ? null : key;
    }
    // Blocks by counting sort over block numbers: no string comparisons, linear in the records.
    const blockOf = new Map<string, number>();
    const block = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const key = keys[i];
      if (key === null || key === undefined) continue;
      let id = blockOf.get(key);
      if (id === undefined) blockOf.set(key, (id = blockOf.size));
      block[i] = id;
    }
    const starts = new Int32Array(blockOf.size + 1);
    for (let i = 0; i < n; i++) if (block[i] >= 0) starts[block[i] + 1]++;
    for (let b = 0; b < blockOf.size; b++) starts[b + 1] = starts[b + 1] + starts[b];
    const order = new Int32Array(starts[blockOf.size]);
    const fill = starts.slice(0, blockOf.size);
    for (let i = 0; i < n; i++) if (block[i] >= 0) order[fill[block[i]]++] = i;
    const tooBig = { blocks: 0, records: 0 };
    for (let b = 0; b < blockOf.size; b++) {
      const start = starts[b];
      const end = starts[b + 1];
      if (end - start < 2) continue;
      if (end - start > options.maxBlock) {
        tooBig.blocks += 1;
        tooBig.records += end - start;
        continue;
      }
      for (let x = start; x < end; x++) {
        for (let y = x + 1; y < end; y++) {
          const a = order[x];
          const c = order[y];
          if (options.linkOnly && records.group?.[a] === records.group?.[c]) continue;
          push(a, c);
        }
      }
    }
    if (tooBig.blocks > 0) skipped.push({ rule: rule.text, ...tooBig });
    // An even spread of the rule's pairs (every k-th), so a big rule trains on a sample of all its blocks.
    const count = size - ruleStart;
    const step = Math.max(1, Math.ceil(count / TRAINING_PAIRS));
    byRule.push(Float64Array.from({ length: Math.ceil(count / step) }, (_v, i) => packed[ruleStart + i * step]));
  }
  const sorted = packed.subarray(0, size).sort();
  let unique = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[unique++] = sorted[i];
  return { packed: sorted.slice(0, unique), byRule, skipped };
}

/** A pair as one number, the smaller record first: a·count + b. */
export const packPair = (a: number, b: number, count: number): number => (a < b ? a * count + b : b * count + a);

/** The two records of a packed pair, the smaller first. */
export function unpackPair(packed: number, count: number): [number, number] {
  const a = Math.floor(packed / count);
  return [a, packed - a * count];
}

/** Where pair (a, b) sits in the sorted candidates, or -1. */
export const findPair = (packed: Float64Array, count: number, a: number, b: number): number =>
  findPacked(packed, packPair(a, b, count));

/** Where a packed pair sits in the sorted candidates (binary search), or -1. */
export function findPacked(packed: Float64Array, target: number): number {
  let lo = 0;
  let hi = packed.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = packed[mid];
    if (v === target) return mid;
    if (v < target) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
