import type { Checkpoint, Counts, QuarantinedRow, Reason, TableInfo, Target } from '../../connectors/contract.js';
import { CrmMigrateError, RowsRejected } from '../../errors.js';
import type { Plan } from '../../plan/load.js';
import { valueToJson, type LogicalType, type Row, type Value } from '../../values.js';
import { auditEntry } from '../audit.js';
import { chunkMapperFor } from '../map/chunk-mapper.js';
import { piiColumns, rowForDisplay } from './pii.js';
import { QualityTally, readStoredQuality, storedQuality, type EntityQuality } from '../map/quality.js';
import { crosswalkEntries, refResolver, type RefResolver } from '../relations/refs.js';
import { isRefusal, PendingRows, writeRefusedBatch } from '../write/refused-rows.js';
import { sourceKeyText, zeroCounts } from '../write/load-entity.js';
import { withConnections } from '../run.js';
import { checkAgainstSchemas, type BoundEntity } from '../schema-check.js';

/** A quarantined row as the user fixed it: entity, source key, and the source columns' values as text. */
export type FixedRecord = Readonly<Record<string, string | undefined>>;

export interface RetryResult {
  /** The plan's latest run. */
  readonly runId: string;
  /** Per entity: rows retried, how many now passed (written), still failed (quarantined with their new reasons), skipped. */
  readonly entities: Readonly<
    Record<string, { retried: number; written: number; quarantined: number; skipped: number }>
  >;
  /** The accounting of each run whose quarantined rows were retried, after the retry (the latest run's when none were). */
  readonly runs: readonly { readonly runId: string; readonly counts: Readonly<Record<string, Counts>> }[];
}

const CHUNK = 500;

/** Text from a CSV cell back to a value of the source column's type; an empty cell is NULL. */
function fromText(text: string | undefined, type: LogicalType): Value {
  if (text === undefined || text === '') return null;
  if ((type === 'integer' || type === 'smallint' || type === 'bigint') && /^-?\d+$/.test(text.trim())) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text.trim());
  }
  if (type === 'float' && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  if (type === 'boolean' && /^(true|false|t|f|1|0)$/i.test(text.trim())) return /^(true|t|1)$/i.test(text.trim());
  return text;
}

/**
 * Pushes fixed quarantined rows through the plan again. The rows are the plan's open quarantine (see
 * StateStore.openQuarantine), so a row an earlier increment of a sync quarantined can be retried too; each
 * goes back into the run that quarantined it. A row that passes is written and leaves the quarantine; one
 * that still fails stays there with its new values and reasons. That run's accounting moves with it (written +
 * n, quarantined − n), in the same transaction as the rows. Rows not in the quarantine (already retried, a key
 * that was edited) are skipped and counted.
 */
