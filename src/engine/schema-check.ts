import type { ColumnInfo, Source, TableInfo, TableSpec, Target, TargetCapabilities } from '../connectors/contract.js';
import { PlanError, type PlanIssue } from '../errors.js';
import type { EntityPlan, FieldPlan } from '../mapping/compile.js';
import type { Plan } from '../plan/load.js';
import { didYouMean } from '../suggest.js';
import { ambiguousColumn, isVirtualColumn, joinColumn, refColumn, referencedEntities } from '../mapping/identity.js';
import { isAuditField } from '../dedupe/compare.js';
import { loadOrder } from '../plan/load-order.js';
import { keyCopies } from '../plan/target-key.js';
import { placeholderSpec, type PlaceholderSpec } from './relations/placeholders.js';
import type { LogicalType } from '../values.js';

/** What a target column accepts, whether the table exists or is about to be created. */
export interface TargetColumn {
  readonly name: string;
  readonly type: LogicalType;
  readonly maxLength?: number | undefined;
  readonly nullable: boolean;
  readonly bmpOnly?: boolean | undefined;
  readonly precision?: number | undefined;
  readonly scale?: number | undefined;
  readonly labels?: ColumnInfo['labels'];
  readonly singlePrecision?: boolean | undefined;
  readonly unique?: boolean | undefined;
}

/** An entity bound to the live schemas: what to read, what it becomes, where it goes. */
export interface BoundEntity {
  readonly plan: EntityPlan;
  /** Source columns read, key columns first. */
  readonly sourceColumns: readonly string[];
  readonly targetColumns: readonly TargetColumn[];
  /** Present when the target table does not exist yet and will be created. */
  readonly create: TableSpec | undefined;
  /** The target columns the source key is copied into, in key order; empty when the key is not copied as is. */
  readonly targetKey: readonly string[];
  /** Columns each written row fills: the fields, then the tombstone column (always NULL on write) for soft deletes. */
  readonly writeColumns: readonly string[];
  /** The real source columns, read from the source: `sourceColumns` without the virtual ones refs fill in. */
  readonly readColumns: readonly string[];
  /** Whether written rows go into the crosswalk: the entity has a new_id, or another entity refers to it. */
  readonly recordsCrosswalk: boolean;
  /** Ref fields that close a cycle: written NULL by the load, filled in by a second pass (see loadOrder). */
  readonly deferredRefs?: readonly string[] | undefined;
  /** The placeholder records other entities' orphan refs make in this entity's table, if any do. */
  readonly placeholder?: PlaceholderSpec | undefined;
}

/**
 * The source columns an entity reads — key columns first, then the cursor, then what the fields and steps
 * read — followed by the virtual columns its ref fields get filled in before mapping (see resolveRefs).
 */
export function sourceColumnsOf(entity: EntityPlan): string[] {
  const cursor = entity.strategy === 'incremental' && entity.cursor ? [entity.cursor] : [];
  const ambiguity = entity.joins.filter((j) => !j.pick && !j.collect).map((j) => ambiguousColumn(j.alias));
  const compared = (entity.dedupe?.on ?? []).flatMap((f) => (f.column === undefined ? [] : [f.column]));
  const all = [
    ...entity.key,
    ...cursor,
    ...compared,
    ...entity.where.flatMap((c) => c.columns),
    ...entity.joins.map((j) => j.on),
    ...ambiguity,
    ...entity.fields.flatMap((f) => [
      ...(f.ref ? [f.ref.column, ...(f.ref.by ? [f.ref.by.column] : []), ...f.ref.when.flatMap((c) => c.columns)] : []),
      ...(f.lookup ? [f.lookup.column] : []),
      ...f.from,
      ...f.steps.flatMap((s) => s.reads),
    ]),
  ];
  const unique = [...new Set(all)];
  return [...unique.filter((c) => !isVirtualColumn(c)), ...unique.filter(isVirtualColumn)];
}

/**
 * Each joined table exists, and has its key and the columns the fields read; the entity's table has `on`.
 * Returns the joined columns as the entity reads them (`alias.column`, typed as in their table).
 */
