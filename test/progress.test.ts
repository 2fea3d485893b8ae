import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { timeLeft } from '../src/cli/progress.js';
import { tempDir } from './helpers/databases.js';

// Progress as a person sees it: an ETA that reads as a time, and no cursor codes where the terminal cannot use them.

describe('progress', () => {
  it.each([
    [1000, 0, '--'],
    [1000, Number.NaN, '--'],
    [0, 0, '0s'],
    [-5, 100, '0s'],
    [1000, 100, '10s'],
    [1000, 3, '5m34s'],
    [10_000_000, 2000, '1h23m'],
    [1, 1e-300, '>99h'],
  ])('%d rows left at %d rows/s: %s', (remaining, perSecond, expected) => {
    expect(timeLeft(remaining, perSecond)).toBe(expected);
  });

  it.each([
    ['dumb', false],
    ['xterm-256color', true],
  ])('on a terminal with TERM=%s, draws bars: %s', (term, bars) => {
    const tmp = tempDir();
    try {
      const db = new Database(path.join(tmp.dir, 'legacy.db'));
      db.exec("CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO c VALUES (1, 'a'), (2, 'b')");
      db.close();
      writeFileSync(
        path.join(tmp.dir, 'plan.yaml'),
        'version: 1\nname: p\nsource: sqlite:./legacy.db\ntarget: sqlite:./new.db\nentities:\n  c:\n    from: c\n    into: c\n    key: id\n    fields:\n      id: id\n      name: name\n',
      );
      const cli = path.resolve('bin/crm-migrate.js');
      // script(1) gives the command a terminal of its own.
      const out = execFileSync('script', ['-qec', `node ${cli} run plan.yaml --no-report`, '/dev/null'], {
        cwd: tmp.dir,
        env: { ...process.env, TERM: term },
        encoding: 'utf8',
      });
      expect(out).toMatch(/finished in/);
      expect(out.includes('\u001b[')).toBe(bars);
      if (!bars) expect(out).toMatch(/c: 2\/2 rows \(100%\), [\d,]+ rows\/s, quarantined 0, done/);
    } finally {
      tmp.remove();
    }
  });
});
