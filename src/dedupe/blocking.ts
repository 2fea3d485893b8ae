import { normalizeText } from './compare.js';
import { metaphone } from './phonetic.js';
import type { Value } from '../values.js';

/** What a blocking key takes of a field: all of it, its sound, its first letter, its digits or its year. */
export const KEY_FUNCTIONS = ['exact', 'metaphone', 'initial', 'digits', 'year'] as const;
export type KeyFunction = (typeof KEY_FUNCTIONS)[number];

export interface KeyPart {
  readonly field: string;
  readonly fn: KeyFunction;
}

/** A blocking rule: records whose key parts all agree become candidate pairs. Written `metaphone(last_name) + initial(first_name)`. */
export interface BlockingRule {
  readonly text: string;
  readonly parts: readonly KeyPart[];
}

/** Parses a rule; a string naming the problem when it is not one. */
export function parseBlockingRule(text: string): BlockingRule | string {
  const parts: KeyPart[] = [];
  for (const piece of text.split('+').map((p) => p.trim())) {
    // A field, or `source.column` (a source column compared as it was read, see dedupe/plan.ts).
    const m = /^(?:([a-z_]+)\(\s*((?:source\.)?[A-Za-z_][\w]*)\s*\)|((?:source\.)?[A-Za-z_][\w]*))$/.exec(piece);
    if (!m) return `"${piece}" is not a field or function(field)`;
    const fn = (m[1] ?? 'exact') as KeyFunction;
    if (!KEY_FUNCTIONS.includes(fn)) return `unknown key function ${m[1]}() — one of ${KEY_FUNCTIONS.join(', ')}`;
    parts.push({ fn, field: m[2] ?? m[3] });
  }
  return { text, parts };
}

/** A part of one record's blocking key; null when the field is blank (a blank never blocks two records together). */
export function keyPart(fn: KeyFunction, value: Value): string | null {
  const text = normalizeText(value);
  if (text === null) return null;
  switch (fn) {
    case 'exact':
      return text;
    case 'metaphone':
      return metaphone(text) || null;
    case 'initial':
      return text[0] ?? null;
    case 'digits':
      return text.replace(/\D/g, '') || null;
    case 'year':
      return /\d{4}/.exec(text)?.[0] ?? null;
  }
}
