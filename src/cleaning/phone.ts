import { parsePhoneNumberFromString, validatePhoneNumberLength, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { defineStep, invalid, ok, type StepContext, type StepResult } from '../mapping/steps.js';
import type { Value } from '../values.js';
import { countryCode } from './country.js';
import { fixed } from './rule-helpers.js';

const PhoneOptions = z
  .strictObject({
    /** Default country for numbers written without an international prefix (ISO alpha-2 or a country name). */
    country: z.string().optional(),
    /** A source column holding the row's country (a name or a code), used before `country`. */
    country_from: z.string().optional(),
    format: z.enum(['e164', 'international', 'national']).optional(),
  })
  .optional();

type PhoneOptions = z.infer<typeof PhoneOptions>;

/** Repeated numbers (shared switchboards, placeholder numbers) are parsed once; the cache is bounded. */
const CACHE_LIMIT = 50_000;

function format(text: string, country: CountryCode | undefined, style: NonNullable<PhoneOptions>['format']): StepResult {
  const digits = text.replace(/\D/g, '');
  if (digits.length === 0) return invalid(text, 'not_a_phone');
  // 000-000-0000, 9999999: placeholders typed to get past a required field.
  if (/^(\d)\1+$/.test(digits)) return invalid(text, 'placeholder');
  const phone = parsePhoneNumberFromString(text, country ? { defaultCountry: country } : undefined);
  if (!phone?.isValid()) {
    const length = validatePhoneNumberLength(text, country);
    if (length === 'TOO_SHORT' || length === 'TOO_LONG') return invalid(text, length.toLowerCase());
    return invalid(text, phone ? 'invalid_phone' : length === 'INVALID_COUNTRY' ? 'unknown_country_code' : 'unparseable');
  }
  const value =
    style === 'international' ? phone.formatInternational() : style === 'national' ? phone.formatNational() : `${phone.number}${phone.ext ? `;ext=${phone.ext}` : ''}`;
  return value === text ? ok(value) : { value, issues: fixed('formatted') };
}

/**
 * A phone number through libphonenumber-js (Google's metadata) to E.164 (extensions kept as `;ext=N`, as in
 * RFC 3966), or the international or national format. Junk — "N/A", "call office", 000-000-0000, too few
 * digits — is reported invalid with a code saying which.
 */
defineStep({
  name: 'phone',
  kind: 'clean',
  takes: 'one',
  output: 'text',
  options: PhoneOptions,
  reads: (options) => (options?.country_from ? [options.country_from] : []),
  create: (options) => {
    const fallback = options?.country ? (countryCode(options.country) as CountryCode | null) ?? undefined : undefined;
    const cache = new Map<string, StepResult>();
    return (input: Value | readonly Value[], context?: StepContext): StepResult => {
      if (input === null || (typeof input === 'string' && input.trim() === '')) return ok(null);
      const text = typeof input === 'string' ? input : String(input);
      let country = fallback;
      if (options?.country_from && context) {
        const rowCountry = context.get(options.country_from);
        if (typeof rowCountry === 'string') country = (countryCode(rowCountry) as CountryCode | null) ?? fallback;
      }
      const key = `${country ?? ''}|${text}`;
      let result = cache.get(key);
      if (!result) {
        if (cache.size >= CACHE_LIMIT) cache.clear();
        result = format(text, country, options?.format);
        cache.set(key, result);
      }
      return result;
    };
  },
});
