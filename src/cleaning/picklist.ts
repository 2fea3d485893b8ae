import { z } from 'zod';
import { builtinStep, ok, type StepResult, type StepDefinition } from '../mapping/steps.js';
import { collapseSpaces, type Value } from '../values.js';
import { fixed } from './rule-helpers.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

/**
 * A picklist: old codes to new values (`{ A: active }`), or the allowed values as a list. Matching ignores
 * case and runs of spaces. An unmapped value is `unmapped_value` — the field's `invalid:` policy decides
 * (keep, default, null or quarantine) — and the quality report counts it by value: picklist values are
 * codes, not personal data, and the list of what is unmapped is what the user needs to finish the map.
 */
STEPS.push(
  builtinStep({
    name: 'picklist',
    kind: 'clean',
    takes: 'one',
    options: z.union([
      z.array(z.union([z.string(), z.number()])).min(1),
      z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    ]),
    create: (values) => {
      const entries: [string, Value][] = Array.isArray(values)
        ? values.map((v) => [String(v), v])
        : Object.entries(values);
      const norm = (s: string) => collapseSpaces(s).toLowerCase();
      const exact = new Map(entries);
      const loose = new Map(entries.map(([k, v]) => [norm(k), v]));
      return (input): StepResult => {
        if (input === null) return ok(null);
        const text = String(input);
        if (text.trim() === '') return ok(null);
        // A value written exactly as listed is mapped as planned; one that matched only loosely is a correction.
        if (exact.has(text)) return ok(exact.get(text) ?? null);
        const key = norm(text);
        if (!loose.has(key))
          return {
            value: input as Value,
            issues: [{ code: 'unmapped_value', kind: 'invalid', detail: key.slice(0, 40) }],
          };
        return { value: loose.get(key) ?? null, issues: fixed('normalized') };
      };
    },
  }),
);
