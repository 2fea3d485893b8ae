import type * as Filtrex from 'filtrex';
import type { Operators } from 'filtrex';
import { z } from 'zod';
import { isBlank as isBlankValue, type Value } from '../values.js';
import { didYouMean } from '../suggest.js';
import { builtinStep, invalid, ok, type StepContext, type StepDefinition } from './steps.js';
import { requireOnDemand } from '../require-on-demand.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

/**
 * `{ expr: "amount * 1000000" }`: a small expression over the row's source columns (text in double quotes, a
 * column name with spaces in single quotes), for what legacy schemas
 * needed views for: arithmetic, `if … then … else …`, text built with `+`, fallbacks, date parts, a URL's domain.
 *
 * filtrex parses and compiles it (a grammar of its own: no JavaScript is evaluated, no property outside the
 * row can be reached, 50 ns an evaluation, measured here), when the plan loads, so a syntax error is a plan
 * error. What filtrex leaves to JavaScript is made SQL-like here: arithmetic on NULL is NULL (never 0), and
 * comparing NULL is false.
 */

/** Words of the expression language, not columns. */
const KEYWORDS = new Set(['if', 'then', 'else', 'and', 'or', 'not', 'in', 'mod', 'true', 'false', 'null', 'of']);

const nullSafe =
  (op: (a: number, b: number) => number) =>
  (a: unknown, b: unknown): unknown =>
    a === null || a === undefined || b === null || b === undefined ? null : op(a as number, b as number);

/** Text or NULL: the functions below take what the row holds. */
const text = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);

/** Blank: NULL, empty or spaces, or a zero date (MySQL's 0000-00-00) — what legacy CRMs store for "none". */
const isBlank = (v: unknown): boolean => isBlankValue((v ?? null) as Value) || /^0000-00-00/.test(text(v) ?? '');

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  /** The first argument that is not blank, else NULL. */
  coalesce: (...args) => args.find((a) => !isBlank(a)) ?? null,
  blank: (v) => isBlank(v),
  lower: (v) => text(v)?.toLowerCase() ?? null,
  upper: (v) => text(v)?.toUpperCase() ?? null,
  trim: (v) => text(v)?.trim() ?? null,
  text: (v) => text(v),
  number: (v) => (isBlank(v) ? null : Number.isFinite(Number(v)) ? Number(v) : null),
  /** Date parts of an ISO date or timestamp (what the connectors read dates as). */
  year: (v) => (isBlank(v) ? null : Number(text(v)?.slice(0, 4))),
  month: (v) => (isBlank(v) ? null : Number(text(v)?.slice(5, 7))),
  day: (v) => (isBlank(v) ? null : Number(text(v)?.slice(8, 10))),
  /** regex_replace(text, "pattern", "replacement"): every match replaced (JavaScript regular expression syntax). */
  regex_replace: (v, pattern, replacement) =>
    text(v)?.replace(new RegExp(String(pattern), 'g'), String(replacement ?? '')) ?? null,
  /** The host of a URL, without www. (`https://www.acme.com/x` → `acme.com`); NULL for what is not one. */
  domain: (v) => {
    const t = text(v)?.trim();
    if (!t) return null;
    try {
      return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(t) ? t : `http://${t}`).hostname
        .replace(/^www\./, '')
        .toLowerCase();
    } catch {
      return null;
    }
  },
};

const OPERATORS: Operators = {
  '+': (a: unknown, b: unknown): unknown =>
    a === null || a === undefined || b === null || b === undefined
      ? null
      : typeof a === 'string' || typeof b === 'string'
        ? `${text(a)}${text(b)}`
        : (a as number) + (b as number),
  '-': (a: unknown, b?: unknown) =>
    b === undefined ? (a === null || a === undefined ? null : -(a as number)) : nullSafe((x, y) => x - y)(a, b),
  '*': nullSafe((a, b) => a * b),
  '/': nullSafe((a, b) => a / b),
  '%': nullSafe((a, b) => a % b),
  '^': nullSafe((a, b) => a ** b),
  // Comparing NULL is false, as in SQL (JavaScript would call null < 1 true); '0' equals 0, as a CSV's text does.
  // Loose on purpose: text from a file compares with numbers.
  '==': (a: unknown, b: unknown) => a != null && b != null && a == b,
  '!=': (a: unknown, b: unknown) => a != null && b != null && a != b,
  '<': (a: unknown, b: unknown) => a != null && b != null && (a as number) < (b as number),
  '<=': (a: unknown, b: unknown) => a != null && b != null && (a as number) <= (b as number),
  '>': (a: unknown, b: unknown) => a != null && b != null && (a as number) > (b as number),
  '>=': (a: unknown, b: unknown) => a != null && b != null && (a as number) >= (b as number),
};

