import type { Connection as PromiseConnection } from 'mysql2/promise';
import type { LogicalType, Value } from '../../values.js';
import type { ColumnInfo, ForeignKey, TableInfo } from '../contract.js';
import { quoteIdentifier } from '../shared/identifiers.js';

export const q = (name: string): string => quoteIdentifier(name, '`');

/** `db.table` or `table` (in the connection's database) as the schema and table to look up. */
function split(table: string): [string | null, string] {
  const dot = table.indexOf('.');
  return dot < 0 ? [null, table] : [table.slice(0, dot), table.slice(dot + 1)];
}

/**
 * MySQL and MariaDB column types as logical types, decided explicitly for the cases other tools get wrong:
 * TINYINT(1) and BIT(1) are booleans, an unsigned INT needs a bigint and an unsigned BIGINT a decimal, ENUM
 * and SET are text as long as their longest member (a SET: all members joined).
 */
export function logicalTypeOf(
  dataType: string,
  columnType: string,
  maxChars: number | null,
): { type: LogicalType; maxLength?: number } {
  const t = dataType.toLowerCase();
  const unsigned = /unsigned/i.test(columnType);
  if (
    (t === 'tinyint' && /^tinyint\(1\)/i.test(columnType)) ||
    (t === 'bit' && /^bit\(1\)/i.test(columnType)) ||
    t === 'boolean'
  )
    return { type: 'boolean' };
  if (t === 'tinyint' || (t === 'smallint' && !unsigned)) return { type: 'smallint' };
  if (t === 'smallint' || t === 'mediumint' || (t === 'int' && !unsigned)) return { type: 'integer' };
  if (t === 'int' || (t === 'bigint' && !unsigned)) return { type: 'bigint' };
  if (t === 'bigint' || t === 'decimal') return { type: 'decimal' };
  if (t === 'float' || t === 'double') return { type: 'float' };
  if (t === 'date') return { type: 'date' };
  if (t === 'datetime' || t === 'timestamp') return { type: 'timestamp' };
  if (t === 'json') return { type: 'json' };
  if (['blob', 'tinyblob', 'mediumblob', 'longblob', 'binary', 'varbinary', 'bit'].includes(t))
    return { type: 'bytes' };
  if (t === 'enum' || t === 'set') {
    const members = [...columnType.matchAll(/'((?:[^']|'')*)'/g)].map((m) => (m[1] ?? '').replace(/''/g, "'"));
    const longest =
      t === 'enum'
        ? Math.max(0, ...members.map((m) => [...m].length))
        : members.reduce((n, m) => n + [...m].length + 1, 0);
    return { type: 'text', maxLength: longest };
  }
  if (t === 'char' || t === 'varchar')
    return maxChars === null ? { type: 'text' } : { type: 'text', maxLength: maxChars };
  return { type: 'text' };
}

export function nativeTypeOf(type: LogicalType, maxLength: number | undefined, inKey: boolean): string {
  switch (type) {
    case 'text':
      return maxLength !== undefined ? `VARCHAR(${maxLength})` : inKey ? 'VARCHAR(255)' : 'LONGTEXT';
    case 'smallint':
      return 'SMALLINT';
    case 'integer':
      return 'INT';
    case 'bigint':
      return 'BIGINT';
    case 'decimal':
      // DECIMAL alone is DECIMAL(10,0) in MySQL, which would round: the widest there is instead.
      return 'DECIMAL(65,30)';
    case 'float':
      return 'DOUBLE';
    case 'boolean':
      return 'TINYINT(1)';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'DATETIME(6)';
    case 'json':
      return 'JSON';
    case 'uuid':
      return 'CHAR(36)';
    case 'bytes':
      return 'LONGBLOB';
  }
}

export async function listTables(db: PromiseConnection): Promise<string[]> {
  const [rows] = await db.query(
    `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE '\\_crm\\_migrate\\_%' ORDER BY TABLE_NAME`,
  );
  return (rows as unknown[][]).map((r) => String(r[0]));
}

