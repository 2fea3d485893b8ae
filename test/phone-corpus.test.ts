import { describe, expect, it } from 'vitest';
import { phoneCorpus } from '../bench/phone-corpus.js';

// The phone rule on libphonenumber's own example numbers, one per region, in the renderings people type
// (bench/phone-corpus.ts prints the shares): what the rule gets right stays right, and no number with a digit
// dropped or added passes as valid.
describe("the phone rule on libphonenumber's example numbers", () => {
  const { results, broken } = phoneCorpus();
  it.each(results.map((r) => [r.rendering, r] as const))('%s', (_rendering, r) => {
    expect(r.cases).toBeGreaterThan(200);
    // Two regions (Ascension, Tristan da Cunha) have no ISO 3166 code, so a national number there has no
    // country to be read in; every other miss would be a regression.
    expect(r.cases - r.right).toBeLessThanOrEqual(2);
  });
  it('never passes a number with a digit dropped or added as valid', () => {
    expect(broken.cases).toBeGreaterThan(400);
    expect(broken.passed).toBe(0);
  });
});