async function checkJoins(
  entity: EntityPlan,
  own: TableInfo,
  source: Source,
  issues: PlanIssue[],
): Promise<ColumnInfo[]> {
  const joined: ColumnInfo[] = [];
  for (const join of entity.joins) {
    const at = [...entity.path, 'join', join.alias];
    // A join on an earlier join's column (alias.column) is checked as that join's column.
    if (!isVirtualColumn(join.on) && !own.columns.some((c) => c.name === join.on))
      issues.push({
        severity: 'error',
        path: [...at, 'on'],
        message: `source table ${own.name} has no column "${join.on}"`,
        hint: didYouMean(
          join.on,
          own.columns.map((c) => c.name),
        ),
      });
    const info = await source.describe(join.from);
    if (!info) {
      issues.push({
        severity: 'error',
        path: [...at, 'from'],
        message: `source has no table "${join.from}"`,
        hint: didYouMean(join.from, await source.listTables()),
      });
      continue;
    }
    for (const column of [join.key, ...join.columns]) {
      if (!info.columns.some((c) => c.name === column))
        issues.push({
          severity: 'error',
          path: at,
          message: `joined table ${join.from} has no column "${column}"`,
          hint: didYouMean(
            column,
            info.columns.map((c) => c.name),
          ),
        });
    }
    const checkAt = (columns: readonly string[], path: readonly (string | number)[]) => {
      for (const column of new Set(columns)) {
        if (!info.columns.some((c) => c.name === column))
          issues.push({
            severity: 'error',
            path,
            message: `joined table ${join.from} has no column "${column}"`,
            hint: didYouMean(
              column,
              info.columns.map((c) => c.name),
            ),
          });
      }
    };
    checkAt(
      join.where.flatMap((c) => c.columns),
      [...at, 'where'],
    );
    checkAt(
      (join.pick ?? []).map((p) => p.column),
      [...at, 'pick', 'order'],
    );
    checkAt(
      (join.collect ?? []).map((p) => p.column),
      [...at, 'collect', 'order'],
    );
    checkAt(
      entity.linkedCursors.filter((c) => c.alias === join.alias).map((c) => c.column),
      [...entity.path, 'cursor'],
    );
    for (const column of info.columns) joined.push({ ...column, name: joinColumn(`${join.alias}.${column.name}`) });
  }
  return joined;
}

/** What a lookup field writes, typed as the new CRM's column it takes (res_users.id). */
async function lookedUpColumns(entity: EntityPlan, target: Target): Promise<ColumnInfo[]> {
  const columns: ColumnInfo[] = [];
  for (const field of entity.fields) {
    const lookup = field.lookup;
    const column = lookup && (await target.describe(lookup.table))?.columns.find((c) => c.name === lookup.value);
    if (column) columns.push({ ...column, name: refColumn(field.target) });
  }
  return columns;
}

