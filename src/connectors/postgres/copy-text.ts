import { StringDecoder } from 'node:string_decoder';
import type { Value } from '../../values.js';

/**
 * PostgreSQL's COPY text format (postgresql.org/docs/current/sql-copy.html, "Text Format"): rows end in
 * "\n", fields are split by "\t", NULL is "\N", and backslash escapes the rest. Hand-written because it
 * is this small and sits on the hot path; the decoder only unescapes fields that contain a backslash.
 */
const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

export function unescapeField(field: string): string {
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_m, seq: string) => {
    if (seq[0] === 'x') return String.fromCharCode(parseInt(seq.slice(1), 16));
    if (/^[0-7]/.test(seq)) return String.fromCharCode(parseInt(seq, 8));
    return ESCAPES[seq] ?? seq;
  });
}

/** Splits a COPY text stream into rows of raw field strings (null for \N), across chunk boundaries. */
export class CopyTextDecoder {
  readonly #decoder = new StringDecoder('utf8');
  #rest = '';

  push(chunk: Buffer, onRow: (fields: (string | null)[]) => void): void {
    const text = this.#rest + this.#decoder.write(chunk);
    let start = 0;
    let end = text.indexOf('\n', start);
    while (end !== -1) {
      onRow(splitLine(text.slice(start, end)));
      start = end + 1;
      end = text.indexOf('\n', start);
    }
    this.#rest = text.slice(start);
  }

  end(): void {
    if (this.#rest + this.#decoder.end() !== '') throw new Error('COPY stream ended inside a row');
  }
}

function splitLine(line: string): (string | null)[] {
  const fields = line.split('\t');
  const out: (string | null)[] = new Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as string;
    out[i] = f === '\\N' ? null : f.includes('\\') ? unescapeField(f) : f;
  }
  return out;
}

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

export function encodeRows(rows: readonly (readonly Value[])[]): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) out += (i === 0 ? '' : '\t') + encodeField(row[i] as Value);
    out += '\n';
  }
  return out;
}
