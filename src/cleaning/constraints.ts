import { z } from 'zod';
import { builtinStep, invalid, ok, type StepDefinition } from '../mapping/steps.js';
import { isBlank, type Value } from '../values.js';
import { changed } from './rule-helpers.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

const asText = (v: Value): string => (v instanceof Date ? v.toISOString() : String(v));

/** A missing value (NULL, or only white space) is `required`: the field's `invalid:` policy decides. */
STEPS.push(
  builtinStep({
    name: 'required',
    kind: 'clean',
    takes: 'one',
    create: () => (input) => (isBlank(input as Value) ? invalid(input as Value, 'required') : ok(input as Value)),
  }),
);

STEPS.push(
  builtinStep({
    name: 'regex',
    kind: 'clean',
    takes: 'one',
    options: z
      .union([
        z.string(),
        z.strictObject({
          pattern: z.string(),
          flags: z
            .string()
            .regex(/^[imsu]*$/)
            .optional(),
        }),
      ])
      .refine(
        (o) => {
          try {
            new RegExp(typeof o === 'string' ? o : o.pattern);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'not a valid regular expression' },
      ),
    create: (o) => {
      const re = typeof o === 'string' ? new RegExp(o) : new RegExp(o.pattern, o.flags);
      return (input) =>
        input === null || re.test(asText(input as Value))
          ? ok(input as Value)
          : invalid(input as Value, 'pattern_mismatch');
    },
  }),
);

/** Longer than N characters (code points) is `too_long`: reported, never truncated. */
STEPS.push(
  builtinStep({
    name: 'max_length',
    kind: 'clean',
    takes: 'one',
    options: z.number().int().min(0),
    create: (max) => (input) =>
      input === null || [...asText(input as Value)].length <= max
        ? ok(input as Value)
        : invalid(input as Value, 'too_long'),
  }),
);

/** One of a fixed list, compared ignoring case and surrounding spaces; the listed spelling is written. */
STEPS.push(
  builtinStep({
    name: 'one_of',
    kind: 'clean',
    takes: 'one',
    options: z.array(z.union([z.string(), z.number()])).min(1),
    create: (allowed) => {
      const byKey = new Map(allowed.map((a) => [String(a).trim().toLowerCase(), a]));
      return (input) => {
        if (input === null) return ok(null);
        const text = asText(input as Value);
        const hit = byKey.get(text.trim().toLowerCase());
        return hit === undefined ? invalid(input as Value, 'not_allowed') : changed(text, hit, 'normalized');
      };
    },
  }),
);

/** A number (or an ISO date, compared as text) within [min, max]. */
STEPS.push(
  builtinStep({
    name: 'range',
    kind: 'clean',
    takes: 'one',
    options: z.strictObject({
      min: z.union([z.number(), z.string()]).optional(),
      max: z.union([z.number(), z.string()]).optional(),
    }),
    create:
      ({ min, max }) =>
      (input) => {
        if (input === null) return ok(null);
        const v = input as Value;
        const numeric = typeof min === 'number' || typeof max === 'number';
        const x: number | string = numeric ? Number(v) : asText(v);
        if (numeric && Number.isNaN(x)) return invalid(v, 'not_a_number');
        if ((min !== undefined && x < min) || (max !== undefined && x > max)) return invalid(v, 'out_of_range');
        return ok(v);
      },
  }),
);