export async function retryQuarantine(plan: Plan, records: AsyncIterable<FixedRecord>): Promise<RetryResult> {
  return withConnections(plan, false, async (source, target, lookups) => {
    const { entities } = await checkAgainstSchemas(plan, source, target);
    const run = await target.state.latestRun(plan.name);
    if (!run || run.status === 'superseded')
      throw new CrmMigrateError(
        'E_USAGE',
        `plan ${plan.name} has not run against this target: there is nothing to retry`,
      );
    const checkpoints = new Map<string, Map<string, Checkpoint>>();
    const checkpointsOf = async (runId: string) => {
      let found = checkpoints.get(runId);
      if (!found)
        checkpoints.set(runId, (found = new Map((await target.state.checkpoints(runId)).map((c) => [c.entity, c]))));
      return found;
    };
    /** Per entity: where each open quarantined row is (source key → run, and its reasons), and the retries of each run. */
    const open = new Map<
      string,
      {
        runs: Map<string, { runId: string; reasons: readonly Reason[] }>;
        retries: Map<string, EntityRetry>;
        skipped: number;
      }
    >();
    const openOf = async (name: string) => {
      let state = open.get(name);
      if (!state) {
        if (!entities.some((e) => e.plan.name === name))
          throw new CrmMigrateError('E_USAGE', `the file names entity "${name}", which the plan does not have`);
        const runs = new Map<string, { runId: string; reasons: readonly Reason[] }>();
        for await (const q of target.state.openQuarantine(plan.name, name))
          runs.set(q.sourceKey, { runId: q.runId ?? run.runId, reasons: q.reasons });
        open.set(name, (state = { runs, retries: new Map(), skipped: 0 }));
      }
      return state;
    };
    const retryOf = async (name: string, runId: string): Promise<EntityRetry> => {
      const state = await openOf(name);
      let retry = state.retries.get(runId);
      if (!retry) {
        const entity = entities.find((e) => e.plan.name === name) as BoundEntity;
        const keys = new Map([...state.runs].filter(([, r]) => r.runId === runId).map(([key, r]) => [key, r.reasons]));
        const resolve = refResolver(plan, entity, target.state, source, { fillDeferred: true, lookups });
        retry = new EntityRetry(
          plan.name,
          runId,
          entity,
          await source.describe(entity.plan.from),
          keys,
          (await checkpointsOf(runId)).get(name),
          resolve,
        );
        state.retries.set(runId, retry);
      }
      return retry;
    };
    for await (const record of records) {
      const name = record.entity ?? '';
      const state = await openOf(name);
      const runId = state.runs.get(record.source_key ?? '')?.runId;
      if (runId === undefined) {
        state.skipped += 1;
        continue;
      }
      const retry = await retryOf(name, runId);
      retry.pending.push(record);
      if (retry.pending.length >= CHUNK) await retry.flush(target);
    }
    const retries = [...open.values()].flatMap((s) => [...s.retries.values()]);
    for (const retry of retries) await retry.flush(target);
    const retried = Object.fromEntries(
      [...open].map(([name, s]) => {
        const total = { retried: 0, written: 0, quarantined: 0, skipped: s.skipped };
        for (const r of s.retries.values())
          for (const k of ['retried', 'written', 'quarantined', 'skipped'] as const) total[k] += r.result[k];
        return [name, total];
      }),
    );
    const touched = [...new Set(retries.filter((r) => r.result.retried > 0).map((r) => r.runId))].sort();
    const runs = [];
    for (const runId of touched.length > 0 ? touched : [run.runId]) {
      const stored = await checkpointsOf(runId);
      const after = (name: string) =>
        retries.find((r) => r.runId === runId && r.entityName === name)?.checkpoint ?? stored.get(name);
      runs.push({
        runId,
        counts: Object.fromEntries(plan.entities.map((e) => [e.name, { ...zeroCounts(), ...after(e.name)?.counts }])),
      });
    }
    await target.state.audit(
      auditEntry(plan, {
        command: 'retry',
        outcome: 'done',
        runId: run.runId,
        source: source.display,
        target: target.display,
        details: { retried, runs },
      }),
    );
    return { runId: run.runId, entities: retried, runs };
  });
}

/**
 * The quality counts with a fixed row's fields moved out of `quarantined`: each field it was quarantined for
 * now counts as its fixed value does (`fixed`, the row's own counts from mapping it again). Its other fields
 * were counted when it was first read. A row the target refused was never counted as quarantined here.
 */
function releaseFromQuality(quality: QualityTally, reasons: readonly Reason[], fixed: EntityQuality): void {
  const change: EntityQuality = {};
  for (const reason of reasons) {
    if (isRefusal(reason) || change[reason.field]) continue;
    const own = reasons
      .filter((r) => r.field === reason.field)
      .map((r) => ({ rule: r.rule, code: r.code, outcome: 'quarantined' as const, count: -1 }));
    const now = fixed[reason.field];
    if (!now) continue;
    change[reason.field] = {
      ...now,
      checked: now.checked - 1,
      quarantined: now.quarantined - 1,
      findings: [...now.findings, ...own],
    };
  }
  quality.merge(change);
}

class EntityRetry {
  readonly pending: FixedRecord[] = [];
  readonly result = { retried: 0, written: 0, quarantined: 0, skipped: 0 };
  checkpoint: Checkpoint | undefined;
  readonly runId: string;
  readonly entityName: string;
  readonly #plan: string;
  readonly #entity: BoundEntity;
  readonly #types: readonly LogicalType[];
  /** The run's quarantined rows still to retry: source key → the reasons they were quarantined for. */
  readonly #quarantined: Map<string, readonly Reason[]>;
  readonly #resolve: RefResolver | undefined;
  readonly #pii: ReadonlySet<string>;

  constructor(
    plan: string,
    runId: string,
    entity: BoundEntity,
    source: TableInfo | undefined,
    quarantined: Map<string, readonly Reason[]>,
    checkpoint: Checkpoint | undefined,
    resolve: RefResolver | undefined,
  ) {
    this.#plan = plan;
    this.runId = runId;
    this.entityName = entity.plan.name;
    this.#entity = entity;
    this.#resolve = resolve;
    this.#pii = piiColumns(entity);
    this.#types = entity.sourceColumns.map((c) => source?.columns.find((col) => col.name === c)?.type ?? 'text');
    this.#quarantined = quarantined;
    this.checkpoint = checkpoint;
  }

