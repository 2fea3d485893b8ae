// talisman ships no type declarations; these are the two functions the matcher uses.
declare module 'talisman/metrics/jaro-winkler.js' {
  /** Jaro-Winkler similarity in [0, 1]. */
  const similarity: (a: string, b: string) => number;
  export default similarity;
}
declare module 'talisman/phonetics/double-metaphone.js' {
  /** The primary and alternate Double Metaphone codes. */
  const doubleMetaphone: (word: string) => [string, string];
  export default doubleMetaphone;
}
