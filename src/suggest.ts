import { closest, distance } from 'fastest-levenshtein';

/** "did you mean …" for a misspelt name: the closest candidate, if it is close enough to be a plausible typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  if (list.length === 0) return undefined;
  const lower = word.toLowerCase();
  const exactCase = list.find((c) => c.toLowerCase() === lower);
  if (exactCase) return `did you mean "${exactCase}"?`;
  const best = closest(
    lower,
    list.map((c) => c.toLowerCase()),
  );
  const index = list.findIndex((c) => c.toLowerCase() === best);
  const allowed = Math.max(2, Math.floor(word.length / 3));
  return distance(lower, best) <= allowed ? `did you mean "${list[index]}"?` : undefined;
}
