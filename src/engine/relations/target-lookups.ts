import { openSource } from '../../connectors/index.js';
import type { Source } from '../../connectors/contract.js';
import type { LookupPlan } from '../../mapping/identity.js';
import type { Plan } from '../../plan/load.js';
import type { Value } from '../../values.js';

/** Distinct values remembered per lookup before its cache starts over: a users or countries table is small. */
const CACHE_LIMIT = 100_000;

/**
 * Finds records that are in the new CRM already (`lookup:` fields): owners by login, countries by code. The
 * target is read through a read-only source connection of its own, opened on the first lookup; each distinct
 * value is looked up once per run. `find` answers, per value, every matching row's value (none, one, or
 * several: a lookup that is not unique is never given one of them).
 */
export interface TargetLookups {
  find(lookup: LookupPlan, values: readonly Value[]): Promise<ReadonlyMap<string, readonly Value[]>>;
  close(): Promise<void>;
}

export function targetLookups(plan: Plan): TargetLookups {
  let reader: Promise<Source> | undefined;
  const caches = new Map<string, Map<string, Value[]>>();
  return {
    async find(lookup, values) {
      const id = `${lookup.table}\u0000${lookup.key}\u0000${lookup.value}`;
      let known = caches.get(id);
      if (!known || known.size > CACHE_LIMIT) caches.set(id, (known = new Map()));
      const cache = known;
      const missing = [...new Set(values.filter((v) => v !== null && !cache.has(String(v))))];
      if (missing.length > 0) {
        reader ??= openSource(plan.target, { baseDir: plan.baseDir, tls: plan.targetTls });
        const rows = await (await reader).lookup(lookup.table, lookup.key, missing, [lookup.value]);
        for (const v of missing) cache.set(String(v), []);
        for (const [key, value] of rows) cache.get(String(key))?.push(value ?? null);
      }
      return cache;
    },
    async close() {
      if (reader) await (await reader).close();
    },
  };
}
