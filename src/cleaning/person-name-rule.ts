import { builtinStep, type StepDefinition } from '../mapping/steps.js';
import { collapseSpaces } from '../values.js';
import { changed, textRule } from './rule-helpers.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

/** Words that stay lower case inside a name: van der Berg, de la Cruz, da Silva. */
const LOWER = new Set([
  'van',
  'von',
  'der',
  'den',
  'de',
  'del',
  'della',
  'di',
  'da',
  'do',
  'dos',
  'das',
  'du',
  'la',
  'le',
  'ter',
  'ten',
  'y',
  'bin',
  'binti',
  'zu',
]);
const UPPER = new Set(['ii', 'iii', 'iv', 'vi', 'vii', 'viii', 'md', 'dds', 'cpa', 'mba', 'rn', 'jd', 'dvm']);
// Maps, not object literals: a name is data, and "CONSTRUCTOR" must not find Object's constructor.
const SPECIAL = new Map(Object.entries({ phd: 'PhD', 'phd.': 'PhD.' }));

/**
 * Words that begin with "mac" and are no Mac- surname: given names (Mackenzie, Macy), Spanish and Portuguese
 * surnames (Machado, Macias), and English ones that are written so (Mackey, Macklin, Mackintosh). With them
 * left alone, "MACDONALD" is cased MacDonald, as most Mac- surnames are written.
 */
const NOT_MAC = new Set([
  'machado',
  'macias',
  'maciel',
  'macedo',
  'macario',
  'macarena',
  'machin',
  'machen',
  'machon',
  'macho',
  'mackenzie',
  'mackenna',
  'mackinley',
  'mackayla',
  'mackey',
  'mackie',
  'mackin',
  'macklin',
  'mackle',
  'macken',
  'mackintosh',
  'macintosh',
  'macomber',
  'macquarie',
  'macaulay',
  'macbeth',
  'macrae',
  'macabre',
  'macaroni',
  'macron',
]);

/** The letters a name prefix (Mc, Mac, O', D', L') starts with. */
const PREFIX_INITIALS = 'modl';

function capitalize(part: string): string {
  if (part === '') return part;
  const lower = part.toLowerCase();
  // McDonald, O'Brien, D'Angelo: the letter after the prefix is a capital too. Mac only before three letters
  // or more (Mack, Macy and Mace are names of their own) and not in the list above. Only a word that starts
  // with m, o, d or l can have a prefix: most words are spared the expressions.
  const prefix = PREFIX_INITIALS.includes(lower[0] ?? '')
    ? (/^(mc|o'|d'|l')(.+)$/.exec(lower) ?? (NOT_MAC.has(lower) ? null : /^(mac)(\p{L}{3,})$/u.exec(lower)))
    : null;
  if (prefix?.[1] && prefix[2]) return `${capitalize(prefix[1])}${capitalize(prefix[2])}`;
  return (lower[0] ?? '').toUpperCase() + lower.slice(1);
}

function properWord(word: string, index: number): string {
  const lower = word.toLowerCase();
  const special = SPECIAL.get(lower);
  if (special) return special;
  if (UPPER.has(lower.includes('.') || lower.includes(',') ? lower.replace(/[.,]/g, '') : lower))
    return word.toUpperCase();
  if (index > 0 && LOWER.has(lower)) return lower;
  return word.includes('-') ? word.split('-').map(capitalize).join('-') : capitalize(word);
}

const MIXED = 0;
const ONE_CASE = 1;
const NO_LETTER = 2;
const NOT_ASCII = 3;

/**
 * How an ASCII name is cased, in one loop: MIXED (a capital and a small letter: cased by a person), ONE_CASE,
 * NO_LETTER; NOT_ASCII for any other text, which the Unicode test in properCaseName answers (it costs a
 * replace and two case conversions a name).
 */
function asciiCase(name: string): number {
  let upper = false;
  let lower = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 127) return NOT_ASCII;
    if (c >= 65 && c <= 90) upper = true;
    else if (c >= 97 && c <= 122) lower = true;
  }
  return upper && lower ? MIXED : upper || lower ? ONE_CASE : NO_LETTER;
}

const LETTER = /\p{L}/u;

/**
 * Proper case for names typed in ALL CAPS or all lower case: "SCOTT O'BRIEN-MCDONALD" → "Scott O'Brien-McDonald",
 * "juan de la cruz" → "Juan de la Cruz". A name in mixed case was cased by a person and is left as it is.
 */
export function properCaseName(name: string): string {
  const casing = asciiCase(name);
  if (casing === MIXED || casing === NO_LETTER) return name;
  if (casing === NOT_ASCII) {
    const letters = name.replace(/[^\p{L}]/gu, '');
    if (letters === '' || (letters !== letters.toUpperCase() && letters !== letters.toLowerCase())) return name;
  }
  // Words at even places, the separators the split keeps (white space, a comma) at odd ones. A particle is
  // kept lower case only after a word with a letter (van der Berg, but Van Morrison).
  const tokens = name.split(/(\s+|,)/);
  let afterLetter = false;
  for (let i = 0; i < tokens.length; i += 2) {
    const word = tokens[i] ?? '';
    tokens[i] = properWord(word, afterLetter ? 1 : 0);
    afterLetter ||= LETTER.test(word);
  }
  return tokens.join('');
}

STEPS.push(
  builtinStep({
    name: 'person_name',
    kind: 'clean',
    takes: 'one',
    output: 'text',
    create: () => textRule((s) => changed(s, properCaseName(collapseSpaces(s)), 'case_repaired')),
  }),
);
