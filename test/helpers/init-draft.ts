import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo } from './io.js';

/** A SQLite file made with these statements: a source or target for `init` to draft from. */
export function sqliteFile(file: string, sql: string): void {
  const db = new Database(file);
  db.exec(sql);
  db.close();
}

/** `crm-migrate init` as a user runs it, into `draft.yaml` in `tmp`: the plan's text, its file and what it said. */
export async function draft(
  tmp: string,
  source: string,
  target: string,
): Promise<{ text: string; file: string; stderr: string }> {
  const file = path.join(tmp, 'draft.yaml');
  const io = captureIo();
  expect(await main(['init', '--source', source, '--target', target, '-o', file, '--force'], io)).toBe(0);
  return { text: readFileSync(file, 'utf8'), file, stderr: io.stderr.join('\n') };
}
