import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CrmMigrateError } from '../../errors.js';
import type { LogicalType, Value } from '../../values.js';
import type { FileFormat } from '../shared/file-source.js';
import type { FileWriting } from '../shared/file-target.js';

/** Each line a JSON object; blank lines are skipped. A line that is not one is an error naming its number. */
async function* objects(file: string): AsyncIterable<Record<string, unknown>> {
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    line += 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CrmMigrateError('E_SOURCE', `${path.basename(file)} line ${line} is not JSON`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CrmMigrateError('E_SOURCE', `${path.basename(file)} line ${line} is not a JSON object`);
    yield value as Record<string, unknown>;
  }
}

/** The type a column's values share: whole numbers, numbers, booleans, objects (json), else text. */
function typeOf(kinds: Set<string>): LogicalType {
  kinds.delete('null');
  if (kinds.size === 0) return 'text';
  if ([...kinds].every((k) => k === 'int32')) return 'integer';
  if ([...kinds].every((k) => k === 'int32' || k === 'int')) return 'bigint';
  if ([...kinds].every((k) => k === 'int32' || k === 'int' || k === 'number')) return 'float';
  if (kinds.size === 1 && kinds.has('boolean')) return 'boolean';
  if (kinds.size === 1 && kinds.has('object')) return 'json';
  return 'text';
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? (Math.abs(value) <= 2147483647 ? 'int32' : 'int') : 'number';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

/**
 * JSON Lines files: the columns are every key any line has (the whole file is read once to find them, so
 * no field is dropped because the first lines lacked it), typed by the values they hold.
 */
export function jsonlFormat(): FileFormat {
  const cache = new Map<string, { stamp: string; columns: { name: string; type: LogicalType }[] }>();
  return {
    extension: 'jsonl',
    async columns(file) {
      const info = statSync(file);
      const stamp = `${info.size}:${info.mtimeMs}`;
      const seen = cache.get(file);
      if (seen?.stamp === stamp) return seen.columns;
      const kinds = new Map<string, Set<string>>();
      for await (const record of objects(file)) {
        for (const [key, value] of Object.entries(record)) {
          let set = kinds.get(key);
          if (!set) kinds.set(key, (set = new Set()));
          set.add(kindOf(value));
        }
      }
      const columns = [...kinds].map(([name, k]) => ({ name, type: typeOf(k) }));
      cache.set(file, { stamp, columns });
      return columns;
    },
    async *rows(file, columns) {
      const types = new Map((await this.columns(file)).map((c) => [c.name, c.type]));
      const convert = columns.map((c) => {
        const type = types.get(c);
        return (v: unknown): Value => {
          if (v === null || v === undefined) return null;
          if (typeof v === 'object') return JSON.stringify(v);
          return type === 'text' ? String(v) : (v as Value);
        };
      });
      for await (const record of objects(file)) yield columns.map((c, i) => (convert[i] as (v: unknown) => Value)(record[c]));
    },
  };
}

/** A value as JSON: bigints as their digits in a string, dates ISO 8601, bytes base64, JSON text as it is. */
function jsonValue(value: Value): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

/** JSON Lines as a target writes it: one object a line, keyed by column; no header. */
export const jsonlWriting: FileWriting = {
  header: () => '',
  line: (columns, row) => `${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, jsonValue(row[i] ?? null)])))}\n`,
};
