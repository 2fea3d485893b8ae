import { requireOnDemand } from '../require-on-demand.js';
import type * as Core from 'libphonenumber-js/core';
import type { CountryCode, MetadataJson, PhoneNumber } from 'libphonenumber-js/core';

/** What the phone rule asks of libphonenumber-js: its "max" entry points, the full metadata bound. */
export interface PhoneLibrary {
  parsePhoneNumberFromString(text: string, options?: { defaultCountry?: CountryCode }): PhoneNumber | undefined;
  validatePhoneNumberLength(text: string, country?: CountryCode): ReturnType<typeof Core.validatePhoneNumberLength>;
  /** `new PhoneNumber(e164)` of the max entry. */
  phoneNumber(e164: string): PhoneNumber;
  /** `new Metadata()` of the max entry. */
  metadata(): Core.Metadata;
}

let library: PhoneLibrary | undefined;

/**
 * libphonenumber-js with its "max" metadata, loaded when a plan first cleans a phone: its 234 ES modules were a
 * tenth of every command's start-up, and most commands clean no phone. Required, not imported, so the phone
 * rule stays synchronous: its core with the max metadata passed to each call, as its own max/index.cjs does
 * (which leaves out the Metadata class the compiled numbering plans read).
 */
export function phoneLibrary(): PhoneLibrary {
  if (library) return library;
  const core = requireOnDemand('libphonenumber-js/core') as typeof Core;
  const max = requireOnDemand('libphonenumber-js/metadata.max.json') as MetadataJson;
  // Each call with the metadata after the arguments given, as max/index.cjs's `call` makes it.
  const withMax =
    (entry: (...args: never[]) => unknown) =>
    (...args: unknown[]): unknown =>
      (entry as (...all: unknown[]) => unknown)(...args, max);
  const parse = withMax(core.parsePhoneNumberFromString);
  const lengthOf = withMax(core.validatePhoneNumberLength);
  return (library = {
    parsePhoneNumberFromString: (text, options) => parse(text, options) as PhoneNumber | undefined,
    validatePhoneNumberLength: (text, country) =>
      lengthOf(text, country) as ReturnType<PhoneLibrary['validatePhoneNumberLength']>,
    phoneNumber: (e164) => new core.PhoneNumber(e164, max),
    metadata: () => new core.Metadata(max),
  });
}