  async flush(target: Target): Promise<void> {
    const { runId } = this;
    const records = this.pending.splice(0);
    if (records.length === 0) return;
    const { plan, sourceColumns } = this.#entity;
    const missing = this.#entity.readColumns.filter((c) => !(c in records[0]));
    if (missing.length > 0) {
      throw new CrmMigrateError(
        'E_USAGE',
        `the file has no column ${missing.map((c) => `"${c}"`).join(', ')} for entity ${plan.name}`,
        {
          hint: 'export the rows with their values: crm-migrate quarantine PLAN --csv FILE --show-values',
        },
      );
    }
    const keyIndexes = plan.key.map((k) => sourceColumns.indexOf(k));
    const keyText = (row: Row) => sourceKeyText(keyIndexes.map((i) => valueToJson(row[i] ?? null)));
    const rows: Row[] = [];
    const keys: string[] = [];
    const reasons: (readonly Reason[])[] = [];
    for (const record of records) {
      const row = this.#entity.readColumns.map((c, i) => fromText(record[c], this.#types[i] ?? 'text'));
      const key = record.source_key ?? '';
      // Only rows still in quarantine, under the key they were quarantined with (key columns are not editable).
      if (!this.#quarantined.has(key) || sourceKeyText(keyIndexes.map((i) => valueToJson(row[i] ?? null))) !== key) {
        this.result.skipped += 1;
        continue;
      }
      reasons.push(this.#quarantined.get(key) ?? []);
      this.#quarantined.delete(key);
      rows.push(row);
      keys.push(key);
    }
    if (rows.length === 0 || !this.checkpoint) return;
    await this.#resolve?.(rows);
    const mapped = chunkMapperFor(this.#entity)(rows);
    // A quarantined record may stand in the target as a placeholder (made for an orphan ref): the fixed record replaces it.
    const upsertKey = plan.strategy === 'incremental' || this.#entity.placeholder ? this.#entity.targetKey : undefined;
    const start = { runId, table: plan.into, columns: this.#entity.writeColumns, upsertKey };
    const writer = await target.beginBatch(start);
    const still: QuarantinedRow[] = [];
    const released: string[] = [];
    const pending = new PendingRows();
    const stored = readStoredQuality(this.checkpoint.quality);
    const quality = new QualityTally(
      plan.fields.map((f) => f.target),
      stored.quality,
    );
    // Each released row mapped on its own, for its own quality counts.
    const mapOne = chunkMapperFor(this.#entity);
    const written: { sourceKey: string; values: Row }[] = [];
    try {
      mapped.values.forEach((values, i) => {
        const sourceKey = keys[i];
        if (values) {
          if (plan.tombstone) values.push(null);
          writer.add(values);
          pending.push(values, rows[i]);
          released.push(sourceKey);
          if (this.#entity.recordsCrosswalk) written.push({ sourceKey, values });
          releaseFromQuality(quality, reasons[i] ?? [], mapOne([rows[i]]).quality);
          return;
        }
        still.push({
          entity: plan.name,
          sourceKey,
          row: rowForDisplay(this.#entity, rows[i], this.#pii),
          reasons: mapped.reasons[i] ?? [],
        });
      });
      const counts = { ...zeroCounts(), ...this.checkpoint.counts };
      counts.written += released.length;
      counts.quarantined -= released.length;
      const checkpoint = { ...this.checkpoint, counts, quality: storedQuality(quality.snapshot(), stored.filtered) };
      const state = {
        retried: { plan: this.#plan, entity: plan.name, sourceKeys: released },
        crosswalk: crosswalkEntries(this.#plan, this.#entity, written),
      };
      let refused = 0;
      try {
        await writer.commit(still, checkpoint, state);
      } catch (error) {
        await writer.abort().catch(() => undefined);
        if (!(error instanceof RowsRejected)) throw error;
        // A fixed row the target refuses (its email now taken, say) goes back to quarantine with the target's reason.
        const entry = (source: Row, reason: Reason): QuarantinedRow => ({
          entity: plan.name,
          sourceKey: keyText(source),
          row: rowForDisplay(this.#entity, source, this.#pii),
          reasons: [reason],
        });
        refused = await writeRefusedBatch(
          target,
          start,
          { quarantine: still, checkpoint, state },
          pending,
          entry,
          keyText,
        );
      }
      this.checkpoint = {
        ...checkpoint,
        counts: {
          ...checkpoint.counts,
          written: checkpoint.counts.written - refused,
          quarantined: checkpoint.counts.quarantined + refused,
        },
      };
      this.result.written -= refused;
      this.result.quarantined += refused;
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
    this.result.retried += rows.length;
    this.result.written += released.length;
    this.result.quarantined += still.length;
  }
}
