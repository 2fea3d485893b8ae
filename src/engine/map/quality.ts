/**
 * The cleaning quality report: per entity and target field, what happened to the values. Each row's field
 * has exactly one outcome — the most serious of its findings — so the outcomes add up to `checked`.
 * Counts and codes only: never a value.
 */
export const OUTCOMES = ['valid', 'flagged', 'corrected', 'kept', 'nulled', 'quarantined'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Finding {
  readonly rule: string;
  readonly code: string;
  readonly outcome: Exclude<Outcome, 'valid'>;
  readonly count: number;
  /** For findings about a category value (an unmapped picklist code): which one. */
  readonly detail?: string;
}

export type FieldQuality = { checked: number; findings: Finding[] } & Record<Outcome, number>;

/** Per target field. */
export type EntityQuality = Record<string, FieldQuality>;

export const OUTCOME = { valid: 0, flagged: 1, corrected: 2, kept: 3, nulled: 4, quarantined: 5 } as const;

/** Counts per outcome (indexed by OUTCOME) of one rule's code on one field. */
type OutcomeCounts = number[];

/** The values a finding lists at most (unmapped picklist codes); the others are counted without their value. */
export const MAX_DETAILS = 20;

export class QualityTally {
  readonly #fields: readonly string[];
  /** `OUTCOMES.length` counters per field, indexed by OUTCOME. */
  readonly #counts: number[];
  /**
   * Findings per field, then rule, then code. Nested maps keyed by the rules' own (interned) strings: a
   * joined string key per finding cost 6 % of a full load's CPU time, as most rows have a finding.
   */
  readonly #findings: Map<string, Map<string, OutcomeCounts>>[];
  /** Findings about a category value (rare): keyed by field, rule, code, outcome and detail joined. */
  readonly #detailed = new Map<string, number>();
  /** How many values each finding lists (keyed as above, without the detail): at most MAX_DETAILS. */
  readonly #listed = new Map<string, number>();

  constructor(fields: readonly string[], from?: EntityQuality) {
    this.#fields = fields;
    this.#counts = new Array<number>(fields.length * OUTCOMES.length).fill(0);
    this.#findings = fields.map(() => new Map());
    if (from) this.merge(from);
  }

  /** Back to zero: each chunk is counted on its own, and its counts travel with it to be merged in order. */
  reset(): void {
    this.#counts.fill(0);
    for (const rules of this.#findings) rules.clear();
    this.#detailed.clear();
    this.#listed.clear();
  }

  row(field: number, outcome: number): void {
    this.#counts[field * OUTCOMES.length + outcome] += 1;
  }

  finding(field: number, rule: string, code: string, outcome: Exclude<Outcome, 'valid'>, detail?: string): void {
    this.#add(field, rule, code, outcome, detail, 1);
  }

  /** Adds another tally's counts (a chunk mapped elsewhere) to this one. Fields must be the same. */
  merge(other: EntityQuality): void {
    this.#fields.forEach((field, i) => {
      const q = other[field];
      if (!q) return;
      OUTCOMES.forEach((o, k) => (this.#counts[i * OUTCOMES.length + k] += q[o]));
      for (const f of q.findings) this.#add(i, f.rule, f.code, f.outcome, f.detail, f.count);
    });
  }

  #add(
    field: number,
    rule: string,
    code: string,
    outcome: Exclude<Outcome, 'valid'>,
    detail: string | undefined,
    count: number,
  ): void {
    if (detail !== undefined) {
      const finding = `${field}\0${rule}\0${code}\0${outcome}`;
      const k = `${finding}\0${detail}`;
      const seen = this.#detailed.get(k);
      const listed = this.#listed.get(finding) ?? 0;
      // A picklist on a free-text column would list every distinct text: past the cap, values are only counted.
      if (seen !== undefined || listed < MAX_DETAILS) {
        this.#detailed.set(k, (seen ?? 0) + count);
        if (seen === undefined) this.#listed.set(finding, listed + 1);
        return;
      }
    }
    const rules = this.#findings[field];
    let codes = rules.get(rule);
    if (!codes) rules.set(rule, (codes = new Map()));
    let counts = codes.get(code);
    if (!counts) codes.set(code, (counts = new Array<number>(OUTCOMES.length).fill(0)));
    counts[OUTCOME[outcome]] += count;
  }

  snapshot(): EntityQuality {
    const out: EntityQuality = {};
    this.#fields.forEach((field, i) => {
      const q = { checked: 0, findings: [] as Finding[] } as FieldQuality;
      OUTCOMES.forEach((o, k) => {
        q[o] = this.#counts[i * OUTCOMES.length + k] ?? 0;
        q.checked += q[o];
      });
      for (const [rule, codes] of this.#findings[i] ?? []) {
        for (const [code, counts] of codes) {
          counts.forEach((count, k) => {
            if (count > 0) q.findings.push({ rule, code, outcome: OUTCOMES[k] as Finding['outcome'], count });
          });
        }
      }
      out[field] = q;
    });
    for (const [k, count] of this.#detailed) {
      const [i, rule, code, outcome, detail] = k.split('\0') as [string, string, string, Finding['outcome'], string];
      out[this.#fields[Number(i)] ?? '']?.findings.push({ rule, code, outcome, count, detail });
    }
    for (const q of Object.values(out)) q.findings.sort((a, b) => b.count - a.count);
    return out;
  }
}

/**
 * Rows a `where:` filtered out, by the clause they failed (`deleted = 0`): stored in the checkpoint beside the
 * quality counts (the store keeps both as one JSON value), so a resumed run reports them whole.
 */
export type FilterCounts = Record<string, number>;

// Not a column name a target would have (and no NUL: PostgreSQL's jsonb refuses one).
const FILTERED = '(filtered by where)';

/** The checkpoint's quality value: the counts per field, and the filter counts when there are any. */
export function storedQuality(quality: EntityQuality, filtered: FilterCounts): unknown {
  return Object.keys(filtered).length === 0 ? quality : { ...quality, [FILTERED]: filtered };
}

/** A checkpoint's quality value taken apart again (what `storedQuality` made, or what older runs stored). */
export function readStoredQuality(stored: unknown): { quality: EntityQuality; filtered: FilterCounts } {
  if (stored === null || typeof stored !== 'object') return { quality: {}, filtered: {} };
  const { [FILTERED]: filtered, ...quality } = stored as Record<string, unknown>;
  return { quality: quality as EntityQuality, filtered: { ...(filtered as FilterCounts | undefined) } };
}
