import type { Position, ReadRequest, Source, TableInfo } from '../../connectors/contract.js';
import { CrmMigrateError } from '../../errors.js';
import type { Row, Value } from '../../values.js';

/**
 * Several sources as one: a table is named `source:table` and goes to that source. The engine reads through
 * the Source contract and never learns there are several; entities of different sources are simply
 * different entities, each with its own checkpoint, quarantine and crosswalk key space.
 */
export class MultiSource implements Source {
  readonly display: string;
  readonly snapshotReads: boolean;
  readonly rangeReads: boolean;
  readonly #sources: ReadonlyMap<string, Source>;

  constructor(sources: ReadonlyMap<string, Source>) {
    this.#sources = sources;
    this.display = [...sources].map(([name, s]) => `${name}=${s.display}`).join(', ');
    this.snapshotReads = [...sources.values()].every((s) => s.snapshotReads);
    this.rangeReads = [...sources.values()].every((s) => s.rangeReads === true);
  }

  async listTables(): Promise<string[]> {
    const all: string[] = [];
    for (const [name, source] of this.#sources) for (const t of await source.listTables()) all.push(`${name}:${t}`);
    return all;
  }

  async describe(table: string): Promise<TableInfo | undefined> {
    const [source, name] = this.#route(table);
    const info = await source.describe(name);
    return info && { ...info, name: table };
  }

  count(table: string, position?: Position): Promise<number> {
    const [source, name] = this.#route(table);
    return source.count(name, position);
  }

  countNull(table: string, column: string): Promise<number> {
    const [source, name] = this.#route(table);
    return source.countNull(name, column);
  }

  maxLengths(table: string, columns: readonly string[]): Promise<Record<string, number>> {
    const [source, name] = this.#route(table);
    return source.maxLengths(name, columns);
  }

  lookup(table: string, key: string, values: readonly Value[], columns: readonly string[]): Promise<Row[]> {
    const [source, name] = this.#route(table);
    return source.lookup(name, key, values, columns);
  }

  read(request: ReadRequest): AsyncIterable<Row[]> {
    const [source, name] = this.#route(request.table);
    return source.read({ ...request, table: name });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#sources.values()].map((s) => s.close()));
  }

  #route(table: string): [Source, string] {
    const at = table.indexOf(':');
    const source = at > 0 ? this.#sources.get(table.slice(0, at)) : undefined;
    if (!source)
      throw new CrmMigrateError('E_PLAN', `"${table}" names no source of the plan (tables are read as source:table)`);
    return [source, table.slice(at + 1)];
  }
}