/** What incremental sync needs of the live schemas: a cursor column, an upsert key, a tombstone column. */
function checkSync(
  entity: EntityPlan,
  source: TableInfo,
  target: TableInfo | undefined,
  targetKey: readonly string[],
  issues: PlanIssue[],
): void {
  if (entity.strategy === 'full') return;
  const cursor =
    entity.strategy === 'incremental' && entity.cursor
      ? source.columns.find((c) => c.name === entity.cursor)
      : undefined;
  if (entity.strategy === 'incremental' && entity.cursor && !cursor) {
    issues.push({
      severity: 'error',
      path: [...entity.path, 'cursor'],
      message: `source table ${source.name} has no column "${entity.cursor}"`,
      hint: didYouMean(
        entity.cursor,
        source.columns.map((c) => c.name),
      ),
    });
  } else if (cursor && entity.lookback) {
    const numeric = NUMBERS.includes(cursor.type);
    if ('ms' in entity.lookback && numeric) {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'lookback'],
        message: `cursor ${entity.cursor} is a number, so lookback is a number of cursor units, not a time span`,
      });
    } else if ('units' in entity.lookback && !numeric) {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'lookback'],
        message: `cursor ${entity.cursor} is ${cursor.nativeType}, so lookback is a time span`,
        hint: 'write it as 30s, 5m, 2h or 1d',
      });
    }
  }
  if (targetKey.length === 0) {
    issues.push({
      severity: 'error',
      path: [...entity.path, 'key'],
      message: `an entity with strategy: ${entity.strategy} must copy its key to the target as it is, so changed rows can be upserted`,
      hint: `add a field such as ${entity.key[0] ?? 'id'}: ${entity.key[0] ?? 'id'}`,
    });
  } else if (target && [...target.primaryKey].sort().join('\0') !== [...targetKey].sort().join('\0')) {
    issues.push({
      severity: 'error',
      path: [...entity.path, 'into'],
      message: `target table ${target.name} needs its primary key on (${targetKey.join(', ')}) for upserts; it has ${target.primaryKey.length === 0 ? 'none' : `(${target.primaryKey.join(', ')})`}`,
      hint: `ALTER TABLE ${target.name} ADD PRIMARY KEY (${targetKey.join(', ')})`,
    });
  }
  if (entity.tombstone && target) {
    const column = target.columns.find((c) => c.name === entity.tombstone);
    if (!column) {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'tombstone'],
        message: `target table ${target.name} has no column "${entity.tombstone}" for soft deletes`,
        hint: `ALTER TABLE ${target.name} ADD COLUMN ${entity.tombstone} timestamp`,
      });
    } else if (!column.nullable || !['timestamp', 'text'].includes(column.type)) {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'tombstone'],
        message: `tombstone column ${target.name}.${column.name} must be a nullable timestamp (it is ${column.nativeType}${column.nullable ? '' : ' NOT NULL'})`,
      });
    }
  }
}

/** What mapping a row needs of an entity: its plan, the source columns a row holds, the target columns. */
export type MappableEntity = Pick<BoundEntity, 'plan' | 'sourceColumns' | 'targetColumns'>;

const INTEGERS: readonly LogicalType[] = ['smallint', 'integer', 'bigint'];
const NUMBERS: readonly LogicalType[] = [...INTEGERS, 'decimal', 'float'];

function outputType(
  field: FieldPlan,
  source: TableInfo,
  refersToUuid: (entity: string) => boolean,
): { type: LogicalType; maxLength?: number | undefined } {
  if (field.declaredType) return field.declaredType;
  let type: LogicalType;
  let maxLength: number | undefined;
  if (field.constant !== undefined) {
    const c = field.constant;
    type =
      typeof c === 'number' ? (Number.isInteger(c) ? 'integer' : 'float') : typeof c === 'boolean' ? 'boolean' : 'text';
  } else if (field.ref) {
    // A reference holds the referenced record's key: typed like the column it comes from (a new_id is a uuid).
    type = refersToUuid(field.ref.entity)
      ? 'uuid'
      : (source.columns.find((c) => c.name === field.ref?.column)?.type ?? 'text');
  } else if (field.from.length === 1) {
    const column = source.columns.find((c) => c.name === field.from[0]);
    type = column?.type ?? 'text';
    maxLength = field.steps.length === 0 ? column?.maxLength : undefined;
  } else {
    type = 'text';
  }
  for (const step of field.steps) if (step.output) type = step.output;
  return { type, maxLength };
}

/** How a value of type `from` fares in a column of type `to`: fine, some values may not fit, or none can. */
export function compatibility(from: LogicalType, to: LogicalType): 'ok' | 'lossy' | 'never' {
  if (from === to || to === 'text') return 'ok';
  if (from === 'text') return 'lossy';
  if (INTEGERS.includes(from) && NUMBERS.includes(to))
    return INTEGERS.indexOf(from) <= INTEGERS.indexOf(to) || !INTEGERS.includes(to) ? 'ok' : 'lossy';
  if (NUMBERS.includes(from) && NUMBERS.includes(to)) return 'lossy';
  if (from === 'date' && to === 'timestamp') return 'ok';
  if (from === 'timestamp' && to === 'date') return 'lossy';
  if (to === 'json') return 'ok';
  return 'never';
}

