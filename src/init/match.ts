import type { ColumnInfo, ForeignKey, TableInfo } from '../connectors/contract.js';
import { compatibility } from '../engine/schema-check.js';
import { columnSimilarity, isAuditColumn, similarity, tableWords, words } from './names.js';

/** A column name must be at least this alike to be matched. */
const COLUMN_MATCH = 0.8;

/** One target column as the draft fills it: a copy, a name part, or nothing (with why). */
export interface FieldDraft {
  readonly target: ColumnInfo;
  readonly source?: ColumnInfo | undefined;
  /** `name.first` / `name.last` / `name.middle` when a full-name column feeds first/last name columns. */
  readonly transform?: string | undefined;
  /** A cleaning rule the column's name calls for: `email`, or `phone` (with the row's country column if there is one). */
  readonly clean?: string | undefined;
  /** Risks the user should read: too long, NOT NULL from nullable, lossy type. */
  readonly risks: string[];
  /** Set when the pair cannot be mapped at all (the line is written as a comment). */
  readonly impossible?: string | undefined;
  /** The entity a foreign-key column refers to (set when the plan is rendered); `self` for a table referring to itself. */
  readonly ref?: { readonly entity: string; readonly self: boolean } | undefined;
}

export interface EntityDraft {
  readonly source: TableInfo;
  readonly target: TableInfo;
  readonly key: readonly string[];
  readonly fields: readonly FieldDraft[];
  /** Source columns nothing reads. */
  readonly unmapped: readonly string[];
  /** Target columns nothing fills, NOT NULL without a default among them. */
  readonly unfilled: readonly ColumnInfo[];
  /** The target table's one-column foreign keys: such fields become `ref:` to the entity filling the referenced table. */
  readonly foreignKeys: readonly ForeignKey[];
}

const FULL_NAME = ['name', 'full name', 'contact name', 'customer name', 'person name', 'display name'];

/**
 * How well a source table fits a target table, 0 to 1: the names, and how many target columns find a source
 * column. A pair qualifies when the names are alike, or when at least three columns besides the key match
 * and they are half the target's: two tables that share only `id` and `title` are not the same thing. Audit
 * columns (`created_at`, `updated_at`, `deleted`) do not count: every table of a CRM has them.
 */
export function tableScore(source: TableInfo, target: TableInfo): { score: number; qualifies: boolean } {
  const s = tableWords(source.name);
  const t = tableWords(target.name);
  const name = similarity(s.join(' '), t.join(' '));
  const telling = target.columns.filter((tc) => !isAuditColumn(tc.name));
  const matched = telling.filter((tc) =>
    source.columns.some((sc) => !isAuditColumn(sc.name) && columnSimilarity(sc.name, tc.name, s, t) >= COLUMN_MATCH),
  );
  const overlap = telling.length === 0 ? 0 : matched.length / telling.length;
  const beyondKey = matched.filter((c) => !target.primaryKey.includes(c.name)).length;
  return {
    score: 0.4 * name + 0.6 * overlap,
    qualifies: (name >= 0.75 && matched.length > 0) || (beyondKey >= 3 && overlap >= 0.5),
  };
}

/** Pairs qualifying tables greedily, best score first, each table used once. */
export function matchTables(sources: readonly TableInfo[], targets: readonly TableInfo[]): [TableInfo, TableInfo][] {
  const pairs = sources.flatMap((s) =>
    targets.map((t): [TableInfo, TableInfo, ReturnType<typeof tableScore>] => [s, t, tableScore(s, t)]),
  );
  pairs.sort((a, b) => b[2].score - a[2].score);
  const used = new Set<TableInfo>();
  const chosen: [TableInfo, TableInfo][] = [];
  for (const [s, t, fit] of pairs) {
    if (!fit.qualifies || used.has(s) || used.has(t)) continue;
    used.add(s).add(t);
    chosen.push([s, t]);
  }
  return chosen;
}

