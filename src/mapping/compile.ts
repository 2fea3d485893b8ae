import { compileDedupe, type DedupePlan } from '../dedupe/plan.js';
import type { PlanIssue } from '../errors.js';
import type { EntityInput, FieldInput, InvalidPolicyName } from '../plan/schema.js';
import { DURATION_HINT, parseDuration } from '../plan/duration.js';
import { didYouMean } from '../suggest.js';
import { LOGICAL_TYPES, parseTypeName, type LogicalType, type Value } from '../values.js';
import { registerBuiltinSteps } from './builtin-steps.js';
import { findStep, stepNames, type StepDefinition, type StepFunction } from './steps.js';
import { expressionColumns } from './expressions.js';
import { templateColumns } from './json-build.js';
import { NAME_PARTS, type NamePart } from './person-name.js';
import type { NameOptions } from './transforms.js';
import { compileIdentity, joinColumn, type LookupPlan, type RefPlan } from './identity.js';
import { compileWhere, type WhereClause } from './where.js';

registerBuiltinSteps();

type Path = readonly (string | number)[];

export interface CompiledStep {
  readonly name: string;
  readonly kind: StepDefinition['kind'];
  readonly takes: StepDefinition['takes'];
  readonly output: LogicalType | undefined;
  /** Other source columns this step reads (see StepDefinition.reads). */
  readonly reads: readonly string[];
  /** The options it was created with, as the plan gave them (checked). */
  readonly options?: unknown;
  readonly run: StepFunction;
}

/** One target field, ready to evaluate: where its input comes from and the steps it goes through. */
export interface FieldPlan {
  readonly target: string;
  readonly path: Path;
  /** Source columns read; one unless the plan gave a list (N:1). Empty for a constant. */
  readonly from: readonly string[];
  readonly fromList: boolean;
  readonly constant: Value | undefined;
  readonly steps: readonly CompiledStep[];
  readonly invalid: InvalidPolicyName;
  /** false: corrections are not applied, only counted as flags. */
  readonly fix: boolean;
  readonly default: Value | undefined;
  readonly declaredType: { type: LogicalType; maxLength?: number } | undefined;
  /** Personal data (`pii: true`, or any `protect`): its source values are masked wherever rows are shown or kept. */
  readonly pii: boolean;
  /** `ref:`: the record this field points at, resolved through the crosswalk before mapping. */
  readonly ref: RefPlan | undefined;
  /** `lookup:`: the record of the new CRM this field points at, found in the target before mapping. */
  readonly lookup: LookupPlan | undefined;
  /** `new_id:`: this field is the record's new key. */
  readonly newId: boolean;
}

export interface EntityPlan {
  readonly name: string;
  readonly path: Path;
  readonly from: string;
  readonly into: string;
  readonly key: readonly string[];
  readonly fields: readonly FieldPlan[];
  readonly batchSize: number;
  /** Mapping threads: 'auto' decides from the measured cost of the first rows; 0 maps on the main thread. */
  readonly workers: number | 'auto';
  /** `full`: one load; `incremental`: each run reads the rows changed since the last one (by `cursor`) and upserts them. */
  readonly strategy: 'full' | 'incremental' | 'cdc';
  /** The source column that grows with every change (incremental only). */
  readonly cursor: string | undefined;
  /** Joined tables' cursors (`person.modifiedtime`): a change there re-reads the records joining that row. */
  readonly linkedCursors: readonly { readonly alias: string; readonly column: string }[];
  /** How far behind its checkpoint an increment starts reading: a time span for date cursors, units for numeric ones. */
  readonly lookback: Lookback | undefined;
  /** What an increment does with target rows whose source row is gone. */
  readonly deletes: 'ignore' | 'soft' | 'hard';
  /** Soft deletes: the target column that gets the deletion time. */
  readonly tombstone: string | undefined;
  /** Tables joined to each row by key (`join:`): their columns fill the virtual columns `alias.column` reads. */
  readonly joins: readonly JoinPlan[];
  /** The row filter (`where:`), as its top-level clauses; empty when every row is kept. */
  readonly where: readonly WhereClause[];
  /** The plan's resolved `keys` (hash and encrypt): kept in memory only, for mapping threads to compile the entity again. */
  readonly keys: Readonly<Record<string, string>>;
  /** Matching and merging of the entity's duplicate records (`dedupe:`), if any. */
  readonly dedupe: DedupePlan | undefined;
  /** Values of the placeholder records other entities' orphan refs may make in this entity's table, by target column. */
  readonly placeholder: Readonly<Record<string, Value>> | undefined;
  /** The entity as the plan wrote it (validated, `${env:…}` resolved): JSON, so a worker thread can compile it again. */
  readonly input: EntityInput;
}