function checkSourceColumns(entity: EntityPlan, source: TableInfo, issues: PlanIssue[]): void {
  for (const field of entity.fields) {
    // A joined column (alias.column) is checked with its join.
    const own = (column: string) => isVirtualColumn(column) || source.columns.some((c) => c.name === column);
    const read = [
      ...(field.lookup ? [{ column: field.lookup.column, at: ['from'] }] : []),
      ...(field.ref ? [{ column: field.ref.column, at: ['from'] }] : []),
      ...(field.ref?.by ? [{ column: field.ref.by.column, at: ['ref', 'by'] }] : []),
      ...(field.ref?.when ?? []).flatMap((c) => c.columns.map((column) => ({ column, at: ['when'] }))),
    ];
    for (const { column, at } of read) {
      if (!own(column))
        issues.push({
          severity: 'error',
          path: [...field.path, ...at],
          message: `source table ${source.name} has no column "${column}"`,
          hint: didYouMean(
            column,
            source.columns.map((c) => c.name),
          ),
        });
    }
  }
  const names = source.columns.map((c) => c.name);
  const known = new Set(names);
  entity.dedupe?.on.forEach((f, i) => {
    if (f.column !== undefined && !known.has(f.column))
      issues.push({
        severity: 'error',
        path: [...entity.path, 'dedupe', 'on', i],
        message: `source table ${source.name} has no column "${f.column}" to compare`,
        hint: didYouMean(f.column, names),
      });
  });
  for (const column of new Set(entity.where.flatMap((c) => c.columns))) {
    if (!known.has(column))
      issues.push({
        severity: 'error',
        path: [...entity.path, 'where'],
        message: `source table ${source.name} has no column "${column}" to filter on`,
        hint: didYouMean(column, names),
      });
  }
  entity.key.forEach((key, i) => {
    if (!known.has(key)) {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'key', ...(entity.key.length > 1 ? [i] : [])],
        message: `source table ${source.name} has no column "${key}"`,
        hint: didYouMean(key, names),
      });
    }
  });
  for (const field of entity.fields) {
    field.from.forEach((column, i) => {
      if (!known.has(column) && !isVirtualColumn(column)) {
        const path = [...field.path, ...(field.fromList ? ['from', i] : ['from'])];
        issues.push({
          severity: 'error',
          path,
          message: `source table ${source.name} has no column "${column}"`,
          hint: didYouMean(column, names),
        });
      }
    });
    for (const step of field.steps) {
      for (const column of step.reads) {
        if (!known.has(column) && !isVirtualColumn(column)) {
          issues.push({
            severity: 'error',
            path: [...field.path, step.kind],
            message: `"${step.name}" reads column "${column}", which source table ${source.name} does not have`,
            hint: didYouMean(column, names),
          });
        }
      }
    }
  }
}

function checkExistingTarget(
  entity: EntityPlan,
  target: TableInfo,
  outputs: Map<string, { type: LogicalType }>,
  issues: PlanIssue[],
): TargetColumn[] {
  const byName = new Map(target.columns.map((c) => [c.name, c]));
  const columns: TargetColumn[] = [];
  for (const field of entity.fields) {
    const column = byName.get(field.target);
    if (!column) {
      issues.push({
        severity: 'error',
        path: field.path,
        message: `target table ${target.name} has no column "${field.target}"`,
        hint: didYouMean(field.target, byName.keys()),
      });
      continue;
    }
    columns.push(column);
    const out = outputs.get(field.target)?.type ?? 'text';
    const fit = compatibility(out, column.type);
    if (fit === 'never') {
      issues.push({
        severity: 'error',
        path: field.path,
        message: `produces ${out} but ${target.name}.${column.name} is ${column.nativeType}`,
        hint: 'add transform: { cast: … } or map to another column',
      });
    } else if (fit === 'lossy') {
      issues.push({
        severity: 'warning',
        path: field.path,
        message: `produces ${out} into ${column.nativeType}: rows whose value does not fit are quarantined`,
      });
    }
  }
  const mapped = new Set(entity.fields.map((f) => f.target));
  for (const column of target.columns) {
    if (!column.nullable && !column.hasDefault && !mapped.has(column.name)) {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'fields'],
        message: `target column ${target.name}.${column.name} is NOT NULL and has no default, but nothing maps to it`,
        hint: `add a field "${column.name}" (with default: … if the source can be empty)`,
      });
    }
  }
  return columns;
}

