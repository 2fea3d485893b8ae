import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlanError } from '../src/errors.js';
import { parsePlan } from '../src/plan/load.js';

// Every YAML example in the docs goes through the plan loader, so the reference cannot drift from the code: a
// key renamed, an option dropped, a value the schema no longer takes fails here. A whole plan is loaded as it
// is; an entity or a few (the docs' usual fragment) inside a plan of its own, where a ref to an entity the
// fragment leaves out is the one error allowed. A block with "…" in a value is a sketch, and is skipped.

const ROOT = path.resolve(import.meta.dirname, '..');
const DOCS = [
  'README.md',
  'BENCHMARKS.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs', f)),
  ...readdirSync(path.join(ROOT, 'docs', 'guides')).map((f) => path.join('docs', 'guides', f)),
  ...readdirSync(path.join(ROOT, 'examples')).map((e) => path.join('examples', e, 'README.md')),
].filter((f) => {
  try {
    readFileSync(path.join(ROOT, f));
    return true;
  } catch {
    return false;
  }
});

interface Block {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

function yamlBlocks(file: string): Block[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```yaml') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]?.trim() !== '```') end++;
    // A block inside a list item is indented as its fence is.
    const indent = (lines[i] ?? '').length - (lines[i] ?? '').trimStart().length;
    blocks.push({
      file,
      line: start + 1,
      text: lines
        .slice(start, end)
        .map((l) => l.slice(indent))
        .join('\n'),
    });
    i = end;
  }
  return blocks;
}

const ENV = new Proxy(
  {},
  {
    get: (_t, name) =>
      typeof name !== 'string'
        ? undefined
        : name.endsWith('KEY')
          ? 'k'.repeat(32)
          : // A whole connection URL (`target: ${env:CRM_EXPORT_TARGET}`) must name a kind of database.
            /SOURCE|TARGET|URL$/.test(name)
            ? 'postgres://crm@db/crm'
            : 'secret',
  },
) as NodeJS.ProcessEnv;
const WRAPPER = 'version: 1\nsource: "sqlite::memory:"\ntarget: "sqlite::memory:"\n';

/** The block as a whole plan: itself, or its entities under a plan of their own. */
function asPlan(text: string): string {
  if (/^version:/m.test(text)) return text;
  if (/^entities:/m.test(text)) return `${WRAPPER}${text.replace(/^(source|target):.*$/gm, '')}`;
  if (/^(source|target|targets|sources):/m.test(text))
    return `${WRAPPER.replace(/^(source|target):.*\n/gm, '')}${text}\nentities: {}\n`;
  return `${WRAPPER}entities:\n${text}`;
}

/** Errors a fragment may have: refs to entities it leaves out, a plan with no entities. */
const ALLOWED = [/no entity "[^"]+" to refer to/, /the plan has no entities/, /ref cannot cross targets/];

const blocks = DOCS.flatMap(yamlBlocks);

describe('the YAML examples in the docs', () => {
  it('finds them', () => {
    expect(blocks.length).toBeGreaterThan(8);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))('%s loads', (_where, block) => {
    // "…" in a value (not in a comment) marks a sketch.
    if (block.text.split('\n').some((l) => l.replace(/\s#.*$/, '').includes('…'))) return;
    try {
      parsePlan(asPlan(block.text), `${block.file}:${block.line}`, { env: ENV, allowPlaintextSecrets: true });
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      const unexpected = error.issues.filter((i) => i.severity === 'error' && !ALLOWED.some((a) => a.test(i.message)));
      expect(unexpected.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
    }
  });

  it('loads every example plan', () => {
    for (const example of readdirSync(path.join(ROOT, 'examples'))) {
      let text: string;
      try {
        text = readFileSync(path.join(ROOT, 'examples', example, 'plan.yaml'), 'utf8');
      } catch {
        continue;
      }
      expect(() => parsePlan(text, `examples/${example}/plan.yaml`, { env: ENV })).not.toThrow();
    }
  });
});