export type Lookback = { readonly ms: number } | { readonly units: number };

export interface JoinPlan {
  readonly alias: string;
  readonly from: string;
  /** The entity's own column holding the joined row's key. */
  readonly on: string;
  /** The joined table's key column. */
  readonly key: string;
  /** The joined columns the fields read (`city` for `addr.city`). */
  readonly columns: readonly string[];
  /** Only joined rows that pass count as matches. */
  readonly where: readonly WhereClause[];
  /** The rule that picks one of several matches; without one, several matches quarantine the row. */
  readonly pick: readonly PickOrder[] | undefined;
  /** `collect:`: every match, in this order; the joined columns are lists (see json-build.ts). */
  readonly collect: readonly PickOrder[] | undefined;
  /**
   * The join's columns are lists: it collects, or it is chained on a join that does (one match per item of
   * that list, in its order).
   */
  readonly lists: boolean;
}

function stepSpecs(spec: FieldInput['transform']): { name: string; options: unknown; hasOptions: boolean }[] {
  if (spec === undefined) return [];
  const list = Array.isArray(spec) ? spec : [spec];
  return list.map((s) => {
    if (typeof s === 'string') return { name: s, options: undefined, hasOptions: false };
    const keys = Object.keys(s);
    return {
      name: keys.length === 1 ? (keys[0] ?? '') : keys.join('+'),
      options: keys.length === 1 ? s[keys[0] ?? ''] : undefined,
      hasOptions: true,
    };
  });
}

function compileSteps(field: FieldInput, kind: 'transform' | 'clean', path: Path, issues: PlanIssue[]): CompiledStep[] {
  const specs = stepSpecs(field[kind]);
  const compiled: CompiledStep[] = [];
  specs.forEach((spec, index) => {
    const at = Array.isArray(field[kind]) ? [...path, kind, index] : [...path, kind];
    const definition = findStep(spec.name);
    if (!definition || definition.kind !== kind) {
      const other = definition
        ? ` ("${spec.name}" is a ${definition.kind} step: put it under ${definition.kind}:)`
        : '';
      issues.push({
        severity: 'error',
        path: at,
        message: `unknown ${kind} "${spec.name}"${other}`,
        hint: definition
          ? undefined
          : (didYouMean(spec.name, stepNames(kind)) ?? `known: ${stepNames(kind).join(', ')}`),
      });
      return;
    }
    let options: unknown = undefined;
    if (definition.options) {
      const parsed = definition.options.safeParse(spec.options);
      if (!parsed.success) {
        issues.push({
          severity: 'error',
          path: spec.hasOptions ? [...at, spec.name] : at,
          message: `bad options for ${kind} "${spec.name}": ${parsed.error.issues.map((i) => i.message).join('; ')}`,
          hint: spec.hasOptions ? undefined : `write it as { ${spec.name}: … }`,
        });
        return;
      }
      options = parsed.data;
    } else if (spec.hasOptions && spec.options !== null && spec.options !== undefined) {
      issues.push({
        severity: 'error',
        path: [...at, spec.name],
        message: `${kind} "${spec.name}" takes no options`,
        hint: `write it as the bare name: ${spec.name}`,
      });
      return;
    }
    const output = typeof definition.output === 'function' ? definition.output(options) : definition.output;
    compiled.push({
      name: definition.name,
      kind,
      takes: definition.takes,
      output,
      reads: definition.reads?.(options) ?? [],
      options,
      run: definition.create(options),
    });
  });
  return compiled;
}

