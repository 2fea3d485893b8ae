import type { CountryCode } from 'libphonenumber-js/max';
import { expect } from 'vitest';
import { formatPhone } from '../../src/cleaning/phone.js';
import type { StepResult } from '../../src/mapping/steps.js';
import type { Value } from '../../src/values.js';

/** The phone rule's formats, as `format:` names them. */
export type PhoneFormat = NonNullable<Parameters<typeof formatPhone>[2]>;

/**
 * The phone rule (`run`, made for `country` and `format`) gives `text` the value and reason formatPhone gives:
 * libphonenumber-js alone, with no compiled reading and no cache.
 */
export function expectAsLibphonenumber(
  run: (input: Value) => StepResult,
  text: string,
  country: CountryCode | undefined,
  format: PhoneFormat,
): void {
  const fast = run(text);
  const slow = formatPhone(text, country, format);
  expect({ text, country, format, value: fast.value, issues: fast.issues }).toEqual({
    text,
    country,
    format,
    value: slow.value,
    issues: slow.issues,
  });
}
