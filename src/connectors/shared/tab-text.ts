import type { Value } from '../../values.js';

/**
 * Rows as tab-separated text with backslash escapes and \N for NULL: PostgreSQL's COPY text format
 * (postgresql.org/docs/current/sql-copy.html) and MySQL's LOAD DATA default format alike.
 */
const NEEDS_ESCAPE = /[\\\n\r\t]/;

function escapeText(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

/** One value in COPY text form. */
export function encodeField(value: Value): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return escapeText(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (value instanceof Date) return value.toISOString();
  return `\\\\x${Buffer.from(value).toString('hex')}`;
}

/** One row as a COPY text line. */
export function encodeRow(row: readonly Value[]): string {
  let line = '';
  for (let i = 0; i < row.length; i++) line += (i === 0 ? '' : '\t') + encodeField(row[i]);
  return line + '\n';
}