/** The `protect:` of a field as its last step, with its key from the plan's `keys`. */
function compileProtect(
  field: FieldInput,
  path: Path,
  keys: Readonly<Record<string, string>>,
  issues: PlanIssue[],
): CompiledStep[] {
  const spec = field.protect;
  if (spec === undefined) return [];
  const [name, raw] = typeof spec === 'string' ? [spec, undefined] : (Object.entries(spec)[0] ?? ['', undefined]);
  const at = typeof spec === 'string' ? [...path, 'protect'] : [...path, 'protect', name];
  const definition = findStep(`protect.${name}`);
  if (!definition || definition.kind !== 'protect' || (typeof spec !== 'string' && Object.keys(spec).length !== 1)) {
    issues.push({
      severity: 'error',
      path: at,
      message: `unknown protection "${name}"`,
      hint: didYouMean(name, ['hash', 'mask', 'encrypt', 'drop']) ?? 'use hash, mask, encrypt or drop',
    });
    return [];
  }
  let options: unknown = raw;
  if (name === 'hash' || name === 'encrypt') {
    const keyName = raw === undefined || raw === null ? 'pii' : raw;
    const key = typeof keyName === 'string' ? keys[keyName] : undefined;
    if (key === undefined) {
      issues.push({
        severity: 'error',
        path: at,
        message: `protect: ${name} needs the key "${String(keyName)}"`,
        hint: `add at the top of the plan: keys: { ${String(keyName)}: \${env:CRM_PII_KEY} }`,
      });
      return [];
    }
    options = { key };
  }
  const parsed = definition.options
    ? definition.options.safeParse(options)
    : { success: options === undefined || options === null, data: undefined };
  if (!parsed.success) {
    issues.push({
      severity: 'error',
      path: at,
      message: `bad options for protect: ${name}`,
      hint: name === 'mask' ? 'write { mask: { keep_last: 4 } } or { mask: { keep_first: 1 } }' : undefined,
    });
    return [];
  }
  const output = typeof definition.output === 'function' ? definition.output(parsed.data) : definition.output;
  return [
    { name: definition.name, kind: 'protect', takes: 'one', output, reads: [], run: definition.create(parsed.data) },
  ];
}

function compileField(
  entity: { name: string; key: readonly string[] },
  target: string,
  field: FieldInput,
  path: Path,
  keys: Readonly<Record<string, string>>,
  issues: PlanIssue[],
): FieldPlan | undefined {
  const identity = compileIdentity(entity, target, field, path, issues);
  if (identity) {
    return {
      target,
      path,
      constant: undefined,
      fix: true,
      default: undefined,
      declaredType: undefined,
      pii: false,
      newId: field.new_id !== undefined,
      ...identity,
    };
  }
  if (field.ref !== undefined || field.lookup !== undefined) return undefined;
  if (field.expr !== undefined) {
    if (field.value !== undefined)
      issues.push({
        severity: 'error',
        path: [...path, 'value'],
        message: 'a field is an expression or a constant, not both',
      });
    // The expression reads its columns itself (the step declares them); `from` is the first of them.
    const reads = expressionColumns(field.expr);
    const transform =
      field.transform === undefined ? [] : Array.isArray(field.transform) ? field.transform : [field.transform];
    return compileField(
      entity,
      target,
      {
        ...field,
        expr: undefined,
        from: field.from ?? reads[0] ?? entity.key[0],
        transform: [{ expr: field.expr }, ...transform],
      },
      path,
      keys,
      issues,
    );
  }
  if (field.json !== undefined) {
    const stray = (['from', 'value', 'transform'] as const).filter((k) => field[k] !== undefined);
    if (stray.length > 0)
      issues.push({
        severity: 'error',
        path: [...path, stray[0]],
        message: `a json field reads the columns its object names: "${stray[0] as string}" does not go with it`,
      });
    // The clean: of the field cleans each item, inside the json step.
    if (Array.isArray(field.clean) && field.clean.length > 1)
      issues.push({
        severity: 'error',
        path: [...path, 'clean'],
        message: 'a json field cleans its items with one rule',
        hint: 'clean: email, or clean: { phone: { country: US } }',
      });
    const clean = Array.isArray(field.clean) ? field.clean[0] : field.clean;
    return compileField(
      entity,
      target,
      {
        ...field,
        json: undefined,
        clean: undefined,
        from: templateColumns(field.json),
        transform: [{ json: { template: field.json, ...(clean === undefined ? {} : { clean }) } }],
      },
      path,
      keys,
      issues,
    );
  }
  if ((field.from === undefined) === (field.value === undefined)) {
    issues.push({
      severity: 'error',
      path,
      message: 'a field needs exactly one of "from" (source columns) or "value" (a constant)',
    });
    return undefined;
  }
  const from = field.from === undefined ? [] : Array.isArray(field.from) ? field.from : [field.from];
  const steps = [
    ...compileSteps(field, 'transform', path, issues),
    ...compileSteps(field, 'clean', path, issues),
    ...compileProtect(field, path, keys, issues),
  ];
  if (Array.isArray(field.from) && field.from.length > 1 && steps[0]?.takes !== 'many') {
    issues.push({
      severity: 'error',
      path: [...path, 'from'],
      message: 'several source columns need a first transform that combines them',
      hint: 'add transform: { join: " " } or transform: coalesce',
    });
  }
  steps.slice(1).forEach((s) => {
    if (s.takes === 'many')
      issues.push({
        severity: 'error',
        path: [...path, 'transform'],
        message: `"${s.name}" combines several columns: it must be the first step`,
      });
  });
  if (field.invalid === 'default' && field.default === undefined) {
    issues.push({
      severity: 'error',
      path: [...path, 'invalid'],
      message: 'invalid: default needs a default value',
      hint: 'add default: …',
    });
  }
  let declaredType: FieldPlan['declaredType'];
  if (field.type !== undefined) {
    declaredType = parseTypeName(field.type);
    if (!declaredType) {
      issues.push({
        severity: 'error',
        path: [...path, 'type'],
        message: `unknown type "${field.type}"`,
        hint: didYouMean(field.type, LOGICAL_TYPES) ?? `known: ${LOGICAL_TYPES.join(', ')}, varchar(N)`,
      });
    }
  }
  return {
    target,
    path,
    from,
    fromList: Array.isArray(field.from),
    constant: field.value,
    steps,
    invalid: field.invalid ?? 'quarantine',
    fix: field.fix ?? true,
    default: field.default,
    declaredType,
    pii: field.pii === true || field.protect !== undefined,
    ref: undefined,
    lookup: undefined,
    newId: false,
  };
}

