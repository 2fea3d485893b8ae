import { parse, type Options } from 'csv-parse';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { CrmMigrateError } from '../../errors.js';
import { stringify } from 'csv-stringify/sync';
import type { Row, Value } from '../../values.js';
import type { FileFormat } from '../shared/file-source.js';
import type { FileWriting } from '../shared/file-target.js';
import { decodeEscaped } from '../shared/utf8-escaped.js';

/** The URL's `?delimiter=;&quote='&encoding=latin1` as csv-parse options; an empty cell reads as NULL. */
export function csvOptions(query: URLSearchParams): Options & { encoding: BufferEncoding } {
  const encoding = (query.get('encoding') ?? 'utf8') as BufferEncoding;
  if (!Buffer.isEncoding(encoding))
    throw new CrmMigrateError('E_PLAN', `unknown encoding "${encoding}" in the CSV URL`, {
      hint: 'use utf8, latin1, utf16le or ascii',
    });
  return {
    delimiter: query.get('delimiter') ?? ',',
    quote: query.get('quote') ?? '"',
    escape: query.get('escape') ?? query.get('quote') ?? '"',
    encoding,
    bom: true,
    skip_empty_lines: true,
  };
}

/**
 * csv-parse's message without the value it may quote ("… at line 3, value is \"…\""), with the file's name:
 * a malformed file is an error that says where, never a customer's value.
 */
function csvFailure(file: string, error: unknown): CrmMigrateError {
  const message = ((error as Error).message ?? String(error)).replace(/,?\s*value is .*$/s, '');
  return new CrmMigrateError('E_SOURCE', `${path.basename(file)} is not valid CSV: ${message}`, {
    hint: 'check the delimiter, quote and encoding given in the URL (?delimiter=;&quote="&encoding=latin1)',
  });
}

const hasBom = (cell: Buffer | undefined): boolean =>
  cell !== undefined && cell[0] === 0xef && cell[1] === 0xbb && cell[2] === 0xbf;

/** CSV files with a header row: every column is text. */
export function csvFormat(options: Options): FileFormat {
  async function* records(file: string): AsyncIterable<string[]> {
    const { encoding, ...rest } = options;
    // A CRLF line in an LF file (or the reverse) ends where the others do; its CR is not kept in its last cell.
    const parsing = { ...rest, relax_column_count: false, record_delimiter: ['\r\n', '\n'] };
    try {
      if (encoding === 'utf8' || encoding === 'utf-8') {
        // UTF-8 is parsed as bytes and each cell decoded on its own, so a cell's invalid bytes are escaped
        // (the row is then quarantined as invalid_utf8), not turned into U+FFFD.
        let first = true;
        for await (const cells of createReadStream(file).pipe(
          parse({ ...parsing, encoding: null, bom: false }),
        ) as AsyncIterable<Buffer[]>) {
          if (first && hasBom(cells[0])) cells[0] = cells[0].subarray(3);
          first = false;
          yield cells.map(decodeEscaped);
        }
        return;
      }
      // Another encoding the URL names is decoded as it is read; the parser gets text.
      for await (const record of createReadStream(file, { encoding: encoding as BufferEncoding }).pipe(
        parse(parsing),
      ) as AsyncIterable<string[]>)
        yield record;
    } catch (error) {
      throw csvFailure(file, error);
    }
  }
  return {
    extension: 'csv',
    async columns(file) {
      for await (const header of records(file)) {
        const names = header.map((h) => h.trim());
        const twice = names.find((n, i) => names.indexOf(n) !== i);
        if (twice !== undefined)
          throw new CrmMigrateError('E_SOURCE', `${path.basename(file)} has the column "${twice}" twice in its header`);
        return names.map((name) => ({ name, type: 'text' as const }));
      }
      return [];
    },
    async *rows(file) {
      let header = true;
      for await (const record of records(file)) {
        if (header) {
          header = false;
          continue;
        }
        yield record.map((v): Row[number] => (v === '' ? null : v));
      }
    },
  };
}

/** A value as a CSV cell (NULL stays null: csv-stringify writes it as an empty cell); dates ISO 8601, bytes base64. */
function cell(value: Value): string | null {
  if (value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return String(value);
}

/** CSV as a target writes it: a header row, then one line a row, quoted where needed. */
export function csvWriting(options: Options): FileWriting {
  const delimiter = typeof options.delimiter === 'string' ? options.delimiter : ',';
  const quote = typeof options.quote === 'string' ? options.quote : '"';
  return {
    header: (columns) => stringify([columns], { delimiter, quote }),
    // An empty text is quoted (""), a NULL is an empty cell: the two stay apart in the file.
    line: (_columns, row) => stringify([row.map(cell)], { delimiter, quote, quoted_match: /^$/ }),
  };
}