function createSpec(
  entity: EntityPlan,
  outputs: Map<string, { type: LogicalType; maxLength?: number | undefined }>,
): TableSpec {
  // The key columns copied as they are become the new table's primary key.
  const primaryKey = keyCopies(entity);
  const columns: TableSpec['columns'][number][] = entity.fields.map((f) => ({
    name: f.target,
    ...outputs.get(f.target),
    type: outputs.get(f.target)?.type ?? 'text',
    nullable: !primaryKey.includes(f.target),
  }));
  if (entity.tombstone) columns.push({ name: entity.tombstone, type: 'timestamp', nullable: true });
  return { name: entity.into, columns, primaryKey };
}

/**
 * Checks a plan against the live source and target schemas — tables, columns, types, NOT NULL — and
 * binds each entity to them. Errors carry the plan's file:line:col; warnings are returned for display.
 */
/** A table the plan creates must keep its name and its columns' names: the target would cut a longer one. */
function checkIdentifiers(
  entity: EntityPlan,
  create: TableSpec,
  limit: TargetCapabilities['identifierLimit'],
  issues: PlanIssue[],
): void {
  if (!limit) return;
  const size = (name: string) => (limit.unit === 'bytes' ? Buffer.byteLength(name) : [...name].length);
  const refuse = (name: string, what: string, path: readonly (string | number)[]) =>
    issues.push({
      severity: 'error',
      path,
      message: `the ${what} name "${name}" has ${size(name)} ${limit.unit}; the target keeps at most ${limit.max} and would cut it`,
      hint: `choose a name of at most ${limit.max} ${limit.unit}`,
    });
  // A schema-qualified name (crm.people) is two names, each within the limit.
  for (const part of create.name.split('.'))
    if (size(part) > limit.max) refuse(part, 'table', [...entity.path, 'into']);
  for (const column of create.columns) {
    if (size(column.name) <= limit.max) continue;
    refuse(column.name, 'column', entity.fields.find((f) => f.target === column.name)?.path ?? entity.path);
  }
}