/** Compiles one entity's field rules; problems are added to `issues` with their plan paths. */
export function compileEntity(
  name: string,
  entity: EntityInput,
  defaults: { batchSize: number; workers: number | 'auto'; keys?: Readonly<Record<string, string>> | undefined },
  issues: PlanIssue[],
): EntityPlan {
  const path = ['entities', name];
  const keys = defaults.keys ?? {};
  const identity = { name, key: Array.isArray(entity.key) ? entity.key : [entity.key] };
  const compiled = Object.entries(entity.fields)
    .map(([target, field]) => compileField(identity, target, field, [...path, 'fields', target], keys, issues))
    .filter((f): f is FieldPlan => f !== undefined);
  const { fields, joins } = withJoins(countDroppedNameParts(compiled, path, issues), entity.join ?? {}, path, issues);
  const sync = compileSync(entity, path, issues);
  sync.linkedCursors.forEach((c, i) => {
    if (!joins.some((j) => j.alias === c.alias))
      issues.push({
        severity: 'error',
        path: [...path, 'cursor', i + 1],
        message: `no join "${c.alias}" for the cursor ${c.alias}.${c.column}`,
        hint:
          didYouMean(
            c.alias,
            joins.map((j) => j.alias),
          ) ?? 'name a join of this entity',
      });
  });
  return {
    ...sync,
    name,
    path,
    from: entity.from,
    into: entity.into,
    key: Array.isArray(entity.key) ? entity.key : [entity.key],
    fields,
    batchSize: entity.batch_size ?? defaults.batchSize,
    workers: entity.workers ?? defaults.workers,
    joins,
    where: entity.where ? compileWhere(entity.where, [...path, 'where'], issues) : [],
    keys,
    dedupe: entity.dedupe && compileDedupe(name, entity.dedupe, Object.keys(entity.fields), issues),
    placeholder: entity.placeholder,
    input: entity,
  };
}

