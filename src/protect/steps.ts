import { z } from 'zod';
import { builtinStep, ok, type StepFunction, type StepDefinition } from '../mapping/steps.js';
import type { Value } from '../values.js';
import { encryptValue, hashValue, keyBytes, maskValue } from './protect.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

// The `protect:` of a field, as steps of their own kind: they run last, after transforms and cleaning, so
// what they hide is the final value. Hash and encrypt get their key from the plan's `keys` (by reference).

const Keyed = z.strictObject({ key: z.string().min(1) });

/** A value as the text protection works on: dates as ISO 8601, bytes as base64. */
function text(value: Value): string {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return String(value);
}

const overText =
  (apply: (t: string) => string): StepFunction =>
  (input) => {
    const value = input as Value;
    return ok(value === null ? null : apply(text(value)));
  };

/** A protection that needs a key: hash and encrypt. The key becomes 32 bytes once, when the plan compiles. */
function keyed(name: string, apply: (key: Buffer, text: string) => string): void {
  STEPS.push(
    builtinStep({
      name,
      kind: 'protect',
      takes: 'one',
      output: 'text',
      options: Keyed,
      create: ({ key }) => {
        const bytes = keyBytes(key);
        return overText((t) => apply(bytes, t));
      },
    }),
  );
}

keyed('protect.hash', hashValue);
keyed('protect.encrypt', encryptValue);

STEPS.push(
  builtinStep({
    name: 'protect.mask',
    kind: 'protect',
    takes: 'one',
    output: 'text',
    options: z
      .strictObject({ keep_last: z.number().int().min(0).optional(), keep_first: z.number().int().min(0).optional() })
      .optional(),
    create: (options) => overText((t) => maskValue(t, options ?? {})),
  }),
);

STEPS.push(
  builtinStep({
    name: 'protect.drop',
    kind: 'protect',
    takes: 'one',
    create: () => () => ok(null),
  }),
);
