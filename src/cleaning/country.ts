import { requireOnDemand } from '../require-on-demand.js';
import type countryLists from 'i18n-iso-countries';
import type { StepDefinition } from '../mapping/steps.js';
import { builtinStep, invalid } from '../mapping/steps.js';
import { changed, textRule } from './rule-helpers.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

const LANGUAGES = ['en', 'de', 'fr', 'es'] as const;
type CountryNames = typeof countryLists;
let names: CountryNames | undefined;

/**
 * i18n-iso-countries with the names of LANGUAGES, loaded by the first country a run reads (a phone's default
 * country, the country rule): its name lists were a part of every command's start-up. Required, so the rules
 * stay synchronous.
 */
function countries(): CountryNames {
  if (names) return names;
  const loaded = requireOnDemand('i18n-iso-countries') as CountryNames;
  for (const language of LANGUAGES) loaded.registerLocale(requireOnDemand(`i18n-iso-countries/langs/${language}.json`));
  return (names = loaded);
}

/** What CRMs hold that no ISO list does (a Map: "constructor" in a country column must find nothing). */
const ALIASES = new Map(
  Object.entries({
    uk: 'GB',
    'u.k.': 'GB',
    england: 'GB',
    scotland: 'GB',
    wales: 'GB',
    'northern ireland': 'GB',
    'great britain': 'GB',
    'u.s.': 'US',
    'u.s.a.': 'US',
    america: 'US',
    'united states of america': 'US',
    holland: 'NL',
    korea: 'KR',
    'south korea': 'KR',
    'north korea': 'KP',
    russia: 'RU',
    'czech republic': 'CZ',
    'ivory coast': 'CI',
    congo: 'CG',
    'dr congo': 'CD',
  }),
);

/** A country name (English, German, French, Spanish) or ISO code to its ISO 3166-1 alpha-2 code; null when unknown. */
export function countryCode(text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  const lower = t.toLowerCase();
  const alias = ALIASES.get(lower);
  if (alias) return alias;
  if (/^[a-z]{2}$/i.test(t)) return countries().isValid(t.toUpperCase()) ? t.toUpperCase() : null;
  if (/^[a-z]{3}$/i.test(t)) {
    const code = countries().alpha3ToAlpha2(t.toUpperCase());
    if (code) return code;
  }
  for (const language of LANGUAGES) {
    const code = countries().getAlpha2Code(t, language);
    if (code) return code;
  }
  return null;
}

STEPS.push(
  builtinStep({
    name: 'country',
    kind: 'clean',
    takes: 'one',
    output: 'text',
    create: () =>
      textRule((s) => {
        if (s.trim() === '') return { value: null };
        const code = countryCode(s);
        return code === null ? invalid(s, 'unknown_country') : changed(s, code, 'normalized');
      }),
  }),
);