/**
 * A name column split into parts by `name.*` fields loses the parts no field takes: "Dr. Mary Ann Jones Jr."
 * into first_name and last_name drops Dr., Ann and Jr. One field per column (its last name, else the first)
 * counts them, as flags (`middle_dropped`, `suffix_dropped`…) in the quality report, so none is lost unseen.
 * A column also copied whole into a field of its own loses nothing. Every part of one column reads a single
 * word alike: `single_word` given on one of them holds for all (two that disagree are refused).
 */
function countDroppedNameParts(fields: FieldPlan[], path: Path, issues: PlanIssue[]): FieldPlan[] {
  const part = (f: FieldPlan) => /^name\.(\w+)$/.exec(f.steps[0]?.name ?? '')?.[1] as NamePart | undefined;
  const singleWordOf = (f: FieldPlan) => (f.steps[0]?.options as NameOptions | undefined)?.single_word;
  const byColumn = new Map<string, FieldPlan[]>();
  for (const f of fields)
    if (part(f) && f.from.length === 1) byColumn.set(f.from[0], [...(byColumn.get(f.from[0]) ?? []), f]);
  const options = new Map<FieldPlan, NameOptions & { dropped?: NamePart[] }>();
  for (const [column, split] of byColumn) {
    const given = [...new Set(split.map(singleWordOf).filter((w) => w !== undefined))];
    if (given.length > 1)
      issues.push({
        severity: 'error',
        path: [...path, 'fields', split.find((f) => singleWordOf(f) !== undefined)?.target ?? column],
        message: `the name parts of ${column} disagree on single_word (${given.join(' and ')})`,
        hint: 'give single_word once, on one of them: it holds for every part of the column',
      });
    if (given.length === 1) for (const f of split) options.set(f, { single_word: given[0] });
    if (fields.some((f) => f.from.includes(column) && !part(f))) continue;
    const taken = new Set(split.map(part));
    const dropped = NAME_PARTS.filter((p) => !taken.has(p));
    const counter = split.find((f) => part(f) === 'last') ?? split[0];
    if (dropped.length > 0) options.set(counter, { ...options.get(counter), dropped });
  }
  if (options.size === 0) return fields;
  return fields.map((f) => {
    const given = options.get(f);
    const first = f.steps[0];
    const definition = first && findStep(first.name);
    return given && first && definition
      ? { ...f, steps: [{ ...first, run: definition.create(given) }, ...f.steps.slice(1)] }
      : f;
  });
}

/**
 * What a change-capture entity cannot do yet, refused rather than done wrong: a change to a joined table is
 * not in the entity's own table's log (its records would keep the joined values of the snapshot), and a
 * merge decided per change could join records the whole table's matching would keep apart.
 */
function checkChangeCapture(entity: EntityInput, path: Path, issues: PlanIssue[]): void {
  if (entity.join)
    issues.push({
      severity: 'error',
      path: [...path, 'join'],
      message:
        "strategy: cdc follows the entity's own table, so a change to a joined table would never reach its records",
      hint: 'follow the joined table as an entity of its own with a ref, or use strategy: incremental with a joined cursor',
    });
  if (entity.dedupe)
    issues.push({
      severity: 'error',
      path: [...path, 'dedupe'],
      message: 'dedupe is not supported with strategy: cdc yet: each change would be matched alone',
      hint: 'use strategy: incremental for an entity that de-duplicates',
    });
}

