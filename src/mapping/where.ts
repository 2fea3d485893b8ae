import { z } from 'zod';
import type { PlanIssue } from '../errors.js';
import type { Row, Value } from '../values.js';

/**
 * Row filters (`where:`): declarative conditions on source columns. A map of column → test, all of which must
 * hold; `and:` / `or:` take lists of such maps, `not:` one. A test is a value (equals) or one operator:
 * `{ ne: 1 }`, `{ in: [a, b] }`, `{ not_in: […] }`, `{ null: true }`, `{ gt: 0 }` (`gte`, `lt`, `lte`).
 * Comparisons follow SQL: a NULL column passes no test but `{ null: true }` (so `deleted: { ne: 1 }` drops
 * rows whose flag is NULL: write `or: [{ deleted: { ne: 1 } }, { deleted: { null: true } }]` to keep them).
 */
const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const Operators = z.strictObject({
  eq: Scalar.optional(),
  ne: Scalar.optional(),
  in: z.array(Scalar).min(1).optional(),
  not_in: z.array(Scalar).min(1).optional(),
  null: z.boolean().optional(),
  gt: Scalar.optional(),
  gte: Scalar.optional(),
  lt: Scalar.optional(),
  lte: Scalar.optional(),
});
export type WhereInput = {
  [column: string]: z.infer<typeof Scalar> | z.infer<typeof Operators> | WhereInput | WhereInput[];
};
export const Where: z.ZodType<WhereInput> = z.lazy(() =>
  z.record(z.string().min(1), z.union([Scalar, Operators, z.array(Where), Where])),
);

/** One top-level condition, compiled: how it reads in the summary (`deleted = 0`) and its test. */
export interface WhereClause {
  readonly text: string;
  readonly columns: readonly string[];
  readonly test: (get: (column: string) => Value) => boolean;
}

type Op = keyof z.infer<typeof Operators>;
const SYMBOL: Record<Op, string> = {
  eq: '=',
  ne: '<>',
  in: 'in',
  not_in: 'not in',
  null: 'is null',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

/** A source value as text for comparing with a plan's constant: numbers by value (`'0'` is 0), booleans as 1/0. */
function comparable(value: Value | boolean): string | number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

function compare(a: Value, b: z.infer<typeof Scalar>): number {
  const x = comparable(a);
  const y = comparable(b);
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  const [p, q] = [String(x), String(y)];
  return p < q ? -1 : p > q ? 1 : 0;
}

const shown = (v: z.infer<typeof Scalar>) => (typeof v === 'string' ? `'${v}'` : String(v));

function operatorTest(column: string, op: Op, operand: unknown): { text: string; test: (v: Value) => boolean } {
  switch (op) {
    case 'null':
      return { text: `${column} ${operand ? 'is null' : 'is not null'}`, test: (v) => (v === null) === operand };
    case 'in':
    case 'not_in': {
      const list = operand as z.infer<typeof Scalar>[];
      const hit = (v: Value) => list.some((o) => compare(v, o) === 0);
      return {
        text: `${column} ${SYMBOL[op]} (${list.map(shown).join(', ')})`,
        test: op === 'in' ? (v) => v !== null && hit(v) : (v) => v !== null && !hit(v),
      };
    }
    default: {
      const o = operand as z.infer<typeof Scalar>;
      const holds: Record<string, (c: number) => boolean> = {
        eq: (c) => c === 0,
        ne: (c) => c !== 0,
        gt: (c) => c > 0,
        gte: (c) => c >= 0,
        lt: (c) => c < 0,
        lte: (c) => c <= 0,
      };
      const check = holds[op];
      return { text: `${column} ${SYMBOL[op]} ${shown(o)}`, test: (v) => v !== null && check(compare(v, o)) };
    }
  }
}

/** Compiles one `where:` map into its top-level clauses; mistakes go to `issues` with their path. */
export function compileWhere(
  input: WhereInput,
  path: readonly (string | number)[],
  issues: PlanIssue[],
): WhereClause[] {
  const clauses: WhereClause[] = [];
  for (const [key, value] of Object.entries(input)) {
    const at = [...path, key];
    if (key === 'and' || key === 'or') {
      if (!Array.isArray(value)) {
        issues.push({
          severity: 'error',
          path: at,
          message: `"${key}" takes a list of conditions`,
          hint: `${key}: [{ status: active }, { deleted: 0 }]`,
        });
        continue;
      }
      const parts = value.map((v, i) => compileWhere(v, [...at, i], issues));
      const all = (p: WhereClause[]) => (get: (c: string) => Value) => p.every((c) => c.test(get));
      const tests = parts.map(all);
      clauses.push({
        text: `(${parts.map((p) => p.map((c) => c.text).join(' and ')).join(` ${key} `)})`,
        columns: parts.flat().flatMap((c) => c.columns),
        test: key === 'and' ? (get) => tests.every((t) => t(get)) : (get) => tests.some((t) => t(get)),
      });
    } else if (key === 'not') {
      if (Array.isArray(value) || value === null || typeof value !== 'object') {
        issues.push({
          severity: 'error',
          path: at,
          message: '"not" takes one condition',
          hint: 'not: { status: lead }',
        });
        continue;
      }
      const inner = compileWhere(value as WhereInput, at, issues);
      clauses.push({
        text: `not (${inner.map((c) => c.text).join(' and ')})`,
        columns: inner.flatMap((c) => c.columns),
        test: (get) => !inner.every((c) => c.test(get)),
      });
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const ops = Object.entries(value) as [string, unknown][];
      const known = ops.filter(([op]) => op in SYMBOL);
      if (known.length !== 1 || ops.length !== 1) {
        issues.push({
          severity: 'error',
          path: at,
          message: `a test on ${key} takes one operator`,
          hint: `one of ${Object.keys(SYMBOL).join(', ')}, e.g. ${key}: { ne: 1 }`,
        });
        continue;
      }
      const [op, operand] = known[0] as [Op, unknown];
      const t = operatorTest(key, op, operand);
      clauses.push({ text: t.text, columns: [key], test: (get) => t.test(get(key)) });
    } else if (Array.isArray(value)) {
      issues.push({
        severity: 'error',
        path: at,
        message: `a list is for and/or; to test ${key} against several values use in`,
        hint: `${key}: { in: [${value.map(String).join(', ')}] }`,
      });
    } else {
      const t = operatorTest(key, 'eq', value);
      clauses.push({ text: t.text, columns: [key], test: (get) => t.test(get(key)) });
    }
  }
  return clauses;
}

/**
 * The filter of an entity's rows over its source columns: the first clause a row fails (its text), or
 * undefined for a row that is kept. Undefined when the entity has no `where:`.
 */
export function rowFilter(
  clauses: readonly WhereClause[],
  columns: readonly string[],
): ((row: Row) => string | undefined) | undefined {
  if (clauses.length === 0) return undefined;
  const at = new Map(columns.map((c, i) => [c, i]));
  return (row) => {
    const get = (column: string): Value => row[at.get(column) ?? -1] ?? null;
    for (const clause of clauses) if (!clause.test(get)) return clause.text;
    return undefined;
  };
}
