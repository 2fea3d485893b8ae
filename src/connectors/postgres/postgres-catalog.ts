import type pg from 'pg';
import type { LogicalType, Value } from '../../values.js';
import type { ColumnInfo, ForeignKey, TableInfo } from '../contract.js';
import { quoteIdentifier } from '../shared/identifiers.js';

// A Map: a user type named `constructor` must find no logical type, not Object's constructor.
const BY_TYPNAME = new Map<string, LogicalType>(
  Object.entries({
    int2: 'smallint',
    int4: 'integer',
    int8: 'bigint',
    numeric: 'decimal',
    float4: 'float',
    float8: 'float',
    bool: 'boolean',
    date: 'date',
    timestamp: 'timestamp',
    timestamptz: 'timestamp',
    json: 'json',
    jsonb: 'json',
    uuid: 'uuid',
    bytea: 'bytes',
  }),
);

export function nativeTypeOf(type: LogicalType, maxLength?: number): string {
  const names: Record<LogicalType, string> = {
    text: maxLength === undefined ? 'text' : `varchar(${maxLength})`,
    smallint: 'smallint',
    integer: 'integer',
    bigint: 'bigint',
    decimal: 'numeric',
    float: 'double precision',
    boolean: 'boolean',
    date: 'date',
    timestamp: 'timestamptz',
    json: 'jsonb',
    uuid: 'uuid',
    bytes: 'bytea',
  };
  return names[type];
}

export const qualified = (table: string): string => quoteIdentifier(table);

export async function listTables(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `SELECT CASE WHEN table_schema = current_schema() THEN table_name ELSE table_schema || '.' || table_name END AS name
     FROM information_schema.tables
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema', '_crm_migrate') ORDER BY 1`,
  );
  return result.rows.map((r) => r.name);
}

export async function describeTable(client: pg.Client, table: string): Promise<TableInfo | undefined> {
  const result = await client.query<{
    name: string;
    native: string;
    typname: string;
    notnull: boolean;
    hasdef: boolean;
    maxlen: number | null;
    prec: number | null;
    scale: number | null;
    pkpos: number | null;
    labels: string[] | null;
    uniq: boolean;
  }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS native, t.typname, a.attnotnull AS notnull,
            a.atthasdef AS hasdef,
            CASE WHEN t.typname IN ('varchar', 'bpchar') AND a.atttypmod > 4 THEN a.atttypmod - 4 END AS maxlen,
            CASE WHEN t.typname = 'numeric' AND a.atttypmod > 4 THEN ((a.atttypmod - 4) >> 16) & 65535 END AS prec,
            CASE WHEN t.typname = 'numeric' AND a.atttypmod > 4 THEN (a.atttypmod - 4) & 65535 END AS scale,
            array_position(i.indkey::int2[], a.attnum) AS pkpos,
            (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = a.atttypid) AS labels,
            EXISTS (SELECT 1 FROM pg_index u WHERE u.indrelid = a.attrelid AND u.indisunique AND NOT u.indisprimary
                    AND u.indnatts = 1 AND u.indkey[0] = a.attnum AND u.indpred IS NULL) AS uniq
     FROM pg_attribute a
     JOIN pg_type t ON t.oid = a.atttypid
     LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`,
    [qualified(table)],
  );
  if (result.rows.length === 0) return undefined;
  const columns: ColumnInfo[] = result.rows.map((r) => ({
    name: r.name,
    type: BY_TYPNAME.get(r.typname) ?? 'text',
    nativeType: r.native,
    maxLength: r.maxlen ?? undefined,
    precision: r.prec ?? undefined,
    scale: r.scale ?? undefined,
    nullable: !r.notnull,
    hasDefault: r.hasdef,
    ...(r.labels ? { labels: { values: r.labels, caseInsensitive: false } } : {}),
    ...(r.typname === 'float4' ? { singlePrecision: true } : {}),
    ...(r.uniq ? { unique: true } : {}),
  }));
  const primaryKey = result.rows
    .filter((r) => r.pkpos !== null)
    .sort((a, b) => (a.pkpos ?? 0) - (b.pkpos ?? 0))
    .map((r) => r.name);
  return { name: table, columns, primaryKey };
}

/** One-column foreign keys; a referenced table outside the search path is named with its schema. */
export async function foreignKeys(client: pg.Client, table: string): Promise<ForeignKey[]> {
  const result = await client.query<{ column: string; ref_table: string; ref_column: string }>(
    `SELECT a.attname AS column, CASE WHEN pg_table_is_visible(f.oid) THEN f.relname ELSE n.nspname || '.' || f.relname END AS ref_table, fa.attname AS ref_column
     FROM pg_constraint c
     JOIN pg_class f ON f.oid = c.confrelid
     JOIN pg_namespace n ON n.oid = f.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
     WHERE c.contype = 'f' AND c.conrelid = to_regclass($1) AND cardinality(c.conkey) = 1
     ORDER BY a.attnum`,
    [qualified(table)],
  );
  return result.rows.map((r) => ({ column: r.column, references: { table: r.ref_table, column: r.ref_column } }));
}

/** Turns COPY text fields back into values by column type; what has no exact JS form stays text. */
export function fieldParser(type: LogicalType): (field: string) => Value {
  switch (type) {
    case 'smallint':
    case 'integer':
    case 'float':
      return Number;
    case 'bigint':
      return (f) => {
        const n = Number(f);
        return Number.isSafeInteger(n) ? n : BigInt(f);
      };
    case 'boolean':
      return (f) => f === 't';
    case 'bytes':
      return (f) => Buffer.from(f.slice(2), 'hex');
    default:
      return (f) => f;
  }
}