/** The entity's strategy keys, checked against each other: each one names the key it needs. */
function compileSync(
  entity: EntityInput,
  path: Path,
  issues: PlanIssue[],
): Pick<EntityPlan, 'strategy' | 'cursor' | 'linkedCursors' | 'lookback' | 'deletes' | 'tombstone'> {
  const strategy = entity.strategy ?? 'full';
  const deletes = entity.deletes ?? 'ignore';
  const needsIncremental = (key: string) =>
    issues.push({
      severity: 'error',
      path: [...path, key],
      message: `"${key}" applies only to an incremental entity`,
      hint: 'add strategy: incremental (with cursor: <column>)',
    });
  if (strategy === 'incremental' && entity.cursor === undefined) {
    issues.push({
      severity: 'error',
      path: [...path, 'strategy'],
      message: 'an incremental entity needs a cursor column',
      hint: 'add cursor: <a column that grows on every change, such as updated_at>',
    });
  }
  if (strategy === 'cdc') checkChangeCapture(entity, path, issues);
  if (strategy !== 'incremental') {
    if (entity.cursor !== undefined) needsIncremental('cursor');
    if (entity.lookback !== undefined) needsIncremental('lookback');
    if (deletes !== 'ignore' && strategy === 'full') needsIncremental('deletes');
  }
  if (entity.tombstone !== undefined && deletes !== 'soft') {
    issues.push({
      severity: 'error',
      path: [...path, 'tombstone'],
      message: '"tombstone" names the column soft deletes set',
      hint: 'add deletes: soft, or remove tombstone',
    });
  }
  let lookback: Lookback | undefined;
  if (typeof entity.lookback === 'number') lookback = { units: entity.lookback };
  else if (entity.lookback !== undefined) {
    const ms = parseDuration(entity.lookback);
    if (ms === undefined)
      issues.push({
        severity: 'error',
        path: [...path, 'lookback'],
        message: `"${entity.lookback}" is not a duration`,
        hint: `${DURATION_HINT}, or a number for a numeric cursor`,
      });
    else lookback = { ms };
  }
  const [cursor, ...joined] = typeof entity.cursor === 'string' ? [entity.cursor] : (entity.cursor ?? []);
  const linkedCursors = joined.flatMap((c, i) => {
    const dot = c.indexOf('.');
    if (dot > 0) return [{ alias: c.slice(0, dot), column: c.slice(dot + 1) }];
    issues.push({
      severity: 'error',
      path: [...path, 'cursor', i + 1],
      message: `"${c}" is not a joined column: after the entity's own cursor come those of its joins`,
      hint: 'cursor: [modifiedtime, person.modifiedtime]',
    });
    return [];
  });
  if (cursor?.includes('.'))
    issues.push({
      severity: 'error',
      path: [...path, 'cursor', ...(typeof entity.cursor === 'string' ? [] : [0])],
      message: "the first cursor is a column of the entity's own table",
      hint: 'cursor: [modifiedtime, person.modifiedtime]',
    });
  if (linkedCursors.length > 0 && Array.isArray(entity.key) && entity.key.length > 1)
    issues.push({
      severity: 'error',
      path: [...path, 'cursor'],
      message: 'joined cursors re-read records by their key: a key of one column',
      hint: "keep the entity's own cursor only",
    });
  return {
    strategy,
    cursor,
    linkedCursors,
    lookback,
    deletes,
    tombstone: deletes === 'soft' ? (entity.tombstone ?? 'deleted_at') : undefined,
  };
}

/**
 * `alias.column` in a field's `from` (and in what its steps read) becomes the virtual column the join fills;
 * each join learns which of its table's columns are read.
 */
