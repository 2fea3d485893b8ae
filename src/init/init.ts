import path from 'node:path';
import { openSource, openTarget, redactUrl } from '../connectors/index.js';
import type { TableInfo } from '../connectors/contract.js';
import { draftEntity, matchTables, type EntityDraft } from './match.js';
import { renderPlan, secretFree } from './render.js';
import { CrmMigrateError } from '../errors.js';

export interface InitResult {
  /** The plan as commented YAML. */
  readonly text: string;
  readonly entities: readonly EntityDraft[];
  /** Environment variables the plan now reads passwords from (they were written in the URLs). */
  readonly variables: readonly string[];
}

async function describeAll(
  list: () => Promise<string[]>,
  describe: (t: string) => Promise<TableInfo | undefined>,
): Promise<TableInfo[]> {
  const tables: TableInfo[] = [];
  for (const name of await list()) {
    const info = await describe(name);
    if (info) tables.push(info);
  }
  return tables;
}

/**
 * Drafts a plan from the two live schemas: tables matched to tables and columns to columns by name and
 * type, full names split into first/last, email and phone columns cleaned, and the risks written beside the
 * fields they concern (values longer than their new column — measured on the source —, NOT NULL fed from
 * nullable, lossy types). Reads both sides, writes neither.
 */
export async function draftPlan(options: {
  source: string;
  target: string;
  name?: string | undefined;
  baseDir?: string | undefined;
  planDir?: string | undefined;
}): Promise<InitResult> {
  const baseDir = options.baseDir ?? process.cwd();
  const planDir = options.planDir ?? baseDir;
  const source = await openSource(options.source, { baseDir });
  try {
    const target = await openTarget(options.target, { baseDir, readOnly: true });
    try {
      const sources = await describeAll(
        () => source.listTables(),
        (t) => source.describe(t),
      );
      const targets = await describeAll(
        () => target.listTables(),
        (t) => target.describe(t),
      );
      if (targets.length === 0) {
        throw new CrmMigrateError(
          'E_USAGE',
          `the target ${redactUrl(options.target)} has no tables: init maps the legacy tables onto the new CRM's schema, so that schema must exist first`,
          {
            hint: "create the new CRM's tables (its own installer or migrations do), then run init again; or write the plan by hand, and run creates the tables it names",
          },
        );
      }
      // In the source's own table order, which is the order entities load in.
      const pairs = matchTables(sources, targets).sort(([a], [b]) => sources.indexOf(a) - sources.indexOf(b));
      const entities: EntityDraft[] = [];
      for (const [s, t] of pairs) {
        const text = s.columns.filter((c) => c.type === 'text').map((c) => c.name);
        entities.push(draftEntity(s, t, await source.maxLengths(s.name, text), await target.foreignKeys(t.name)));
      }
      const src = secretFree(relocated(options.source, baseDir, planDir), 'CRM_SOURCE_PASSWORD');
      const dst = secretFree(relocated(options.target, baseDir, planDir), 'CRM_TARGET_PASSWORD');
      const text = renderPlan({
        name: options.name ?? 'migration',
        source: src.url,
        target: dst.url,
        sourceDisplay: redactUrl(options.source),
        targetDisplay: redactUrl(options.target),
        entities,
        unmatchedSources: sources.filter((s) => !pairs.some(([p]) => p === s)),
        unmatchedTargets: targets.filter((t) => !pairs.some(([, p]) => p === t)),
      });
      const variables = [...(src.moved ? ['CRM_SOURCE_PASSWORD'] : []), ...(dst.moved ? ['CRM_TARGET_PASSWORD'] : [])];
      return { text, entities, variables };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** A relative SQLite path, given from `baseDir`, as the plan in `planDir` must say it (plans read paths from their folder). */
function relocated(url: string, baseDir: string, planDir: string): string {
  const m = /^sqlite:(?!\/\/)(.+)$/.exec(url);
  if (!m?.[1] || m[1] === ':memory:' || path.isAbsolute(m[1])) return url;
  const relative = path.relative(planDir, path.resolve(baseDir, m[1]));
  return `sqlite:${relative.startsWith('.') ? relative : `./${relative}`}`;
}

/** The plan name `init -o FILE` gives: the file's name without .yaml. */
export const planNameOf = (file: string): string =>
  path
    .basename(file)
    .replace(/\.ya?ml$/i, '')
    .replace(/[^A-Za-z0-9_.-]/g, '-') || 'migration';
