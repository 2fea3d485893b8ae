import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { PlanIssue } from '../errors.js';
import type { FieldInput } from '../plan/schema.js';
import { sourceKeyText, valueToJson, type Value } from '../values.js';
import { builtinStep, findStep, invalid, ok, type StepContext, type StepDefinition } from './steps.js';
import { compileWhere, type WhereClause } from './where.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

// A record's identity in the new CRM: a new key (`new_id: uuid`) and references re-pointed through the
// referenced entity's crosswalk (`ref:`). Both are fields of their own kind, compiled here.

/** The namespace of crm-migrate's name-based UUIDs (RFC 9562 version 5). */
const NAMESPACE = Buffer.from('7a1f3c52-9e4b-5d86-a0c7-3b2e61f8d904'.replace(/-/g, ''), 'hex');

/**
 * The new key of the record `sourceKey` of `entity`: a version 5 UUID, so the same record gets the same key
 * on every run, resume and increment — the crosswalk records it, but nothing depends on looking it up.
 */
export function newUuid(entity: string, sourceKey: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${entity}\0${sourceKey}`, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The virtual columns a ref field reads: the resolved target key, and whether the reference is an orphan. */
export const refColumn = (field: string) => `\u0000ref:${field}`;
export const orphanColumn = (field: string) => `\u0000orphan:${field}`;
export const isVirtualColumn = (column: string) => column.startsWith('\u0000');
/** The virtual column a joined table's column is read into: `addr.city` is `\u0000join:addr.city`. */
export const joinColumn = (aliasDotColumn: string) => `\u0000join:${aliasDotColumn}`;
/** How many rows a join without `pick:` matched, when more than one: the row is then quarantined (ambiguous_join). */
export const ambiguousColumn = (alias: string) => `\u0000ambiguous:${alias}`;

STEPS.push(
  builtinStep({
    name: 'new_id',
    kind: 'identity',
    takes: 'many',
    output: 'uuid',
    options: z.strictObject({ entity: z.string() }),
    create:
      ({ entity }) =>
      (input) =>
        ok(newUuid(entity, sourceKeyText((input as readonly Value[]).map((v) => valueToJson(v))))),
  }),
);

STEPS.push(
  builtinStep({
    name: 'ref',
    kind: 'identity',
    takes: 'one',
    options: z.strictObject({ field: z.string() }),
    reads: ({ field }) => [orphanColumn(field)],
    create:
      ({ field }) =>
      (input, context?: StepContext) => {
        const flag = context?.get(orphanColumn(field));
        // A lookup in the target that found several rows is never given one of them.
        if (flag === true) return invalid(input as Value, 'orphan');
        if (flag === 'ambiguous') return invalid(input as Value, 'ambiguous_lookup');
        return flag === 'unknown_type' ? invalid(input as Value, 'unknown_type') : ok(input as Value);
      },
  }),
);

/** What a ref field points at, for the loader that resolves it. */
export interface RefPlan {
  /** The referenced entity (with `by:`, the first of them). */
  readonly entity: string;
  /**
   * `ref: { by: type_column, to: { Accounts: companies, … } }`: the entity each row refers to, by the value of
   * its type column. A row whose type is none of them (with an id to resolve) is `unknown_type`, never guessed.
   */
  readonly by: { readonly column: string; readonly to: ReadonlyMap<string, string> } | undefined;
  /** The source column holding the referenced record's source key. */
  readonly column: string;
  /** `orphans: placeholder`: a missing record is made as a placeholder before the load (see engine/relations/placeholders.ts). */
  readonly placeholder: boolean;
  /** `when:`: the rows the ref applies to (a polymorphic parent of this type); on the others the field is NULL. */
  readonly when: readonly WhereClause[];
}

/** Every entity a ref may point at: one, or one per type of a ref by type. */
export const referencedEntities = (ref: RefPlan): string[] =>
  ref.by ? [...new Set(ref.by.to.values())] : [ref.entity];

/** A field found in the new CRM's own table (`lookup:`): by the source column's value in `key`, it takes `value`. */
export interface LookupPlan {
  readonly table: string;
  readonly key: string;
  readonly value: string;
  /** The source column whose value is looked up. */
  readonly column: string;
}

/** The identity part of a field: `new_id` or `ref`, as the field's source, steps and policy; undefined for other fields. */
export function compileIdentity(
  entity: { name: string; key: readonly string[] },
  target: string,
  field: FieldInput,
  path: readonly (string | number)[],
  issues: PlanIssue[],
) {
  const step = (name: string, options: unknown) => {
    const definition = findStep(name);
    if (!definition) throw new Error(`step ${name} is not registered`);
    return {
      name,
      kind: definition.kind,
      takes: definition.takes,
      output: typeof definition.output === 'function' ? definition.output(options) : definition.output,
      reads: definition.reads?.(options) ?? [],
      run: definition.create(options),
    };
  };
  const others = (['from', 'value', 'transform', 'clean', 'protect', 'invalid', 'default'] as const).filter(
    (k) => field[k] !== undefined,
  );
  if (field.new_id !== undefined) {
    if (others.length > 0)
      issues.push({
        severity: 'error',
        path: [...path, others[0]],
        message: `a new_id field makes its own value: "${others[0] as string}" does not go with it`,
      });
    return {
      from: [...entity.key],
      fromList: true,
      steps: [step('new_id', { entity: entity.name })],
      invalid: 'quarantine' as const,
      ref: undefined,
      lookup: undefined,
    };
  }
  if (field.lookup !== undefined) {
    // `orphans: default` writes the field's `default:` for a value the new CRM has no record of.
    const byDefault = field.orphans === 'default';
    const stray = [
      ...others.filter((k) => k !== 'from' && !(byDefault && k === 'default')),
      ...(field.ref !== undefined ? ['ref'] : []),
    ];
    if (stray.length > 0)
      issues.push({
        severity: 'error',
        path: [...path, stray[0]],
        message: `a lookup field takes the value the new CRM holds: "${stray[0]}" does not go with it`,
      });
    if (typeof field.from !== 'string') {
      issues.push({
        severity: 'error',
        path: [...path, 'from'],
        message: 'a lookup field needs from: the one source column whose value is looked up',
        hint: 'write { from: owner_email, lookup: { table: res_users, key: login, value: id } }',
      });
      return undefined;
    }
    if (field.orphans === 'placeholder')
      issues.push({
        severity: 'error',
        path: [...path, 'orphans'],
        message: 'a lookup finds records of the new CRM: it makes no placeholder',
        hint: 'orphans: quarantine (the default) or null',
      });
    if (byDefault && field.default === undefined)
      issues.push({
        severity: 'error',
        path: [...path, 'orphans'],
        message: 'orphans: default needs the value to write',
        hint: 'add default: <the id of the record to use>, e.g. the country of most customers',
      });
    const lookup: LookupPlan = { ...field.lookup, column: field.from };
    return {
      from: [refColumn(target)],
      fromList: false,
      steps: [step('ref', { field: target })],
      invalid:
        field.orphans === 'null' ? ('null' as const) : byDefault ? ('default' as const) : ('quarantine' as const),
      ref: undefined,
      lookup,
      ...(byDefault ? { default: field.default } : {}),
    };
  }
  if (field.ref !== undefined) {
    const stray = others.filter((k) => k !== 'from');
    if (stray.length > 0)
      issues.push({
        severity: 'error',
        path: [...path, stray[0]],
        message: `a ref field takes the referenced record's key: "${stray[0] as string}" does not go with it`,
      });
    if (typeof field.from !== 'string') {
      issues.push({
        severity: 'error',
        path: [...path, 'from'],
        message: 'a ref field needs from: the one source column that holds the referenced key',
        hint: 'write { from: account_id, ref: companies }',
      });
      return undefined;
    }
    if (field.orphans === 'default')
      issues.push({
        severity: 'error',
        path: [...path, 'orphans'],
        message: 'a ref points at a migrated record: orphans: default applies to a lookup',
        hint: 'orphans: quarantine (the default), null, or placeholder',
      });
    const placeholder = field.orphans === 'placeholder';
    const when = field.when ? compileWhere(field.when, [...path, 'when'], issues) : [];
    if (placeholder && when.length > 0)
      issues.push({
        severity: 'error',
        path: [...path, 'orphans'],
        message: 'a ref with when: makes no placeholders',
        hint: 'orphans: quarantine (the default) or null',
      });
    const by =
      typeof field.ref === 'string' ? undefined : { column: field.ref.by, to: new Map(Object.entries(field.ref.to)) };
    if (by && placeholder)
      issues.push({
        severity: 'error',
        path: [...path, 'orphans'],
        message: 'a ref by type makes no placeholders: a placeholder would have no type',
        hint: 'orphans: quarantine (the default) or null',
      });
    if (by && when.length > 0)
      issues.push({
        severity: 'error',
        path: [...path, 'when'],
        message: 'a ref by type chooses its entity by the type column: when: does not go with it',
        hint: 'leave out the types that are not migrated from to:, and their rows are quarantined as unknown_type',
      });
    const ref: RefPlan = {
      entity: by ? [...by.to.values()][0] : (field.ref as string),
      by,
      column: field.from,
      placeholder,
      when,
    };
    // A placeholder is made for every orphan before the load: one still missing then (its key did not fit the
    // referenced table) is quarantined.
    const invalid = field.orphans === 'null' ? ('null' as const) : ('quarantine' as const);
    return {
      from: [refColumn(target)],
      fromList: false,
      steps: [step('ref', { field: target })],
      invalid,
      ref,
      lookup: undefined,
    };
  }
  if (field.when !== undefined)
    issues.push({
      severity: 'error',
      path: [...path, 'when'],
      message: '"when" applies to a ref field only',
      hint: "add ref: <entity>, or filter the entity's rows with where:",
    });
  if (field.orphans !== undefined)
    issues.push({
      severity: 'error',
      path: [...path, 'orphans'],
      message: '"orphans" applies to a ref or lookup field only',
      hint: 'add ref: <entity>',
    });
  return undefined;
}