/** The expression with its text ("…") blanked out: words inside are text, not columns or functions. */
const withoutText = (expression: string): string => expression.replace(/"(?:[^"\\]|\\.)*"/g, ' ');

/** The source columns an expression reads: its names that are not keywords, functions, or inside quotes. */
export function expressionColumns(expression: string): string[] {
  // A name in single quotes is a column too ('first name'), as filtrex reads it; a joined column is alias.column.
  const plain = withoutText(expression);
  const quoted = [...plain.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]);
  const bare = plain.replace(/'(?:[^'\\]|\\.)*'/g, ' ');
  const names = [...bare.matchAll(/[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?=\s*(\()?)/g)]
    .filter((m) => m[1] === undefined && !KEYWORDS.has(m[0]))
    .map((m) => m[0]);
  return [...new Set([...names, ...quoted])];
}

/** filtrex's own functions, beside FUNCTIONS. */
const BUILT_IN = ['abs', 'ceil', 'floor', 'log', 'log2', 'log10', 'max', 'min', 'round', 'sqrt', 'exists', 'empty'];

/** The expression compiled, or why it cannot be (a syntax error, a function that does not exist) in one line. */
export function compileRowExpression(
  expression: string,
): { evaluate: (get: (column: string) => Value) => unknown } | { error: string } {
  const bare = withoutText(expression);
  const known = [...Object.keys(FUNCTIONS), ...BUILT_IN];
  for (const m of bare.matchAll(/([A-Za-z_$][\w$.]*)\s*\(/g)) {
    const name = m[1];
    if (!known.includes(name) && !KEYWORDS.has(name))
      return {
        error: `no function "${name}"${didYouMean(name, known) ? ` (${didYouMean(name, known) as string})` : ''}; there are ${known.join(', ')}`,
      };
  }
  try {
    // Required when a plan first holds an expression: most do not, and every command paid for the import.
    const { compileExpression } = requireOnDemand('filtrex') as typeof Filtrex;
    // Names resolve through the row's getter only: nothing of an object's prototype is ever reachable.
    const run = compileExpression(expression, {
      extraFunctions: FUNCTIONS,
      operators: OPERATORS,
      customProp: (name: string, _safe: unknown, row: { get: (column: string) => Value }) => row.get(name),
    });
    return { evaluate: (get) => run({ get }) };
  } catch (error) {
    return {
      error: ((error as Error).message ?? String(error))
        .split('\n')
        .filter((l) => l.trim() !== '')
        .join(' ')
        .replace(/\s+/g, ' ')
        .slice(0, 200),
    };
  }
}

const Expr = z
  .string()
  .min(1)
  .superRefine((expression, ctx) => {
    const compiled = compileRowExpression(expression);
    if ('error' in compiled) ctx.addIssue({ code: 'custom', message: `not a valid expression: ${compiled.error}` });
  });

STEPS.push(
  builtinStep({
    name: 'expr',
    kind: 'transform',
    takes: 'one',
    options: Expr,
    reads: (expression: string) => expressionColumns(expression),
    create: (expression: string) => {
      const compiled = compileRowExpression(expression);
      if ('error' in compiled) throw new Error(compiled.error);
      return (input, context?: StepContext) => {
        try {
          const result = compiled.evaluate((column) => context?.get(column) ?? null);
          // filtrex answers errors (a function given nonsense) as values: they are failures of the row.
          if (result instanceof Error || (typeof result === 'number' && !Number.isFinite(result)))
            return invalid(input as Value, 'expression_failed');
          return ok(result === undefined ? null : typeof result === 'boolean' ? result : (result as Value));
        } catch {
          return invalid(input as Value, 'expression_failed');
        }
      };
    },
  }),
);
