/** A single field value as it flows between connectors, mapping and cleaning. */
export type Value = string | number | bigint | boolean | Date | Uint8Array | null;

/** A row in the column order its producer declared (arrays, not objects: the hot path maps millions). */
export type Row = Value[];

/**
 * Column types as the engine sees them. Connectors translate their native types to and from these;
 * nothing outside `src/connectors/` knows a native type name.
 */
export type LogicalType =
  | 'text'
  | 'smallint'
  | 'integer'
  | 'bigint'
  | 'decimal'
  | 'float'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'json'
  | 'uuid'
  | 'bytes';

export const LOGICAL_TYPES: readonly LogicalType[] = [
  'text',
  'smallint',
  'integer',
  'bigint',
  'decimal',
  'float',
  'boolean',
  'date',
  'timestamp',
  'json',
  'uuid',
  'bytes',
];

/** JSON for state tables (quarantined rows, checkpoint keys): bigint as text, bytes as base64. */
export function valueToJson(value: Value): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') };
  return value;
}

/** A source key as text (quarantine, crosswalk): the value for a one-column key, a JSON array for a composite one. */
export function sourceKeyText(key: readonly unknown[]): string {
  return key.length === 1 ? String(key[0]) : JSON.stringify(key);
}

/** Leading, trailing or doubled white space, or any white space that is not a plain space (tab, NBSP…). */
const UNTIDY_SPACE = /^\s|\s$|\s\s|[^\S ]/;

/**
 * Text with each run of white space made one space, and none at either end. Most text has nothing to
 * collapse: it is tested first, and a replace, which copies the text, runs only where it has work.
 */
export function collapseSpaces(text: string): string {
  return UNTIDY_SPACE.test(text) ? text.replace(/\s+/g, ' ').trim() : text;
}

export function isBlank(value: Value): boolean {
  return value === null || (typeof value === 'string' && value.trim() === '');
}

/** A column type written in a plan (`text`, `varchar(80)`, `integer`…) as a logical type and a length. */
export function parseTypeName(name: string): { type: LogicalType; maxLength?: number } | undefined {
  const m = /^\s*([a-z_ ]+?)\s*(?:\(\s*(\d+)\s*\))?\s*$/i.exec(name);
  if (!m?.[1]) return undefined;
  const base = m[1].toLowerCase();
  const length = m[2] === undefined ? undefined : Number(m[2]);
  // A Map: a plan that says `type: constructor` must find no type, not Object's constructor.
  const aliases = new Map<string, LogicalType>(
    Object.entries({
      varchar: 'text',
      'character varying': 'text',
      string: 'text',
      char: 'text',
      int: 'integer',
      int4: 'integer',
      int8: 'bigint',
      int2: 'smallint',
      numeric: 'decimal',
      real: 'float',
      double: 'float',
      bool: 'boolean',
      datetime: 'timestamp',
      timestamptz: 'timestamp',
      jsonb: 'json',
      blob: 'bytes',
      bytea: 'bytes',
    }),
  );
  const type = (LOGICAL_TYPES as readonly string[]).includes(base) ? (base as LogicalType) : aliases.get(base);
  if (!type) return undefined;
  return length !== undefined && type === 'text' ? { type, maxLength: length } : { type };
}
