import type { ColumnInfo, Position, ReadRequest, Source, TableInfo } from '../contract.js';
import { CrmMigrateError } from '../../errors.js';
import { isBlank, type Row, type Value } from '../../values.js';

/** One entity's `unpivot:`: several columns of a row (email1, email2) read as one column, one row each. */
export interface UnpivotSpec {
  /** The real table (as the plan's sources name it). */
  readonly table: string;
  /** Its one-column key. */
  readonly key: string;
  readonly columns: readonly string[];
  /** The column the values are read as. */
  readonly as: string;
  /** The column holding which of `columns` a row came from: 1, 2, … */
  readonly position: string;
}

/** The name the entity reads: the table with what it unpivots, readable in messages. */
export const unpivotTable = (spec: Omit<UnpivotSpec, 'key'>): string =>
  `${spec.table}[${spec.columns.join(', ')} as ${spec.as}]`;

/**
 * A source in which an unpivoting entity's table is a table like any other: keyed by (key, position), in
 * that order, one row per filled column (a blank one makes no row). The engine reads, resumes, verifies and
 * counts through it without knowing; other tables pass straight through.
 */
export class UnpivotSource implements Source {
  readonly display: string;
  readonly snapshotReads: boolean;
  readonly #inner: Source;
  readonly #specs: ReadonlyMap<string, UnpivotSpec>;

  constructor(inner: Source, specs: ReadonlyMap<string, UnpivotSpec>) {
    this.#inner = inner;
    this.#specs = specs;
    this.display = inner.display;
    this.snapshotReads = inner.snapshotReads;
  }

  listTables(): Promise<string[]> {
    return this.#inner.listTables();
  }

  async describe(table: string): Promise<TableInfo | undefined> {
    const spec = this.#specs.get(table);
    if (!spec) return this.#inner.describe(table);
    const info = await this.#inner.describe(spec.table);
    if (!info) return undefined;
    const missing = spec.columns.filter((c) => !info.columns.some((x) => x.name === c));
    if (missing.length > 0)
      throw new CrmMigrateError('E_PLAN', `source table ${spec.table} has no column ${missing.join(', ')} to unpivot`, {
        hint: `its columns: ${info.columns.map((c) => c.name).join(', ')}`,
      });
    const first = info.columns.find((c) => c.name === spec.columns[0]) as ColumnInfo;
    const longest = Math.max(
      ...info.columns.filter((c) => spec.columns.includes(c.name)).map((c) => c.maxLength ?? Infinity),
    );
    const columns: ColumnInfo[] = [
      ...info.columns.filter((c) => !spec.columns.includes(c.name)),
      { ...first, name: spec.as, nullable: false, maxLength: Number.isFinite(longest) ? longest : undefined },
      { name: spec.position, type: 'integer', nativeType: 'position', nullable: false, hasDefault: false },
    ];
    return { ...info, name: table, columns, primaryKey: [spec.key, spec.position] };
  }

  /** Rows to come: each filled column of the rows after the position's key (an upper bound when text is blank but not NULL). */
  async count(table: string, position?: Position): Promise<number> {
    const spec = this.#specs.get(table);
    if (!spec) return this.#inner.count(table, position);
    const after = position?.after[0];
    const rows = await this.#inner.count(
      spec.table,
      after === undefined ? undefined : { key: [spec.key], after: [after] },
    );
    if (after !== undefined) return rows * spec.columns.length;
    let filled = 0;
    for (const c of spec.columns) filled += rows - (await this.#inner.countNull(spec.table, c));
    return filled;
  }

  countNull(table: string, column: string): Promise<number> {
    const spec = this.#specs.get(table);
    if (!spec) return this.#inner.countNull(table, column);
    return column === spec.as || column === spec.position
      ? Promise.resolve(0)
      : this.#inner.countNull(spec.table, column);
  }

  async maxLengths(table: string, columns: readonly string[]): Promise<Record<string, number>> {
    const spec = this.#specs.get(table);
    if (!spec) return this.#inner.maxLengths(table, columns);
    const own = columns.filter((c) => c !== spec.as && c !== spec.position);
    const lengths = await this.#inner.maxLengths(spec.table, [
      ...own,
      ...(columns.includes(spec.as) ? spec.columns : []),
    ]);
    const result: Record<string, number> = Object.fromEntries(own.map((c) => [c, lengths[c] ?? 0]));
    if (columns.includes(spec.as)) result[spec.as] = Math.max(...spec.columns.map((c) => lengths[c] ?? 0));
    return result;
  }

  lookup(table: string, key: string, values: readonly Value[], columns: readonly string[]): Promise<Row[]> {
    if (this.#specs.has(table))
      return Promise.reject(
        new CrmMigrateError('E_PLAN', `${table} is unpivoted: join the table it is read from instead`),
      );
    return this.#inner.lookup(table, key, values, columns);
  }

  read(request: ReadRequest): AsyncIterable<Row[]> {
    const spec = this.#specs.get(request.table);
    return spec ? this.#unpivoted(spec, request) : this.#inner.read(request);
  }

  async *#unpivoted(spec: UnpivotSpec, request: ReadRequest): AsyncIterable<Row[]> {
    const own = request.columns.filter((c) => c !== spec.as && c !== spec.position);
    const columns = [...new Set([spec.key, ...own, ...spec.columns])];
    const at = (c: string) => columns.indexOf(c);
    const expand = (row: Row, fromPosition: number): Row[] => {
      const out: Row[] = [];
      spec.columns.forEach((c, i) => {
        const value = row[at(c)] ?? null;
        if (i + 1 <= fromPosition || isBlank(value)) return;
        out.push(
          request.columns.map((name) =>
            name === spec.as ? value : name === spec.position ? i + 1 : (row[at(name)] ?? null),
          ),
        );
      });
      return out;
    };
    // Resuming inside a row: its remaining columns first, then the rows after it.
    const [afterKey, afterPosition] = request.after ?? [];
    if (afterKey !== undefined && afterKey !== null && typeof afterPosition === 'number') {
      const [row] = await this.#inner.lookup(spec.table, spec.key, [afterKey], columns.slice(1));
      const rest = row ? expand(row, afterPosition) : [];
      if (rest.length > 0) yield rest;
    }
    for await (const rows of this.#inner.read({
      table: spec.table,
      columns,
      key: [spec.key],
      after: afterKey === undefined ? undefined : [afterKey],
      batchSize: request.batchSize,
    })) {
      const out = rows.flatMap((row) => expand(row, 0));
      if (out.length > 0) yield out;
    }
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
