import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CrmMigrateError } from '../../errors.js';
import type { LogicalType, Row, Value } from '../../values.js';
import type { ColumnInfo, Position, ReadRequest, Source, TableInfo } from '../contract.js';
import { compareKeys } from '../../key-order.js';
import { batched, sortedRows } from './sorted-file.js';

/** Joined files up to this size are indexed in memory for lookups; larger ones are read through per chunk. */
const INDEXED_FILE_BYTES = 32 * 1024 * 1024;

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
  /** Lookup indexes of small joined files, by file, key and columns (see lookup). */
  readonly #indexes = new Map<string, Map<string, Row[]>>();

  /** `mayBeMissing`: a folder not created yet reads as empty (a target being inspected). */
  constructor(dir: string, format: FileFormat, display: string, options: { mayBeMissing?: boolean } = {}) {
    if (!options.mayBeMissing && (!existsSync(dir) || !statSync(dir).isDirectory())) {
      throw new CrmMigrateError('E_CONNECT', `${display}: no such folder`, {
        hint: `the URL names a folder of .${format.extension} files, one per table, read from the plan's folder`,
      });
    }
    this.#dir = dir;
    this.#format = format;
    this.display = display;
  }

  listTables(): Promise<string[]> {
    const suffix = `.${this.#format.extension}`;
    if (!existsSync(this.#dir)) return Promise.resolve([]);
    return Promise.resolve(
      readdirSync(this.#dir)
        .filter((f) => f.endsWith(suffix))
        .map((f) => f.slice(0, -suffix.length))
        .sort(),
    );
  }

  async describe(table: string): Promise<TableInfo | undefined> {
    const file = this.#file(table);
    if (!existsSync(file)) return undefined;
    const columns: ColumnInfo[] = (await this.#format.columns(file)).map((c) => ({
      name: c.name,
      type: c.type,
      nativeType: `${this.#format.extension} ${c.type}`,
      nullable: true,
      hasDefault: false,
    }));
    return { name: table, columns, primaryKey: [] };
  }

  async count(table: string, position?: Position): Promise<number> {
    let n = 0;
    const { rows, index } = await this.#rows(table);
    const key = (position?.key ?? []).map(index);
    for await (const row of rows) {
      if (
        !position ||
        position.after.length === 0 ||
        compareKeys(
          key.slice(0, position.after.length).map((i) => row[i] ?? null),
          position.after,
        ) > 0
      )
        n += 1;
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
    for await (const row of rows)
      at.forEach((i, k) => (longest[k] = Math.max(longest[k] ?? 0, [...String(row[i] ?? '')].length)));
    return Object.fromEntries(columns.map((c, k) => [c, longest[k] ?? 0]));
  }

  /**
   * A join looks rows up a chunk at a time. A joined file up to INDEXED_FILE_BYTES is read once into an index
   * by key (the small tables joins are for); a larger one is read through for each chunk, so memory stays
   * bounded whatever its size. Measured: 200,000 CSV rows joined to a 10,000-row CSV load in 3.8 s indexed,
   * 14.0 s reading the joined file for each of the 400 chunks.
   */
  async lookup(table: string, key: string, values: readonly Value[], columns: readonly string[]): Promise<Row[]> {
    const index = await this.#lookupIndex(table, key, columns);
    if (index) return values.flatMap((v) => index.get(String(v)) ?? []);
    const wanted = new Set(values.map((v) => String(v)));
    const found: Row[] = [];
    for await (const row of await this.#keyed(table, key, columns))
      if (wanted.has(String(row[0] ?? ''))) found.push(row);
    return found;
  }

  /** The rows of a small file by key (`[key, ...columns]`), built on first use; undefined for a large file. */
  async #lookupIndex(table: string, key: string, columns: readonly string[]): Promise<Map<string, Row[]> | undefined> {
    const file = this.#file(table);
    const { size, mtimeMs } = statSync(file);
    if (size > INDEXED_FILE_BYTES) return undefined;
    const id = JSON.stringify([table, key, columns, mtimeMs, size]);
    let index = this.#indexes.get(id);
    if (!index) {
      index = new Map();
      for await (const row of await this.#keyed(table, key, columns)) {
        const k = String(row[0] ?? '');
        const same = index.get(k);
        if (same) same.push(row);
        else index.set(k, [row]);
      }
      this.#indexes.set(id, index);
    }
    return index;
  }

  async #keyed(table: string, key: string, columns: readonly string[]): Promise<AsyncIterable<Row>> {
    const { rows, index } = await this.#rows(table);
    const at = [key, ...columns].map(index);
    return (async function* () {
      for await (const row of rows) yield at.map((i) => row[i] ?? null);
    })();
  }

  async *read(request: ReadRequest): AsyncIterable<Row[]> {
    const { rows, index } = await this.#rows(request.table);
    const picked = request.columns.map(index);
    async function* projected(): AsyncIterable<Row> {
      for await (const row of rows) yield picked.map((i) => row[i] ?? null);
    }
    const keyIndexes = request.key.map((k) => request.columns.indexOf(k));
    yield* batched(
      sortedRows(projected(), keyIndexes, request.after, `${request.table}.${this.#format.extension}`),
      request.batchSize,
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #file(table: string): string {
    if (table.includes('/') || table.includes('\\') || table.startsWith('.'))
      throw new CrmMigrateError(
        'E_PLAN',
        `"${table}" is not a table name here: name a file of the folder, without its extension`,
      );
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
