import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFebrl } from '../../bench/febrl.js';
import { dataPath } from '../helpers/data.js';

const FEBRL = dataPath('febrl');

describe('accuracy on FEBRL (ground truth hidden from the matcher)', () => {
  it('febrl1 dedupe: pair F1 at least 0.99', () => {
    const { score } = runFebrl([path.join(FEBRL, 'dataset1.csv')], false, { threshold: 0.9 });
    expect(score.truePairs).toBe(500);
    expect(score.f1).toBeGreaterThanOrEqual(0.99);
  });
  it('febrl4 linkage (4a × 4b): pair F1 at least 0.995', () => {
    const { score } = runFebrl([path.join(FEBRL, 'dataset4a.csv'), path.join(FEBRL, 'dataset4b.csv')], true, {
      threshold: 0.9,
    });
    expect(score.truePairs).toBe(5000);
    expect(score.f1).toBeGreaterThanOrEqual(0.995);
  }, 60_000);
});
