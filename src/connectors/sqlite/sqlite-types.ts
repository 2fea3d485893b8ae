import type { LogicalType } from '../../values.js';

/** SQLite's type affinity rules (sqlite.org/datatype3.html), refined by common declared names. */
export function logicalTypeOf(declared: string): { type: LogicalType; maxLength?: number } {
  const d = declared.toUpperCase();
  const length = /\(\s*(\d+)\s*\)/.exec(d)?.[1];
  if (d.includes('BIGINT') || d.includes('INT8')) return { type: 'bigint' };
  if (d.includes('BOOL')) return { type: 'boolean' };
  if (d.includes('SMALLINT') || d.includes('TINYINT')) return { type: 'smallint' };
  if (d.includes('INT')) return { type: 'integer' };
  if (d.includes('UUID')) return { type: 'uuid' };
  if (d.includes('JSON')) return { type: 'json' };
  if (d.includes('CHAR') || d.includes('CLOB') || d.includes('TEXT') || d === '') {
    return length ? { type: 'text', maxLength: Number(length) } : { type: 'text' };
  }
  if (d.includes('BLOB')) return { type: 'bytes' };
  if (d.includes('REAL') || d.includes('FLOA') || d.includes('DOUB')) return { type: 'float' };
  if (d.includes('TIMESTAMP') || d.includes('DATETIME')) return { type: 'timestamp' };
  if (d.includes('DATE')) return { type: 'date' };
  if (d.includes('DEC') || d.includes('NUMERIC')) return { type: 'decimal' };
  return { type: 'text' };
}

export function declaredTypeOf(type: LogicalType, maxLength?: number): string {
  switch (type) {
    case 'text':
      return maxLength === undefined ? 'TEXT' : `VARCHAR(${maxLength})`;
    case 'smallint':
      return 'SMALLINT';
    case 'integer':
      return 'INTEGER';
    case 'bigint':
      return 'BIGINT';
    case 'decimal':
      return 'NUMERIC';
    case 'float':
      return 'REAL';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'json':
      return 'JSON';
    case 'uuid':
      // "UUID" alone would get NUMERIC affinity; CHAR(36) keeps text and reads back as a 36-character text.
      return 'CHAR(36)';
    case 'bytes':
      return 'BLOB';
  }
}
