import type { PlanIssue } from '../errors.js';
import type { EntityPlan } from '../mapping/compile.js';
import type { DedupeInput } from '../plan/schema.js';
import { didYouMean } from '../suggest.js';
import { parseBlockingRule, type BlockingRule } from './blocking.js';
import { COMPARE_KINDS, kindForField, type CompareKind } from './compare.js';
import { survivorRuleNames } from './survivorship.js';

/** An entity's `dedupe:` block, checked and with its defaults filled in. */
export interface DedupePlan {
  /**
   * What is compared: target fields (after mapping and cleaning), or `source.column`, a source column as it was
   * read (a raw phone, a legacy account number the new CRM has no field for); `column` names it then.
   */
  readonly on: readonly { readonly field: string; readonly kind: CompareKind; readonly column?: string | undefined }[];
  readonly blocking: readonly BlockingRule[];
  readonly threshold: number;
  readonly review: number | undefined;
  readonly termFrequency: readonly string[];
  readonly maxBlock: number;
  readonly maxCluster: number;
  /** Other entities linked with this one; their records take part in the same clusters. */
  readonly with: readonly string[];
  readonly linkOnly: boolean;
  readonly survivor: 'most_complete' | 'most_recent' | 'source_priority';
  readonly recency: string | undefined;
  /** Entity names, most trusted first. */
  readonly priority: readonly string[];
  /** Per field, a built-in survivorship rule or one defined with defineSurvivorRule. */
  readonly fields: Readonly<Record<string, string>>;
}

export const DEFAULT_THRESHOLD = 0.9;

/** Parts of an address, known by their names: a house number, a street line, a city. */
const HOUSE_NUMBER = /(street|house|building)_?(number|num|no|nr)\b|^(number|num|no|nr)$/i;
const STREET = /addr|street|^line_?\d|_line_?\d/i;
const CITY = /city|suburb|town|locality|municipality/i;

/**
 * Blocking rules when the plan gives none, from what the compared fields are: an email, a phone or an id
 * each block on its own; a first and last name block on their sounds, and on the surname with the first
 * initial (a nickname or a typo in one of them still meets the other). A date and a postcode block with the
 * surname's sound or initial and again with the first initial (a surname changed by marriage or mistyped
 * still meets); a street line with its city or postcode and a house number with the postcode (a record whose
 * names are all mistyped still meets its twin at one address). Measured on FEBRL 1-4: the date, postcode and
 * address rules found the 0.5-2 % of true pairs the name rules never paired (BENCHMARKS.md).
 */
export function defaultBlocking(on: DedupePlan['on']): string[] {
  // By what the field is (its name) as well as how it compares: an email compared `exact` still blocks alone.
  const of = (kind: CompareKind) =>
    on.filter((f) => f.kind === kind || kindForField(f.field) === kind).map((f) => f.field);
  const named = (pattern: RegExp) =>
    on.map((f) => f.field).filter((f) => pattern.test(f.replace(/^source\./, '')) && !of('id').includes(f));
  const rules = [...of('email'), ...of('phone').map((f) => `digits(${f})`), ...of('id')];
  const [first] = of('first_name');
  const [last] = [...of('last_name'), ...of('name')];
  if (first && last) rules.push(`metaphone(${last}) + metaphone(${first})`, `${last} + initial(${first})`);
  else if (last) rules.push(`metaphone(${last})`);
  for (const date of of('date')) {
    rules.push(last ? `${date} + metaphone(${last})` : date);
    if (first) rules.push(`${date} + initial(${first})`);
  }
  const codes = of('postcode');
  for (const code of codes) {
    if (last) rules.push(`${code} + initial(${last})`);
    if (first) rules.push(`${code} + initial(${first})`);
  }
  const [code] = codes;
  const [city] = named(CITY).filter((f) => !codes.includes(f));
  const numbers = named(HOUSE_NUMBER);
  if (code) for (const number of numbers) rules.push(`${number} + ${code}`);
  const streets = named(STREET).filter((f) => !numbers.includes(f) && !codes.includes(f) && f !== city);
  const [place] = city ? [city] : codes;
  if (place) for (const street of streets) rules.push(`${street} + ${place}`);
  return rules.length > 0 ? rules : on.map((f) => f.field);
}

