import type { StateStore } from '../connectors/contract.js';
import type { BoundEntity } from '../engine/schema-check.js';
import { sourceKeyText, valueToJson, type LogicalType, type Row, type Value } from '../values.js';
import { canonical } from './canonical.js';
import { QUARANTINED, RETRIED, type KnownRecords } from './expected-rows.js';
import type { Difference, DifferenceKind, EntityVerification } from './verify.js';

/** Target rows without a source row whose owner is looked up per query. */
const UNSOURCED_CHUNK = 500;

type Counts = Omit<EntityVerification, 'entity' | 'table' | 'differences'>;

/**
 * The counts and the first differences of one entity's verify, one key of the merge at a time: what the source
 * says the target holds (an expected row, see expectedRows) against what it holds.
 */
export class EntityTally {
  readonly #counts: { -readonly [K in keyof Counts]: number } = {
    sourceRows: 0,
    quarantined: 0,
    targetRows: 0,
    equal: 0,
    missing: 0,
    extra: 0,
    changed: 0,
    stale: 0,
    placeholders: 0,
    retried: 0,
    others: 0,
  };
  readonly #differences: Difference[] = [];
  /** Target rows with no source row: `extra` only if the entity wrote them, looked up a few hundred at a time. */
  #unsourced: Value[][] = [];
  readonly #fields: string[];
  readonly #types: LogicalType[];

  constructor(
    private readonly entity: BoundEntity,
    private readonly known: KnownRecords,
    private readonly state: StateStore,
    private readonly options: { readonly limit?: number | undefined; readonly showValues?: boolean | undefined },
  ) {
    this.#fields = entity.plan.fields.map((f) => f.target);
    this.#types = this.#fields.map((name) => entity.targetColumns.find((c) => c.name === name)?.type ?? 'text');
  }

  /** One key: `want` the expected row (flag, then values), `have` the target's; either may be absent. */
  compare(want: Row | undefined, have: Row | undefined, key: readonly Value[]): Promise<void> | undefined {
    const counts = this.#counts;
    if (want) counts.sourceRows += 1;
    if (have) counts.targetRows += 1;
    // A placeholder stands in for a record that was never migrated: missing from the source, or quarantined.
    const placeholder = have !== undefined && (!want || want[0] === QUARANTINED) && this.#isPlaceholder(key);
    if (placeholder) counts.placeholders += 1;
    if (want?.[0] === RETRIED) {
      counts.retried += 1;
      if (!have) this.#note('missing', key);
      return undefined;
    }
    if (want?.[0] === QUARANTINED) {
      counts.quarantined += 1;
      if (have && !placeholder) this.#note('stale', key);
      return undefined;
    }
    if (!want) {
      if (placeholder) return undefined;
      if (!this.entity.recordsCrosswalk) {
        this.#note('extra', key);
        return undefined;
      }
      this.#unsourced.push([...key]);
      return this.#unsourced.length >= UNSOURCED_CHUNK ? this.#sortUnsourced() : undefined;
    }
    if (!have) this.#note('missing', key);
    else this.#compareValues(want, have, key);
    return undefined;
  }

  /** The counts and differences, once every key has been compared. */
  async result(): Promise<EntityVerification> {
    await this.#sortUnsourced();
    const { plan } = this.entity;
    return { entity: plan.name, table: plan.into, ...this.#counts, differences: this.#differences };
  }

  #compareValues(want: Row, have: Row, key: readonly Value[]): void {
    const differ: string[] = [];
    const values: { column: string; expected: unknown; actual: unknown }[] = [];
    this.#fields.forEach((field, i) => {
      const type = this.#types[i] ?? 'text';
      if (canonical(want[i + 1] ?? null, type) === canonical(have[i] ?? null, type)) return;
      differ.push(field);
      if (this.options.showValues)
        values.push({
          column: field,
          expected: valueToJson(want[i + 1] ?? null),
          actual: valueToJson(have[i] ?? null),
        });
    });
    if (differ.length === 0) this.#counts.equal += 1;
    else this.#note('changed', key, differ, this.options.showValues ? values : undefined);
  }

  #isPlaceholder(key: readonly Value[]): boolean {
    return this.known.placeholders.size > 0 && this.known.placeholders.has(sourceKeyText(key.map(valueToJson)));
  }

  #note(kind: DifferenceKind, key: readonly Value[], columns: string[] = [], values?: Difference['values']): void {
    this.#counts[kind] += 1;
    if (this.#differences.length < (this.options.limit ?? 20))
      this.#differences.push({
        kind,
        key: sourceKeyText(key.map(valueToJson)),
        columns,
        ...(values ? { values } : {}),
      });
  }

  async #sortUnsourced(): Promise<void> {
    const keys = this.#unsourced;
    this.#unsourced = [];
    if (keys.length === 0) return;
    const texts = keys.map((k) => sourceKeyText(k.map(valueToJson)));
    const written = await this.state.writtenKeys(this.known.plan, this.entity.plan.name, texts);
    keys.forEach((key, i) => {
      if (written.has(texts[i])) this.#note('extra', key);
      else this.#counts.others += 1;
    });
  }
}
