import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chaos } from '../scripts/chaos.js';

// The short version of `npm run chaos`: three SIGKILLs at random moments (a full load, then an incremental
// run), each followed by a re-run, and the final target compared with one loaded without interruption.

describe('chaos', () => {
  it('three random SIGKILLs lose nothing and double nothing', async () => {
    if (!existsSync(path.resolve(import.meta.dirname, '../dist/src/cli/main.js')))
      throw new Error('build first: npm run build (npm test does)');
    const result = await chaos({ kills: 3, rows: 20_000, seed: 7 });
    expect(result.kills).toBe(3);
    expect(result).toMatchObject({
      lost: 0,
      duplicated: 0,
      differing: 0,
      quarantineDiffers: false,
      accountingDiffers: false,
    });
  }, 180_000);
});
