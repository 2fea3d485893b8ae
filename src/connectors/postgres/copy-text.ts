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

/**
 * Splits a COPY text stream into rows, across chunk boundaries, converting each field with its column's
 * parser in the same pass: one array per row, no intermediate ones.
 */
export class CopyTextDecoder {
  readonly #decoder = new StringDecoder('utf8');
  readonly #parsers: readonly ((field: string) => Value)[];
  #rest = '';

  constructor(parsers: readonly ((field: string) => Value)[]) {
    this.#parsers = parsers;
  }

  push(chunk: Buffer, onRow: (row: Value[]) => void): void {
    const text = this.#rest + this.#decoder.write(chunk);
    const parsers = this.#parsers;
    const width = parsers.length;
    let start = 0;
    let end = text.indexOf('\n', start);
    while (end !== -1) {
      const row: Value[] = new Array(width);
      let pos = start;
      for (let i = 0; i < width; i++) {
        let stop = i === width - 1 ? end : text.indexOf('\t', pos);
        if (stop === -1 || stop > end) stop = end;
        const field = text.slice(pos, stop);
        row[i] = field === '\\N' ? null : parsers[i](field.includes('\\') ? unescapeField(field) : field);
        pos = stop + 1;
      }
      onRow(row);
      start = end + 1;
      end = text.indexOf('\n', start);
    }
    this.#rest = text.slice(start);
  }

  end(): void {
    if (this.#rest + this.#decoder.end() !== '') throw new Error('COPY stream ended inside a row');
  }
}

export { encodeField, encodeRow } from '../shared/tab-text.js';
