import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CrmMigrateError } from '../../errors.js';
import type { LogicalType, Row, Value } from '../../values.js';
import type { ColumnInfo, Position, ReadRequest, Source, TableInfo } from '../contract.js';
import { compareKeys } from '../../engine/key-order.js';
import { batched, sortedRows } from './sorted-file.js';

/** A file format seen as tables: one file per table, named `<table>.<extension>` in the source folder. */
export interface FileFormat {
  readonly extension: string;
  /** The file's columns in order, with the type their values have. */
  columns(file: string): Promise<{ name: string; type: LogicalType }[]>;
  /** Every record as a row in `columns` order; a value missing from a record is NULL. */
  rows(file: string, columns: readonly string[]): AsyncIterable<Row>;
}

/** `csv:./exports?delimiter=;` as the folder (from the plan's folder) and the options after `?`. */
export function fileUrl(url: string, baseDir: string): { dir: string; options: URLSearchParams } {
  const rest = url.replace(/^[a-z]+:(\/\/)?/i, '');
  const [where = '.', query = ''] = rest.split('?');
  return { dir: path.resolve(baseDir, where), options: new URLSearchParams(query) };
}

/**
 * Exported files as a source: a folder of files, each a table. Files have no order and no index, so a read
 * sorts by key on disk (see sortedRows) and counts stream the file; a file is read whole each time.
 */
export class FileSource implements Source {
  readonly display: string;
  readonly snapshotReads = true;
  readonly #dir: string;
  readonly #format: FileFormat;

  /** `mayBeMissing`: a folder not created yet reads as empty (a target being inspected). */
  constructor(dir: string, format: FileFormat, display: string, options: { mayBeMissing?: boolean } = {}) {
    if (!options.mayBeMissing && (!existsSync(dir) || !statSync(dir).isDirectory())) {
      throw new CrmMigrateError('E_CONNECT', `${display}: no such folder`, { hint: `the URL names a folder of .${format.extension} files, one per table, read from the plan's folder` });
    }
    this.#dir = dir;
    this.#format = format;
    this.display = display;
  }

  listTables(): Promise<string[]> {
    const suffix = `.${this.#format.extension}`;
    if (!existsSync(this.#dir)) return Promise.resolve([]);
    return Promise.resolve(readdirSync(this.#dir).filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length)).sort());
  }

  async describe(table: string): Promise<TableInfo | undefined> {
    const file = this.#file(table);
    if (!existsSync(file)) return undefined;
    const columns: ColumnInfo[] = (await this.#format.columns(file)).map((c) => ({ name: c.name, type: c.type, nativeType: `${this.#format.extension} ${c.type}`, nullable: true, hasDefault: false }));
    return { name: table, columns, primaryKey: [] };
  }

  async count(table: string, position?: Position): Promise<number> {
    let n = 0;
    const { rows, index } = await this.#rows(table);
    const key = (position?.key ?? []).map(index);
    for await (const row of rows) {
      if (!position || position.after.length === 0 || compareKeys(key.slice(0, position.after.length).map((i) => row[i] ?? null), position.after) > 0) n += 1;
    }
    return n;
  }

  async countNull(table: string, column: string): Promise<number> {
    const { rows, index } = await this.#rows(table);
    const at = index(column);
    let n = 0;
    for await (const row of rows) if ((row[at] ?? null) === null) n += 1;
    return n;
  }

  async maxLengths(table: string, columns: readonly string[]): Promise<Record<string, number>> {
    const { rows, index } = await this.#rows(table);
    const at = columns.map(index);
    const longest = columns.map(() => 0);
    for await (const row of rows) at.forEach((i, k) => (longest[k] = Math.max(longest[k] ?? 0, [...String(row[i] ?? '')].length)));
    return Object.fromEntries(columns.map((c, k) => [c, longest[k] ?? 0]));
  }

  /** A join reads the whole joined file once per chunk: fine for the small tables joins are for. */
  async lookup(table: string, key: string, values: readonly Value[], columns: readonly string[]): Promise<Row[]> {
    const wanted = new Set(values.map((v) => String(v)));
    const { rows, index } = await this.#rows(table);
    const at = [key, ...columns].map(index);
    const found: Row[] = [];
    for await (const row of rows) if (wanted.has(String(row[at[0] as number] ?? ''))) found.push(at.map((i) => row[i] ?? null));
    return found;
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    const { rows, index } = await this.#rows(request.table);
    const picked = request.columns.map(index);
    async function* projected(): AsyncIterable<Row> {
      for await (const row of rows) yield picked.map((i) => row[i] ?? null);
    }
    const keyIndexes = request.key.map((k) => request.columns.indexOf(k));
    yield* batched(sortedRows(projected(), keyIndexes, request.after, `${request.table}.${this.#format.extension}`), request.batchSize);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #file(table: string): string {
    if (table.includes('/') || table.includes('\\') || table.startsWith('.')) throw new CrmMigrateError('E_PLAN', `"${table}" is not a table name here: name a file of the folder, without its extension`);
    return path.join(this.#dir, `${table}.${this.#format.extension}`);
  }

  async #rows(table: string): Promise<{ rows: AsyncIterable<Row>; index: (column: string) => number }> {
    const file = this.#file(table);
    const columns = (await this.#format.columns(file)).map((c) => c.name);
    const index = (column: string) => {
      const at = columns.indexOf(column);
      if (at < 0) throw new CrmMigrateError('E_SOURCE', `${path.basename(file)} has no column "${column}"`);
      return at;
    };
    return { rows: this.#format.rows(file, columns), index };
  }
}
