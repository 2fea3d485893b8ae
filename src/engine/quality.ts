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

export class QualityTally {
  readonly #fields: readonly string[];
  /** `OUTCOMES.length` counters per field, indexed by OUTCOME. */
  readonly #counts: number[];
  readonly #findings = new Map<string, number>();

  constructor(fields: readonly string[], from?: EntityQuality) {
    this.#fields = fields;
    this.#counts = new Array<number>(fields.length * OUTCOMES.length).fill(0);
    if (from) {
      fields.forEach((field, i) => {
        const q = from[field];
        if (!q) return;
        OUTCOMES.forEach((o, k) => (this.#counts[i * OUTCOMES.length + k] = q[o]));
        for (const f of q.findings) this.#findings.set(key(i, f.rule, f.code, f.outcome, f.detail), f.count);
      });
    }
  }

  row(field: number, outcome: number): void {
    (this.#counts[field * OUTCOMES.length + outcome] as number) += 1;
  }

  finding(field: number, rule: string, code: string, outcome: Exclude<Outcome, 'valid'>, detail?: string): void {
    const k = key(field, rule, code, outcome, detail);
    this.#findings.set(k, (this.#findings.get(k) ?? 0) + 1);
  }

  snapshot(): EntityQuality {
    const out: EntityQuality = {};
    this.#fields.forEach((field, i) => {
      const q = { checked: 0, findings: [] as Finding[] } as FieldQuality;
      OUTCOMES.forEach((o, k) => {
        q[o] = this.#counts[i * OUTCOMES.length + k] ?? 0;
        q.checked += q[o];
      });
      out[field] = q;
    });
    for (const [k, count] of this.#findings) {
      const [i, rule, code, outcome, detail] = k.split('\0') as [string, string, string, Finding['outcome'], string];
      out[this.#fields[Number(i)] ?? '']?.findings.push(detail === '' ? { rule, code, outcome, count } : { rule, code, outcome, count, detail });
    }
    for (const q of Object.values(out)) q.findings.sort((a, b) => b.count - a.count);
    return out;
  }
}

const key = (field: number, rule: string, code: string, outcome: string, detail = '') => `${field}\0${rule}\0${code}\0${outcome}\0${detail}`;
