import {
  isInteger,
  isSafeNumber,
  LosslessNumber,
  parse as parseLossless,
  stringify as stringifyLossless,
} from 'lossless-json';
import { statSync } from 'node:fs';
import path from 'node:path';
import { CrmMigrateError } from '../../errors.js';
import type { LogicalType, Value } from '../../values.js';
import type { FileFormat } from '../shared/file-source.js';
import type { FileWriting } from '../shared/file-target.js';
import { escapedLines } from '../shared/utf8-escaped.js';

/** A number JSON.parse would round: an integer as a bigint, a decimal kept digit for digit. */
const exactNumber = (digits: string): number | bigint | LosslessNumber =>
  isSafeNumber(digits) ? Number(digits) : isInteger(digits) ? BigInt(digits) : new LosslessNumber(digits);

/**
 * Sixteen digits (a point may sit among them) or an exponent: a number a double may not hold exactly. Only
 * such lines take the lossless parser, three times slower than JSON.parse; a false alarm (digits in a
 * string) only costs that time.
 */
const MAYBE_INEXACT = /\d(?:\.?\d){15}|\d[eE][+-]?\d/;

const parseLine = (text: string): unknown =>
  MAYBE_INEXACT.test(text) ? parseLossless(text, null, exactNumber) : JSON.parse(text);

/** Each line a JSON object; blank lines are skipped. A line that is not one is an error naming its number. */
async function* objects(file: string): AsyncIterable<Record<string, unknown>> {
  let line = 0;
  for await (const text of escapedLines(file)) {
    line += 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = parseLine(text);
    } catch {
      throw new CrmMigrateError('E_SOURCE', `${path.basename(file)} line ${line} is not JSON`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new CrmMigrateError('E_SOURCE', `${path.basename(file)} line ${line} is not a JSON object`);
    yield value as Record<string, unknown>;
  }
}

/** The type a column's values share: whole numbers, numbers, decimals, booleans, objects (json), else text. */
function typeOf(kinds: Set<string>): LogicalType {
  kinds.delete('null');
  if (kinds.size === 0) return 'text';
  if ([...kinds].every((k) => k === 'int32')) return 'integer';
  if ([...kinds].every((k) => k === 'int32' || k === 'int')) return 'bigint';
  if ([...kinds].every((k) => k === 'int32' || k === 'int' || k === 'number')) return 'float';
  // A decimal no double holds exactly: the column keeps every digit.
  if ([...kinds].every((k) => k === 'int32' || k === 'int' || k === 'number' || k === 'decimal')) return 'decimal';
  if (kinds.size === 1 && kinds.has('boolean')) return 'boolean';
  if (kinds.size === 1 && kinds.has('object')) return 'json';
  return 'text';
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number')
    return Number.isInteger(value) ? (Math.abs(value) <= 2147483647 ? 'int32' : 'int') : 'number';
  if (typeof value === 'bigint') return 'int';
  if (value instanceof LosslessNumber) return 'decimal';
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
          // A decimal kept exact is its digits: a decimal column casts them as written.
          if (v instanceof LosslessNumber) return v.value;
          // Nested numbers keep their digits too.
          if (typeof v === 'object') return stringifyLossless(v) ?? null;
          return type === 'text' ? String(v) : (v as Value);
        };
      });
      for await (const record of objects(file)) yield columns.map((c, i) => convert[i](record[c]));
    },
  };
}

/** A value as JSON: dates ISO 8601, bytes base64, JSON text as it is (a bigint is written as a number, below). */
function jsonValue(value: Value): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

/** JSON Lines as a target writes it: one object a line, keyed by column; no header. */
export const jsonlWriting: FileWriting = {
  header: () => '',
  line: (columns, row) => {
    const record = Object.fromEntries(columns.map((c, i) => [c, jsonValue(row[i] ?? null)]));
    // A bigint is written as the number it is, every digit: JSON.stringify cannot, the lossless stringify can.
    return `${row.some((v) => typeof v === 'bigint') ? stringifyLossless(record) : JSON.stringify(record)}\n`;
  },
};