/** One-column foreign keys; a referenced table in another database is named with it. */
export async function foreignKeys(db: PromiseConnection, table: string): Promise<ForeignKey[]> {
  const [schema, name] = split(table);
  const [rows] = await db.query(
    `SELECT k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, k.TABLE_SCHEMA
     FROM information_schema.KEY_COLUMN_USAGE k
     WHERE k.TABLE_SCHEMA = COALESCE(?, DATABASE()) AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
       AND (SELECT COUNT(*) FROM information_schema.KEY_COLUMN_USAGE o WHERE o.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND o.TABLE_NAME = k.TABLE_NAME AND o.CONSTRAINT_NAME = k.CONSTRAINT_NAME) = 1
     ORDER BY (SELECT c.ORDINAL_POSITION FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = k.TABLE_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME AND c.COLUMN_NAME = k.COLUMN_NAME)`,
    [schema, name],
  );
  // Rows come as arrays (the connection's rowsAsArray).
  return (rows as string[][]).map(([column, refSchema, refTable, refColumn, ownSchema]) => ({
    column: String(column),
    references: {
      table: refSchema === ownSchema ? String(refTable) : `${refSchema}.${refTable}`,
      column: String(refColumn),
    },
  }));
}

/** The labels of `enum('lead','it''s')`, as information_schema spells the column type. */
export function enumLabels(columnType: string): string[] {
  return [...columnType.matchAll(/'((?:[^']|'')*)'/g)].map((m) => (m[1] ?? '').replace(/''/g, "'"));
}

export async function describeTable(db: PromiseConnection, table: string): Promise<TableInfo | undefined> {
  const [schema, name] = split(table);
  const [rows] = await db.query(
    `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, NUMERIC_PRECISION, NUMERIC_SCALE
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [schema, name],
  );
  const list = rows as [
    string,
    string,
    string,
    number | string | null,
    string,
    string | null,
    string,
    string | null,
    number | string | null,
    number | string | null,
  ][];
  if (list.length === 0) return undefined;
  const [keys] = await db.query(
    `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
    [schema, name],
  );
  // Unique indexes of one whole column (a prefix index is unique only in its prefix).
  const [uniques] = await db.query(
    `SELECT MIN(COLUMN_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY'
     GROUP BY INDEX_NAME HAVING COUNT(*) = 1 AND MAX(SUB_PART) IS NULL`,
    [schema, name],
  );
  const unique = new Set((uniques as string[][]).map((u) => String(u[0])));
  const columns: ColumnInfo[] = list.map(
    ([column, dataType, columnType, maxChars, nullable, dflt, extra, charset, precision, scale]) => ({
      name: column,
      ...logicalTypeOf(dataType, columnType, maxChars === null ? null : Number(maxChars)),
      nativeType: columnType,
      nullable: nullable === 'YES',
      // MariaDB reports a NULL default as the text 'NULL'.
      hasDefault: (dflt !== null && dflt !== 'NULL') || /auto_increment|DEFAULT_GENERATED/i.test(extra),
      bmpOnly: charset === 'utf8' || charset === 'utf8mb3',
      ...(charset === null ? {} : { charset }),
      ...(dataType.toLowerCase() === 'decimal' && precision !== null
        ? { precision: Number(precision), scale: Number(scale ?? 0) }
        : {}),
      // ENUM matches its labels as its collation compares (case aside, trailing spaces dropped, by default).
      ...(dataType.toLowerCase() === 'enum'
        ? { labels: { values: enumLabels(columnType), caseInsensitive: true } }
        : {}),
      ...(dataType.toLowerCase() === 'float' ? { singlePrecision: true } : {}),
      ...(unique.has(column) ? { unique: true } : {}),
    }),
  );
  return { name: table, columns, primaryKey: (keys as string[][]).map((k) => String(k[0])) };
}

/** Values as mysql2 returns them (dates and big numbers as text) turned into the column's logical type. */
export function fromMysql(type: LogicalType): (value: unknown) => Value {
  switch (type) {
    case 'boolean':
      return (v) => (v === null ? null : Buffer.isBuffer(v) ? v.some((b) => b !== 0) : Number(v) !== 0);
    case 'bigint':
      return (v) => {
        if (v === null || typeof v === 'number') return v;
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : BigInt(String(v));
      };
    case 'json':
      return (v) => (v === null || typeof v === 'string' ? v : JSON.stringify(v));
    default:
      // MariaDB's JSON is a LONGTEXT described as text, yet mysql2 parses it into an object: back to its text.
      return (v) =>
        v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Date)
          ? JSON.stringify(v)
          : (v as Value);
  }
}
