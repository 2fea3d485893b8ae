import { z } from 'zod';
import { isBlank, type Value } from '../values.js';
import { builtinStep, findStep, invalid, type StepFunction, type StepIssue, type StepDefinition } from './steps.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

/**
 * `json:` on a field: an object built from source columns, for CRMs that keep an email list or a phone as
 * JSON (Twenty's `emails: { primaryEmail, additionalEmails }`). A key maps to a column, a list of columns
 * (an array, blank ones left out), or an object of its own. A `clean:` on the field cleans every item; an
 * item it finds invalid makes the field invalid (the field's policy decides), never silently dropped.
 */
export type JsonTemplate = { [key: string]: string | readonly string[] | JsonTemplate };
export const JsonTemplateSchema: z.ZodType<JsonTemplate> = z.lazy(() =>
  z.record(z.string().min(1), z.union([z.string().min(1), z.array(z.string().min(1)), JsonTemplateSchema])),
);

/** The columns a template reads, in the order the step receives them. */
export function templateColumns(template: JsonTemplate): string[] {
  return Object.values(template).flatMap((v) =>
    typeof v === 'string' ? [v] : Array.isArray(v) ? [...v] : templateColumns(v as JsonTemplate),
  );
}

/** JSON text; a bigint as its digits in a string (JSON has no bigint), bytes as hex. */
const asJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
  );

const Options = z.strictObject({
  template: JsonTemplateSchema,
  /** A clean step applied to every item, by name (`email`) or with options (`{ phone: { country: US } }`). */
  clean: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
});

STEPS.push(
  builtinStep({
    name: 'json',
    kind: 'transform',
    takes: 'many',
    output: 'json',
    options: Options,
    create: ({ template, clean }) => {
      let item: StepFunction | undefined;
      if (clean !== undefined) {
        const [name, options] =
          typeof clean === 'string' ? [clean, undefined] : (Object.entries(clean)[0] ?? ['', undefined]);
        const definition = findStep(name);
        if (!definition || definition.kind !== 'clean') throw new Error(`json: "${name}" is not a clean step`);
        item = definition.create(definition.options ? definition.options.parse(options) : undefined);
      }
      return (input, context) => {
        const values = input as readonly Value[];
        let at = 0;
        let bad: string | undefined;
        const fixes: StepIssue[] = [];
        // A collected join's column holds a list (refs.ts): its items, cleaned, blank ones left out.
        const one = (): unknown => {
          const raw: unknown = values[at++] ?? null;
          return Array.isArray(raw) ? (raw as Value[]).map(cleaned).filter((x) => !isBlank(x)) : cleaned(raw as Value);
        };
        const cleaned = (raw: Value): Value => {
          if (!item || isBlank(raw)) return isBlank(raw) ? null : raw;
          const result = item(raw, context);
          for (const issue of result.issues ?? []) {
            if (issue.kind === 'invalid') bad ??= issue.code;
            else if (issue.kind === 'fixed' && !fixes.some((f) => f.code === issue.code)) fixes.push(issue);
          }
          return result.value;
        };
        const build = (t: JsonTemplate): Record<string, unknown> =>
          Object.fromEntries(
            Object.entries(t).map(([key, v]) => {
              if (typeof v === 'string') return [key, one()];
              if (Array.isArray(v)) return [key, v.flatMap(one).filter((x) => !isBlank(x as Value))];
              return [key, build(v as JsonTemplate)];
            }),
          );
        const object = build(template);
        if (bad !== undefined) return invalid(asJson(values), bad);
        const text = asJson(object);
        return fixes.length > 0 ? { value: text, issues: fixes } : { value: text };
      };
    },
  }),
);
