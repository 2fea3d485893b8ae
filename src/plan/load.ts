import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { CrmMigrateError, PlanError, type PlanIssue, type SourceLocation } from '../errors.js';
import { referenceIssues } from './load-order.js';
import { compileEntity, type EntityPlan } from '../mapping/compile.js';
import { literalKeyIssues, plaintextSecretIssues, resolveReferences } from './references.js';
import { parseLocated, type PlanPath } from './locate.js';
import type { TlsSettings } from '../connectors/contract.js';
import { KNOWN_KEYS, PlanSchema, type PlanInput } from './schema.js';
import { didYouMean } from '../suggest.js';
import { dedupeGroupIssues } from '../dedupe/plan.js';
import { unpivotTable, type UnpivotSpec } from '../connectors/shared/unpivot-source.js';
import { parseQuarantineLimit, type QuarantineLimit } from './quarantine-limit.js';
import { targetOfEntities, targetPart } from './targets.js';
import { connectionIssues } from './connections.js';

export const DEFAULT_BATCH_SIZE = 10_000;

/** A plan that parsed, validated and compiled: ready to be checked against the live schemas and run. */
export interface Plan {
  readonly file: string;
  /** Relative paths in the plan (sqlite:./legacy.db) are read from here: the plan file's folder. */
  readonly baseDir: string;
  readonly name: string;
  /** Identifies the mapping: a run is only resumed by the plan that started it. */
  readonly hash: string;
  /** Connection URLs with `${env:…}` resolved: never print these, print `redactUrl(...)`. */
  /** The one source's URL; empty when the plan names several (`sources`). */
  readonly source: string;
  /** Several sources by name; entities read theirs as `name:table` (see openPlanSource). */
  readonly sources: Readonly<Record<string, string>> | undefined;
  /** The target's URL; empty for a plan of several targets opened whole (each part has its own: see `targets`). */
  readonly target: string;
  /**
   * A plan of several targets (`targets:`): their names. Such a plan runs one part per target, each loaded with
   * `LoadOptions.target` (see plan/targets.ts); the part itself has the name of the one target it writes.
   */
  readonly targets: readonly string[] | undefined;
  /** The plan's TLS demand per side (the CA path made absolute), absent where it makes none. */
  readonly sourceTls: TlsSettings | undefined;
  readonly targetTls: TlsSettings | undefined;
  readonly entities: readonly EntityPlan[];
  /** Unpivoting entities' tables, by the name the entity reads (see UnpivotSource). */
  readonly unpivots: ReadonlyMap<string, UnpivotSpec>;
  /** A run that quarantines more than this fails (`max_quarantined`); absent: no limit. */
  readonly maxQuarantined: QuarantineLimit | undefined;
  /** The protection keys, resolved from their references (for `decrypt`); never printed. */
  readonly keys: Readonly<Record<string, string>>;
  /** Chunk workers for full loads (`parallel:`; `--parallel` overrides): 1, one process as always. */
  readonly parallel: number;
  locate(path: PlanPath): SourceLocation | undefined;
}

/** What a plan was made from, so a worker thread can make it again (see planOrigin). */
export interface PlanOrigin {
  readonly text: string;
  readonly file: string;
  readonly options: LoadOptions;
}

// Kept beside the plan, not on it: a plan object may be printed or serialized, and its text is the user's.
const origins = new WeakMap<Plan, PlanOrigin>();

/** The text and options a plan was parsed from; undefined for a plan not made by parsePlan. */
export function planOrigin(plan: Plan): PlanOrigin | undefined {
  return origins.get(plan);
}

/** The same plan with another value of a setting that is not part of its mapping (a flag given on the command line). */
export function withPlanSettings(plan: Plan, settings: { parallel?: number | undefined }): Plan {
  const changed = { ...plan, ...(settings.parallel === undefined ? {} : { parallel: settings.parallel }) };
  const origin = origins.get(plan);
  if (origin) origins.set(changed, origin);
  return changed;
}

function knownKeysAt(path: PlanPath): readonly string[] {
  if (path.length === 0) return KNOWN_KEYS.plan;
  if (path.length === 2 && path[0] === 'entities') return KNOWN_KEYS.entity;
  if (path.length === 4 && path[0] === 'entities' && path[2] === 'fields') return KNOWN_KEYS.field;
  if (path.length === 3 && path[0] === 'entities' && path[2] === 'dedupe') return KNOWN_KEYS.dedupe;
  return [];
}

