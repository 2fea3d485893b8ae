import { escapeHtml } from '../escape-html.js';
import { z } from 'zod';
import type { Value } from '../values.js';
import { NAME_PARTS, parsePersonName, type NamePart, type PersonName } from './person-name.js';
import { castValue, CAST_TYPES } from './cast.js';
import { builtinStep, invalid, ok, type StepIssue, type StepResult, type StepDefinition } from './steps.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

/**
 * Several fields of one row read parts of the same name (first_name, last_name): remember the last parse,
 * so each row's name is parsed once, not once per part.
 */
let lastNameInput: unknown;
let lastNameParsed: PersonName = parsePersonName(null);
function parseCached(input: Value): PersonName {
  if (input !== lastNameInput) {
    lastNameInput = input;
    lastNameParsed = parsePersonName(input);
  }
  return lastNameParsed;
}

/** A name's parts as bits, in NAME_PARTS order: which it has, which a field drops. */
const partBits = (parts: readonly NamePart[]): number =>
  parts.reduce((bits, p) => bits | (1 << NAME_PARTS.indexOf(p)), 0);
function presentBits(name: PersonName): number {
  // Named reads, not name[part] over a list: this runs for every row with a name field.
  return (
    (name.honorific !== null ? 1 : 0) |
    (name.first !== null ? 2 : 0) |
    (name.middle !== null ? 4 : 0) |
    (name.last !== null ? 8 : 0) |
    (name.suffix !== null ? 16 : 0) |
    (name.nickname !== null ? 32 : 0) |
    (name.partner !== null ? 64 : 0)
  );
}

/**
 * A parse's flags (a household, symbols dropped) and the parts it loses (`middle_dropped`…), as the findings
 * of the name field that counts them: one shared list per combination, not one per row.
 */
const flagIssues = new Map<string, readonly StepIssue[]>();
function flagsOf(flags: readonly string[], lost: number): readonly StepIssue[] {
  const key = `${flags.join(',')}|${lost}`;
  let issues = flagIssues.get(key);
  if (!issues) {
    const codes = [...flags, ...NAME_PARTS.filter((_p, i) => (lost & (1 << i)) !== 0).map((p) => `${p}_dropped`)];
    issues = Object.freeze(codes.map((code) => ({ code, kind: 'flag' as const })));
    flagIssues.set(key, issues);
  }
  return issues;
}

const NameOptionsSchema = z
  .strictObject({
    /**
     * Where a name of one word goes: `last` (the default: CRMs, Salesforce's LastName among them, require a
     * last name) or `first` (a CRM of first-name customers: "Madonna", "Priya").
     */
    single_word: z.enum(['last', 'first']).optional(),
  })
  .optional();
export type NameOptions = NonNullable<z.infer<typeof NameOptionsSchema>>;

/** A name of one word, read as a given name instead of a surname. */
function givenAlone(name: PersonName, input: Value): PersonName {
  const lone =
    name.first === null &&
    name.middle === null &&
    name.honorific === null &&
    name.suffix === null &&
    name.last !== null &&
    !name.last.includes(' ') &&
    typeof input === 'string' &&
    !input.includes(',');
  return lone ? { ...name, first: name.last, last: null } : name;
}

for (const part of NAME_PARTS) {
  STEPS.push(
    builtinStep({
      name: `name.${part}`,
      kind: 'transform',
      takes: 'one',
      output: 'text',
      options: NameOptionsSchema,
      // `dropped` is set by the plan compiler, not written in plans: the parts no field of the entity takes.
      create: (options?: NameOptions & { readonly dropped?: readonly NamePart[] }) => {
        const dropped = partBits(options?.dropped ?? []);
        const first = options?.single_word === 'first';
        return (input) => {
          const parsed = parseCached(input as Value);
          const name = first ? givenAlone(parsed, input as Value) : parsed;
          const lost = dropped === 0 ? 0 : presentBits(name) & dropped;
          // Most names have no part to lose and no flag: they allocate nothing.
          return lost === 0 && name.flags.length === 0
            ? ok(name[part])
            : { value: name[part], issues: flagsOf(name.flags, lost) };
        };
      },
    }),
  );
}

const present = (v: Value): boolean => v !== null && !(typeof v === 'string' && v.trim() === '');
const asText = (v: Value): string => (v instanceof Date ? v.toISOString() : String(v));

STEPS.push(
  builtinStep({
    name: 'join',
    kind: 'transform',
    takes: 'many',
    output: 'text',
    options: z.string(),
    create: (separator: string) => (input) => {
      const parts = (input as readonly Value[]).filter(present).map((v) => asText(v).trim());
      return ok(parts.length === 0 ? null : parts.join(separator));
    },
  }),
);

/**
 * Plain text into an HTML field (Odoo's message body, a CRM's rich-text note): escaped, so `a < b & c` reads as
 * it was typed and no stored markup runs, each line break a `<br>`, the whole one paragraph.
 */
STEPS.push(
  builtinStep({
    name: 'html',
    kind: 'transform',
    takes: 'one',
    output: 'text',
    create: () => (input) => {
      if (input === null) return ok(null);
      const text = escapeHtml(asText(input as Value));
      return ok(`<p>${text.replace(/\r?\n/g, '<br>')}</p>`);
    },
  }),
);

STEPS.push(
  builtinStep({
    name: 'coalesce',
    kind: 'transform',
    takes: 'many',
    create: () => (input) => ok((input as readonly Value[]).find(present) ?? null),
  }),
);

STEPS.push(
  builtinStep({
    name: 'cast',
    kind: 'transform',
    takes: 'one',
    output: (type: (typeof CAST_TYPES)[number]) => type,
    options: z.enum(CAST_TYPES),
    create: (type) => (input) => castValue(input as Value, type),
  }),
);

/**
 * A value map (status codes, picklists). Keys match exactly, then ignoring case and surrounding spaces.
 * A value that is in no entry is `unmapped_value`: the field's `invalid:` policy decides.
 */
STEPS.push(
  builtinStep({
    name: 'map',
    kind: 'transform',
    takes: 'one',
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    // Typed as what it maps to: codes onto ids (`Prospecting: 1`) are integers, onto flags booleans.
    output: (entries: Record<string, string | number | boolean | null>) => {
      const values = Object.values(entries).filter((v) => v !== null);
      if (values.length > 0 && values.every((v) => typeof v === 'boolean')) return 'boolean';
      if (values.length > 0 && values.every((v) => typeof v === 'number'))
        return values.every((v) => Number.isInteger(v)) ? 'integer' : 'decimal';
      return 'text';
    },
    create: (entries) => {
      const exact = new Map(Object.entries(entries));
      const loose = new Map(Object.entries(entries).map(([k, v]) => [k.trim().toLowerCase(), v]));
      return (input): StepResult => {
        const value = input as Value;
        if (value === null) return ok(null);
        const text = asText(value);
        if (exact.has(text)) return ok(exact.get(text) ?? null);
        const key = text.trim().toLowerCase();
        if (loose.has(key)) return ok(loose.get(key) ?? null);
        return invalid(value, 'unmapped_value');
      };
    },
  }),
);