/** The prefix of a source column in `on:` and blocking rules: `source.legacy_phone`. */
const SOURCE = 'source.';

/** Compiles `dedupe:`; problems go to `issues` with their path in the plan. */
export function compileDedupe(
  entityName: string,
  input: DedupeInput,
  fields: readonly string[],
  issues: PlanIssue[],
): DedupePlan {
  const path = ['entities', entityName, 'dedupe'];
  const checkField = (field: string, at: (string | number)[], sourceToo = false) => {
    if (sourceToo && field.startsWith(SOURCE) && field.length > SOURCE.length) return;
    if (!fields.includes(field))
      issues.push({
        severity: 'error',
        path: [...path, ...at],
        message: `"${field}" is not a field of ${entityName}`,
        hint:
          didYouMean(field, fields) ??
          `dedupe compares target fields (${fields.join(', ')}), or source columns as source.column`,
      });
  };
  input.on.forEach((f, i) => checkField(f, ['on', i], true));
  const on = input.on.map((field) => {
    const given = input.compare?.[field];
    if (given !== undefined && !(COMPARE_KINDS as readonly string[]).includes(given)) {
      issues.push({
        severity: 'error',
        path: [...path, 'compare', field],
        message: `unknown comparison "${given}"`,
        hint: didYouMean(given, COMPARE_KINDS) ?? `one of ${COMPARE_KINDS.join(', ')}`,
      });
    }
    const column = field.startsWith(SOURCE) ? field.slice(SOURCE.length) : undefined;
    return { field, kind: (given as CompareKind | undefined) ?? kindForField(column ?? field), column };
  });
  const compared = new Set(input.on);
  for (const field of Object.keys(input.compare ?? {}))
    if (!input.on.includes(field))
      issues.push({
        severity: 'error',
        path: [...path, 'compare', field],
        message: `"${field}" is not in dedupe.on`,
        hint: 'add it to on:, or remove it here',
      });
  const blocking: BlockingRule[] = [];
  (input.blocking ?? defaultBlocking(on)).forEach((text, i) => {
    const rule = parseBlockingRule(text);
    if (typeof rule === 'string')
      issues.push({
        severity: 'error',
        path: [...path, 'blocking', i],
        message: rule,
        hint: 'e.g. "email" or "metaphone(last_name) + initial(first_name)"',
      });
    else {
      rule.parts.forEach((p) => (compared.has(p.field) ? undefined : checkField(p.field, ['blocking', i])));
      blocking.push(rule);
    }
  });
  (input.term_frequency ?? []).forEach((f, i) => {
    if (!input.on.includes(f))
      issues.push({
        severity: 'error',
        path: [...path, 'term_frequency', i],
        message: `"${f}" is not in dedupe.on`,
        hint: 'term frequencies adjust a compared field',
      });
  });
  const threshold = input.threshold ?? DEFAULT_THRESHOLD;
  if (input.review !== undefined && input.review >= threshold) {
    issues.push({
      severity: 'error',
      path: [...path, 'review'],
      message: `the review band starts at ${input.review}, not below the threshold ${threshold}`,
      hint: `pairs from review up to threshold are reviewed: e.g. review: 0.5 with threshold: ${threshold}`,
    });
  }
  const survivor = input.survivor ?? 'most_complete';
  const rules = input.fields ?? {};
  for (const [field, rule] of Object.entries(rules)) {
    checkField(field, ['fields', field]);
    if (!survivorRuleNames().includes(rule))
      issues.push({
        severity: 'error',
        path: [...path, 'fields', field],
        message: `unknown survivorship rule "${rule}"`,
        hint:
          didYouMean(rule, survivorRuleNames()) ??
          `one of ${survivorRuleNames().join(', ')} (or define one with defineSurvivorRule)`,
      });
  }
  if (input.recency !== undefined) checkField(input.recency, ['recency']);
  const needsRecency = survivor === 'most_recent' || Object.values(rules).includes('most_recent');
  if (needsRecency && input.recency === undefined) {
    issues.push({
      severity: 'error',
      path: [...path, input.survivor === 'most_recent' ? 'survivor' : 'fields'],
      message: 'most_recent needs to know which field says how recent a record is',
      hint: 'add recency: <a date field such as updated_at>',
    });
  }
  const linked = input.with ?? [];
  if (input.link_only && linked.length === 0)
    issues.push({
      severity: 'error',
      path: [...path, 'link_only'],
      message: 'link_only pairs records of different entities',
      hint: 'name them with with: [other_entity]',
    });
  return {
    on,
    blocking,
    threshold,
    review: input.review,
    termFrequency:
      input.term_frequency ??
      on.filter((f) => ['first_name', 'last_name', 'name', 'phone', 'email'].includes(f.kind)).map((f) => f.field),
    maxBlock: input.max_block ?? 1000,
    maxCluster: input.max_cluster ?? 25,
    with: linked,
    linkOnly: input.link_only ?? false,
    survivor,
    recency: input.recency,
    priority: input.priority ?? [entityName, ...linked],
    fields: rules,
  };
}