function zodIssues(error: z.ZodError, locateKey: (path: PlanPath) => SourceLocation | undefined): PlanIssue[] {
  return error.issues.flatMap((issue): PlanIssue[] => {
    const at = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        severity: 'error',
        path: [...at, key],
        message: `unknown key "${key}"`,
        location: locateKey([...at, key]),
        hint: didYouMean(key, knownKeysAt(at)) ?? `allowed here: ${knownKeysAt(at).join(', ')}`,
      }));
    }
    if (issue.code === 'invalid_value' && issue.values.length > 1) {
      const input = (issue as { input?: unknown }).input;
      const hint = typeof input === 'string' ? didYouMean(input, issue.values.map(String)) : undefined;
      return [
        {
          severity: 'error',
          path: at,
          message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
          hint,
        },
      ];
    }
    if ('input' in issue && issue.input === undefined) {
      return [{ severity: 'error', path: at, message: `missing required key "${String(at.at(-1))}"` }];
    }
    return [{ severity: 'error', path: at, message: issue.message }];
  });
}

export interface LoadOptions {
  /** Where `${env:…}` comes from (default: the process's environment). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Accept a password written into a connection URL (refused by default). */
  readonly allowPlaintextSecrets?: boolean | undefined;
  /** With a plan of several targets: the part that writes this one (see plan/targets.ts). */
  readonly target?: string | undefined;
}

/** Parses, validates and compiles a plan from its text. Throws PlanError listing every problem found. */
export function parsePlan(text: string, file: string, options: LoadOptions = {}): Plan {
  const env = options.env ?? process.env;
  const located = parseLocated(text, file);
  const locate = located.locate;
  const fail = (issues: PlanIssue[]): never => {
    throw new PlanError(
      issues.map((i) => ({ ...i, location: i.location ?? locate(i.path) ?? { file, line: 1, col: 1 } })),
    );
  };
  if (located.syntaxErrors.length > 0) {
    fail(
      located.syntaxErrors.map((e) => ({
        severity: 'error',
        path: [],
        message: `YAML: ${e.message}`,
        location: e.location,
      })),
    );
  }
  const issues: PlanIssue[] = [
    ...(options.allowPlaintextSecrets ? [] : plaintextSecretIssues(located.data)),
    ...literalKeyIssues(located.data),
  ];
  const resolved = resolveReferences(located.data, { env, baseDir: path.dirname(path.resolve(file)) }, issues);
  const parsed = PlanSchema.safeParse(resolved, { reportInput: true });
  if (!parsed.success) fail([...issues, ...zodIssues(parsed.error, located.locateKey)]);
  const input = parsed.data as z.infer<typeof PlanSchema>;
  // A URL whose reference could not be resolved has its issue already: not a second one for what stands in for it.
  const issueAt = new Set(issues.map((i) => i.path.join('.')));
  issues.push(...connectionIssues(input).filter((i) => !issueAt.has(i.path.join('.'))));
  const entities = Object.entries(input.entities).map(([name, entity]) =>
    compileEntity(
      name,
      entity,
      { batchSize: input.batch_size ?? DEFAULT_BATCH_SIZE, workers: input.workers ?? 'auto', keys: input.keys },
      issues,
    ),
  );
  if (entities.length === 0)
    issues.push({ severity: 'error', path: ['entities'], message: 'the plan has no entities' });
  const unpivots = new Map<string, UnpivotSpec>();
  const placed = placeEntities(input, entities, issues).map((e) => unpivoted(input, e, unpivots, issues));
  const targetOf = targetOfEntities(input, placed, issues);
  if (!issues.some((i) => i.severity === 'error'))
    issues.push(...referenceIssues(placed), ...dedupeGroupIssues(placed));
  if (issues.some((i) => i.severity === 'error')) fail(issues);
  const name = input.name ?? path.basename(file).replace(/\.ya?ml$/i, '');
  const part =
    input.targets &&
    (options.target ?? (Object.keys(input.targets).length === 1 ? Object.keys(input.targets)[0] : undefined));
  const { name: partName, url: target } = part
    ? targetPart(name, input.targets ?? {}, part)
    : { name, url: input.target ?? '' };
  if (options.target !== undefined && !input.targets)
    throw new CrmMigrateError('E_USAGE', `plan ${name} has one target: --target is for a plan of several (targets:)`);
  const included = part ? placed.filter((e) => targetOf.get(e.name) === part) : placed;

  // The hash covers what decides the target's content and the meaning of a checkpoint — not tuning (batch
  // size, threads, lookback, deletes) and not the secrets in the connection URLs.
  const unresolved = PlanSchema.shape.entities.safeParse((located.data as { entities?: unknown }).entities);
  const includedNames = new Set(included.map((e) => e.name));
  const mapping = Object.entries(unresolved.data ?? input.entities)
    .filter(([name]) => includedNames.has(name))
    .map(([name, e]) => [
      name,
      e.source ?? null,
      e.from,
      e.join ?? null,
      e.into,
      e.key,
      e.fields,
      e.strategy ?? 'full',
      e.cursor ?? null,
      e.tombstone ?? null,
      ...(e.dedupe ? [e.dedupe] : []),
      ...(e.unpivot ? [{ unpivot: e.unpivot }] : []),
      ...(e.where ? [{ where: e.where }] : []),
    ]);
  const hash = createHash('sha256').update(JSON.stringify(mapping)).digest('hex').slice(0, 16);
  const plan: Plan = {
    file,
    baseDir: path.dirname(path.resolve(file)),
    name: partName,
    hash,
    source: input.source ?? '',
    sources: input.sources,
    target,
    targets: input.targets && Object.keys(input.targets),
    ...tlsOf(input.tls, path.dirname(path.resolve(file))),
    entities: included,
    unpivots,
    keys: input.keys ?? {},
    maxQuarantined: input.max_quarantined === undefined ? undefined : parseQuarantineLimit(input.max_quarantined),
    parallel: input.parallel ?? 1,
    locate,
  };
  origins.set(plan, { text, file, options });
  return plan;
}