/** Matches one table pair column by column and notes what could go wrong. */
export function draftEntity(
  source: TableInfo,
  target: TableInfo,
  longest: Readonly<Record<string, number>>,
  foreignKeys: readonly ForeignKey[] = [],
): EntityDraft {
  const s = tableWords(source.name);
  const t = tableWords(target.name);
  const candidates = target.columns.flatMap((tc) =>
    source.columns.map((sc): [ColumnInfo, ColumnInfo, number] => [tc, sc, columnSimilarity(sc.name, tc.name, s, t)]),
  );
  candidates.sort((a, b) => b[2] - a[2]);
  const byTarget = new Map<ColumnInfo, ColumnInfo>();
  const usedSource = new Set<ColumnInfo>();
  for (const [tc, sc, score] of candidates) {
    if (score < COLUMN_MATCH || byTarget.has(tc) || usedSource.has(sc)) continue;
    // Alike names of types that can never convert (created_at, a timestamp, and created_by, a user id) are not the
    // same column; the same name is paired still, and the draft says why it cannot be copied.
    if (score < 1 && compatibility(sc.type, tc.type) === 'never') continue;
    byTarget.set(tc, sc);
    usedSource.add(sc);
  }
  // A full name facing first/last name columns: the name parser fills them.
  const fullName = source.columns.find(
    (c) =>
      !usedSource.has(c) &&
      c.type === 'text' &&
      FULL_NAME.some(
        (n) =>
          words(c.name)
            .filter((w) => !s.includes(w) || w === 'name')
            .join(' ') === n,
      ),
  );
  const parts: Record<string, string> = {};
  if (fullName) {
    for (const tc of target.columns) {
      const w = words(tc.name).join(' ');
      const part =
        w === 'first name'
          ? 'name.first'
          : w === 'last name'
            ? 'name.last'
            : w === 'middle name'
              ? 'name.middle'
              : undefined;
      if (part && !byTarget.has(tc)) parts[tc.name] = part;
    }
    if (Object.keys(parts).length > 0) usedSource.add(fullName);
  }
  const country = source.columns.find((c) => words(c.name).includes('country'));
  const fields: FieldDraft[] = [];
  for (const tc of target.columns) {
    const part = parts[tc.name];
    const sc = part ? fullName : byTarget.get(tc);
    if (!sc) continue;
    const tw = words(tc.name);
    const clean = tw.includes('email')
      ? 'email'
      : tw.includes('phone') || tw.includes('fax')
        ? country
          ? `{ phone: { country_from: ${country.name} } }`
          : 'phone'
        : undefined;
    fields.push({
      target: tc,
      source: sc,
      transform: part,
      clean,
      ...assess(sc, tc, part === undefined ? longest[sc.name] : undefined),
    });
  }
  const key =
    source.primaryKey.length > 0
      ? source.primaryKey
      : source.columns
          .filter((c) => words(c.name).join(' ') === 'id')
          .map((c) => c.name)
          .slice(0, 1);
  return {
    source,
    target,
    key: key.length > 0 ? key : [source.columns[0]?.name ?? 'id'],
    fields,
    unmapped: source.columns.filter((c) => !usedSource.has(c)).map((c) => c.name),
    unfilled: target.columns.filter((c) => !fields.some((f) => f.target === c && !f.impossible)),
    foreignKeys,
  };
}

/** What a copy of `source` into `target` risks; `longest` is the longest source value, when it was measured. */
function assess(
  source: ColumnInfo,
  target: ColumnInfo,
  longest: number | undefined,
): { risks: string[]; impossible?: string } {
  const risks: string[] = [];
  const fit = compatibility(source.type, target.type);
  if (fit === 'never') return { risks, impossible: `${source.nativeType} cannot become ${target.nativeType}` };
  if (fit === 'lossy')
    risks.push(`${source.nativeType} into ${target.nativeType}: values that do not fit are quarantined`);
  if (target.maxLength !== undefined && longest !== undefined && longest > target.maxLength) {
    risks.push(
      `the longest ${source.name} has ${longest} characters, ${target.name} holds ${target.maxLength}: longer values are quarantined (too_long), never cut`,
    );
  }
  if (!target.nullable && !target.hasDefault && source.nullable)
    risks.push(
      `${target.name} is NOT NULL but ${source.name} may be empty: such rows are quarantined (add default: … to fill them)`,
    );
  return { risks };
}
