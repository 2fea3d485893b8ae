import type { StepIssue, StepResult } from '../mapping/steps.js';
import { ok } from '../mapping/steps.js';
import type { Value } from '../values.js';

/** A rule over text: non-text values pass through untouched (a rule never guesses at a number or a date). */
export const textRule = (rule: (s: string) => StepResult) => (input: Value | readonly Value[]) =>
  typeof input === 'string' ? rule(input) : ok(input as Value);

const fixedCache = new Map<string, readonly StepIssue[]>();
/** The shared issue list for one correction code (no allocation per row). */
export function fixed(code: string): readonly StepIssue[] {
  let issues = fixedCache.get(code);
  if (!issues) {
    issues = Object.freeze([{ code, kind: 'fixed' as const }]);
    fixedCache.set(code, issues);
  }
  return issues;
}

/** The value, reported as corrected with `code` when it differs from what came in. */
export const changed = (before: string, after: Value, code: string): StepResult =>
  before === after ? ok(after) : { value: after, issues: fixed(code) };

export const flag = (value: Value, code: string): StepResult => ({ value, issues: [{ code, kind: 'flag' }] });