function withJoins(
  fields: readonly FieldPlan[],
  join: NonNullable<EntityInput['join']>,
  path: Path,
  issues: PlanIssue[],
): { fields: FieldPlan[]; joins: JoinPlan[] } {
  const aliases = new Map(
    Object.entries(join).map(([alias, j]) => {
      const at = [...path, 'join', alias];
      const where = j.where ? compileWhere(j.where, [...at, 'where'], issues) : [];
      const pick = j.pick ? pickOrder(j.pick.order, [...at, 'pick', 'order'], issues) : undefined;
      const collect = j.collect ? pickOrder(j.collect.order, [...at, 'collect', 'order'], issues) : undefined;
      if (pick && collect)
        issues.push({
          severity: 'error',
          path: [...at, 'collect'],
          message: 'a join picks one match or collects them all, not both',
          hint: 'keep pick: for one row, or collect: for the list',
        });
      return [
        alias,
        {
          alias,
          from: j.from,
          on: j.on,
          key: j.key ?? j.on,
          columns: new Set<string>(),
          where,
          pick,
          collect,
          lists: collect !== undefined,
        },
      ];
    }),
  );
  const rewrite = (column: string): string => {
    const dot = column.indexOf('.');
    const target = dot > 0 ? aliases.get(column.slice(0, dot)) : undefined;
    if (!target) return column;
    target.columns.add(column.slice(dot + 1));
    return joinColumn(column);
  };
  // A join on a column of an earlier join (contact -> relation table -> email table): resolved in plan order.
  const order = [...aliases.keys()];
  for (const [alias, j] of aliases) {
    const dot = j.on.indexOf('.');
    if (dot <= 0) continue;
    const via = j.on.slice(0, dot);
    if (!aliases.has(via) || order.indexOf(via) >= order.indexOf(alias)) {
      issues.push({
        severity: 'error',
        path: [...path, 'join', alias, 'on'],
        message: aliases.has(via)
          ? `join ${alias} is on a column of join ${via}, which comes after it`
          : `no join "${via}" to join ${alias} on`,
        hint: aliases.has(via)
          ? `declare ${via} before ${alias}`
          : (didYouMean(via, order) ??
            "on: names a column of the entity's table, or alias.column of a join declared before this one"),
      });
      continue;
    }
    j.on = rewrite(j.on);
    const parent = aliases.get(via) as { lists: boolean };
    if (parent.lists && j.collect)
      issues.push({
        severity: 'error',
        path: [...path, 'join', alias, 'collect'],
        message: `join ${alias} is on a join that collects (${via}): it takes one match per item already`,
        hint: 'leave out collect:, or pick: one match per item',
      });
    if (parent.lists) j.lists = true;
  }
  // A condition on a joined column reads it where the join puts it.
  const clause = (c: WhereClause): WhereClause => {
    const renamed = new Map(c.columns.map((column) => [column, rewrite(column)]));
    return {
      ...c,
      columns: [...renamed.values()],
      test: (get) => c.test((column) => get(renamed.get(column) ?? column)),
    };
  };
  const refOf = (ref: RefPlan, at: Path): RefPlan => {
    const column = rewrite(ref.column);
    // Placeholders are made from the entity's own table, before the load: a joined key is not read then.
    if (ref.placeholder && column !== ref.column)
      issues.push({
        severity: 'error',
        path: [...at, 'orphans'],
        message: 'a ref on a joined column makes no placeholders',
        hint: 'orphans: quarantine (the default) or null',
      });
    return { ...ref, column, by: ref.by && { ...ref.by, column: rewrite(ref.by.column) }, when: ref.when.map(clause) };
  };
  const out = fields.map((f) =>
    aliases.size === 0
      ? f
      : {
          ...f,
          from: f.from.map(rewrite),
          steps: f.steps.map((s) => ({ ...s, reads: s.reads.map(rewrite) })),
          ref: f.ref && refOf(f.ref, f.path),
          lookup: f.lookup && { ...f.lookup, column: rewrite(f.lookup.column) },
        },
  );
  // A collected column is a list: only a json: field builds something of it (an array).
  const lists = new Set([...aliases.values()].filter((j) => j.lists).map((j) => `${j.alias}.`));
  const isList = (column: string) => [...lists].some((prefix) => column.startsWith(joinColumn(prefix)));
  for (const f of out) {
    const json = f.steps[0]?.name === 'json';
    const read = [
      ...(json ? [] : f.from),
      ...(json ? [] : f.steps.flatMap((s) => s.reads)),
      ...(f.ref ? [f.ref.column, ...(f.ref.by ? [f.ref.by.column] : []), ...f.ref.when.flatMap((c) => c.columns)] : []),
      ...(f.lookup ? [f.lookup.column] : []),
    ];
    const list = read.find(isList);
    if (list)
      issues.push({
        severity: 'error',
        path: f.path,
        message: `${list.replace(joinColumn(''), '')} is a list (its join collects): only a json: field reads it`,
        hint: `write ${f.target}: { json: { items: ${list.replace(joinColumn(''), '')} } }, or pick: one match instead of collect:`,
      });
  }
  return { fields: out, joins: [...aliases.values()].map((j) => ({ ...j, columns: [...j.columns] })) };
}

/** `pick: { order: "primary desc, date_modified desc, id" }` as (column, descending) pairs. */
function pickOrder(text: string, path: Path, issues: PlanIssue[]): PickOrder[] {
  const order: PickOrder[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (!m?.[1]) {
      issues.push({
        severity: 'error',
        path,
        message: `"${part.trim()}" is not a column with asc or desc`,
        hint: 'order: "primary_address desc, date_modified desc, id"',
      });
      continue;
    }
    order.push({ column: m[1], descending: m[2]?.toLowerCase() === 'desc' });
  }
  return order;
}

export interface PickOrder {
  readonly column: string;
  readonly descending: boolean;
}
