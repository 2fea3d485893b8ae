import { givenNames } from '../cleaning/given-names.js';
import { sameNickname } from './nicknames.js';

/**
 * Two different names that are both on the list of given names are two people's names, however few letters
 * apart (Mark and Mary, Paul and Paula, Jenny and Jenna): a typo seldom lands on another real name.
 * How two different first names (lower case) stand as given names: `opposite` when one is only a woman's
 * and the other only a man's name, `other` when both are known names and not forms of one name, else
 * undefined (a typo, a nickname, a name the list lacks).
 */
export function otherGivenName(a: string, b: string): 'opposite' | 'other' | undefined {
  const { female, male } = givenNames();
  const fa = female.has(a);
  const ma = male.has(a);
  const fb = female.has(b);
  const mb = male.has(b);
  if (!(fa || ma) || !(fb || mb) || sameNickname(a, b)) return undefined;
  return (fa && !ma && mb && !fb) || (ma && !fa && fb && !mb) ? 'opposite' : 'other';
}
