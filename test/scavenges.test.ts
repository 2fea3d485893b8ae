import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// On two cores a load makes V8's young-generation collections serial (src/engine/write/scavenges.ts): the
// helper threads of a parallel one wait for a core the databases hold. V8's own trace says which ran.

const MODULE = path.resolve('dist/src/engine/write/scavenges.js');

/** Per scavenge of a process that allocates and keeps some: the milliseconds its helper threads worked. */
function helperTimes(cores: number): number[] {
  const script = `const { chooseScavenges } = await import(${JSON.stringify(MODULE)});
chooseScavenges(${cores});
const ring = new Array(200000);
for (let i = 0; i < 3e6; i++) ring[i % ring.length] = { i, s: 'x' + i };`;
  const done = spawnSync(process.execPath, ['--trace-gc-nvp', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  expect(done.status, done.stderr).toBe(0);
  return done.stdout
    .split('\n')
    .filter((line) => line.includes('gc=s '))
    .map((line) => Number(/background\.scavenge\.parallel=([\d.]+)/.exec(line)?.[1] ?? NaN));
}

describe('scavenges during a load', () => {
  it('are serial on two cores', () => {
    const times = helperTimes(2);
    expect(times.length).toBeGreaterThan(3);
    expect(times.every((t) => t === 0)).toBe(true);
  });

  it('keep their helper threads where cores are to spare', () => {
    expect(helperTimes(64).some((t) => t > 0)).toBe(true);
  });
});