export async function checkAgainstSchemas(
  plan: Plan,
  source: Source,
  target: Target,
): Promise<{ entities: BoundEntity[]; warnings: PlanIssue[] }> {
  const issues: PlanIssue[] = [];
  const entities: BoundEntity[] = [];
  let sourceTables: string[] | undefined;
  const { order, deferred } = loadOrder(plan);
  // Asked of every entity: counted once, not by a scan of the plan per entity.
  const fillers = new Map<string, number>();
  for (const e of plan.entities) fillers.set(e.into, (fillers.get(e.into) ?? 0) + 1);
  const referencedNames = new Set(
    plan.entities.flatMap((e) => e.fields.flatMap((f) => (f.ref ? referencedEntities(f.ref) : []))),
  );
  for (const entity of order) {
    const sourceInfo = await source.describe(entity.from);
    if (!sourceInfo) {
      sourceTables ??= await source.listTables();
      issues.push({
        severity: 'error',
        path: [...entity.path, 'from'],
        message: `source has no table "${entity.from}"`,
        hint: didYouMean(entity.from, sourceTables),
      });
      continue;
    }
    checkSourceColumns(entity, sourceInfo, issues);
    // What the fields read: the entity's own columns, its joins' and what its lookups find.
    const readable = {
      ...sourceInfo,
      columns: [
        ...sourceInfo.columns,
        ...(await checkJoins(entity, sourceInfo, source, issues)),
        ...(await lookedUpColumns(entity, target)),
      ],
    };
    const refersToUuid = (name: string) => plan.entities.some((e) => e.name === name && e.fields.some((f) => f.newId));
    const outputs = new Map(entity.fields.map((f) => [f.target, outputType(f, readable, refersToUuid)]));
    const targetInfo = await target.describe(entity.into);
    let targetColumns: TargetColumn[];
    let create: TableSpec | undefined;
    if (targetInfo) {
      targetColumns = checkExistingTarget(entity, targetInfo, outputs, issues);
    } else {
      create = createSpec(entity, outputs);
      targetColumns = create.columns.map((c) => ({ ...c }));
      checkIdentifiers(entity, create, target.capabilities.identifierLimit, issues);
    }
    const targetKey = keyCopies(entity);
    checkSync(entity, sourceInfo, targetInfo, targetKey, issues);
    const sourceColumns = sourceColumnsOf(entity);
    const writeColumns = [...entity.fields.map((f) => f.target), ...(entity.tombstone ? [entity.tombstone] : [])];
    const readColumns = sourceColumns.filter((c) => !isVirtualColumn(c));
    // The crosswalk also tells the entity's rows from others in its table (another entity's, the new CRM's own),
    // which verify and delete detection must never take for the entity's.
    const sharesTable = (fillers.get(entity.into) ?? 0) > 1;
    const referenced = referencedNames.has(entity.name);
    // An increment upserts: the crosswalk is how it knows a row of the target is its own to update (foreign-rows.ts).
    const recordsCrosswalk =
      entity.fields.some((f) => f.newId) || referenced || sharesTable || entity.strategy !== 'full';
    // A merge decided on when the old CRM touched two rows merges different people (last_update once did).
    entity.dedupe?.on.forEach(({ field, column }, i) => {
      if (isAuditField(column ?? field))
        issues.push({
          severity: 'warning',
          path: [...entity.path, 'dedupe', 'on', i],
          message: `"${field}" records when or by whom the old CRM changed a row: it says nothing about who the customer is`,
          hint: 'remove it from on: (compare a birth date, an email, a phone or the names)',
        });
    });
    const deferredRefs = deferred.filter((d) => d.entity === entity.name).map((d) => d.field);
    for (const field of deferredRefs) {
      if (targetColumns.find((c) => c.name === field)?.nullable === false) {
        const at = entity.fields.find((f) => f.target === field)?.path ?? entity.path;
        issues.push({
          severity: 'error',
          path: [...at, 'ref'],
          message: `${entity.into}.${field} closes a cycle of references, so it is written NULL first and filled in by a second pass: it must accept NULL`,
          hint: `allow NULL in ${entity.into}.${field}, or let another ref of the cycle (with orphans: null) be the one filled in later`,
        });
      }
    }
    if (deferredRefs.length > 0 && entity.dedupe) {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'dedupe'],
        message: `${entity.name} has a ref that closes a cycle (${deferredRefs.join(', ')}), filled in by a second pass: dedupe on it is not supported yet`,
        hint: 'let a ref of another entity in the cycle be the one with orphans: null',
      });
    }
    if (deferredRefs.length > 0 && targetKey.length === 0) {
      issues.push({
        severity: 'error',
        path: entity.path,
        message: `${entity.name} fills in refs in a second pass, which finds its rows by key: copy its key to the target or give it a new_id`,
      });
    }
    if (deferredRefs.length > 0 && !target.capabilities.updates) {
      issues.push({
        severity: 'error',
        path: entity.path,
        message: `${entity.name} has a ref that closes a cycle (${deferredRefs.join(', ')}), filled in by a second pass that updates rows: this target only appends`,
        hint: 'write the entities of the cycle to a database target',
      });
    }
    const placeholder = placeholderSpec(
      plan,
      entity,
      targetInfo ?? (create as TableSpec),
      targetKey,
      target.capabilities.updates,
      issues,
    );
    entities.push({
      plan: entity,
      sourceColumns,
      targetColumns,
      create,
      targetKey,
      writeColumns,
      readColumns,
      recordsCrosswalk,
      deferredRefs,
      placeholder,
    });
  }
  const located = issues.map((i) => ({ ...i, location: i.location ?? plan.locate(i.path) }));
  if (located.some((i) => i.severity === 'error')) throw new PlanError(located);
  return { entities, warnings: located };
}

export type { ColumnInfo };