/**
 * Checks across entities: a `with:` entity exists, fills the same table, has no dedupe of its own, is loaded
 * in full and is in no other group; an incremental dedupe entity keeps deletes off and its cursor its own.
 */
export function dedupeGroupIssues(entities: readonly EntityPlan[]): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const names = entities.map((e) => e.name);
  const claimed = new Map<string, string>();
  for (const entity of entities) {
    const dedupe = entity.dedupe;
    if (!dedupe) continue;
    const path = [...entity.path, 'dedupe'];
    // An increment matches its new records against all the others and keeps earlier clusters (see
    // engine/dedupe/stable-clusters.ts); what it cannot do yet is refused here, before anything is written.
    if (entity.strategy === 'incremental' && entity.deletes !== 'ignore') {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'deletes'],
        message: `deletes: ${entity.deletes} would remove a merged record whose survivor left the source, with the records merged into it`,
        hint: 'use deletes: ignore on an incremental entity with dedupe',
      });
    }
    if (entity.strategy === 'incremental' && entity.linkedCursors.length > 0) {
      issues.push({
        severity: 'error',
        path: [...entity.path, 'cursor'],
        message: 'a joined cursor re-reads records without their merges: it cannot be used with dedupe',
        hint: 'give the entity a cursor of its own table only',
      });
    }
    dedupe.with.forEach((name, i) => {
      const other = entities.find((e) => e.name === name);
      if (!other) {
        issues.push({
          severity: 'error',
          path: [...path, 'with', i],
          message: `no entity named "${name}"`,
          hint: didYouMean(name, names),
        });
        return;
      }
      if (other.into !== entity.into)
        issues.push({
          severity: 'error',
          path: [...path, 'with', i],
          message: `${name} fills ${other.into}, not ${entity.into}`,
          hint: 'linked entities merge into one table',
        });
      if (other.dedupe)
        issues.push({
          severity: 'error',
          path: [...path, 'with', i],
          message: `${name} has a dedupe block of its own`,
          hint: `keep one dedupe block, on ${entity.name}, naming ${name} in with:`,
        });
      if (other.strategy === 'incremental')
        issues.push({
          severity: 'error',
          path: [...path, 'with', i],
          message: `${name} is incremental; linked entities are loaded in full`,
          hint: `use strategy: full for ${name}`,
        });
      const missing = dedupe.on.map((f) => f.field).filter((f) => !other.fields.some((x) => x.target === f));
      if (missing.length > 0)
        issues.push({
          severity: 'error',
          path: [...path, 'with', i],
          message: `${name} has no field ${missing.join(', ')}`,
          hint: 'linked entities need every compared field',
        });
      const owner = claimed.get(name);
      if (owner !== undefined)
        issues.push({
          severity: 'error',
          path: [...path, 'with', i],
          message: `${name} is already linked by ${owner}`,
        });
      claimed.set(name, entity.name);
    });
    dedupe.priority.forEach((name, i) => {
      if (name !== entity.name && !dedupe.with.includes(name))
        issues.push({
          severity: 'error',
          path: [...path, 'priority', i],
          message: `"${name}" is not ${entity.name} or one of with:`,
          hint: didYouMean(name, [entity.name, ...dedupe.with]),
        });
    });
  }
  return issues;
}
