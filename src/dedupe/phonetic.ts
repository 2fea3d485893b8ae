import doubleMetaphone from 'talisman/phonetics/double-metaphone.js';

/** Names repeat (a million customers share some tens of thousands of names): each is encoded once. */
const codes = new Map<string, string>();

/** The primary Double Metaphone code of a name's letters ('' when it has none). */
export function metaphone(text: string): string {
  let code = codes.get(text);
  if (code === undefined) {
    code = doubleMetaphone(text.replace(/[^a-z]/g, ''))[0];
    if (codes.size > 500_000) codes.clear();
    codes.set(text, code);
  }
  return code;
}