/**
 * Each entity on its source. With one `source:`, nothing changes. With `sources:`, an entity names its own
 * (`source: shop`; it may leave it out when there is only one), and its tables are read as `shop:table`.
 */
function placeEntities(input: PlanInput, entities: readonly EntityPlan[], issues: PlanIssue[]): EntityPlan[] {
  if ((input.source === undefined) === (input.sources === undefined)) {
    issues.push({
      severity: 'error',
      path: [],
      message: 'a plan needs either source: (one URL) or sources: (several, by name)',
    });
    return [...entities];
  }
  const names = Object.keys(input.sources ?? {});
  return entities.map((entity) => {
    const given = input.entities[entity.name]?.source;
    if (!input.sources) {
      if (given !== undefined)
        issues.push({
          severity: 'error',
          path: [...entity.path, 'source'],
          message: 'this plan has one source: "source" on an entity needs sources: at the top',
          hint: 'name them: sources: { crm: …, shop: … }',
        });
      return entity;
    }
    const name = given ?? (names.length === 1 ? names[0] : undefined);
    if (name === undefined || !names.includes(name)) {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'source'],
        message:
          name === undefined
            ? 'the plan has several sources: say which one this entity reads'
            : `no source named "${name}"`,
        hint: (name !== undefined ? didYouMean(name, names) : undefined) ?? `sources: ${names.join(', ')}`,
      });
      return entity;
    }
    return {
      ...entity,
      from: `${name}:${entity.from}`,
      joins: entity.joins.map((j) => ({ ...j, from: `${name}:${j.from}` })),
    };
  });
}

/**
 * An entity with `unpivot:` reads its table through UnpivotSource, under a name of its own; its key is the
 * table's key and the position column, in that order, and it is loaded in full.
 */
function unpivoted(
  input: PlanInput,
  entity: EntityPlan,
  specs: Map<string, UnpivotSpec>,
  issues: PlanIssue[],
): EntityPlan {
  const unpivot = input.entities[entity.name]?.unpivot;
  if (!unpivot) return entity;
  const position = unpivot.position ?? 'position';
  const at = [...entity.path, 'unpivot'];
  if (entity.key.length !== 2 || entity.key[1] !== position) {
    issues.push({
      severity: 'error',
      path: [...entity.path, 'key'],
      message: "an unpivoting entity is keyed by its table's key and the position",
      hint: `key: [${entity.key[0] ?? 'id'}, ${position}]`,
    });
  }
  if (entity.strategy !== 'full')
    issues.push({
      severity: 'error',
      path: [...at],
      message: 'unpivot is for full loads',
      hint: 'use strategy: full for this entity',
    });
  if (entity.dedupe)
    issues.push({
      severity: 'error',
      path: [...at],
      message: 'an unpivoting entity cannot de-duplicate',
      hint: 'dedupe the entity its rows belong to',
    });
  const spec = { table: entity.from, key: entity.key[0] ?? '', columns: unpivot.columns, as: unpivot.as, position };
  const name = unpivotTable(spec);
  specs.set(name, spec);
  return { ...entity, from: name };
}

/** The plan's `tls:` per side, with a relative CA path read from the plan's folder. */
function tlsOf(
  tls: PlanInput['tls'],
  baseDir: string,
): { sourceTls: TlsSettings | undefined; targetTls: TlsSettings | undefined } {
  const absolute = (t: { mode: TlsSettings['mode']; ca?: string | undefined } | undefined): TlsSettings | undefined =>
    t && { mode: t.mode, ca: t.ca === undefined ? undefined : path.resolve(baseDir, t.ca) };
  if (!tls) return { sourceTls: undefined, targetTls: undefined };
  if ('mode' in tls) return { sourceTls: absolute(tls), targetTls: absolute(tls) };
  return { sourceTls: absolute(tls.source), targetTls: absolute(tls.target) };
}

export async function loadPlan(file: string, options: LoadOptions = {}): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new CrmMigrateError('E_USAGE', `cannot read plan file ${file}${code === 'ENOENT' ? ': no such file' : ''}`, {
      cause,
    });
  }
  return parsePlan(text, file, options);
}
