import type pg from 'pg';
import type { Rejection } from '../../errors.js';

/** SQLSTATEs of a row refused for its data (classes 22 and 23, a trigger's RAISE), as our codes. */
const CODES: Readonly<Record<string, Rejection['code']>> = {
  '23505': 'unique_violation',
  '23502': 'not_null',
  '23503': 'foreign_key_violation',
  '23514': 'check_violation',
  '22003': 'out_of_range',
  '22001': 'too_long',
  '40P01': 'conflict',
  '40001': 'conflict',
};

/**
 * Why PostgreSQL refused a row, when it refused it for its data; undefined for any other failure (a lost
 * connection, a missing column, a full disk). The field is the column the error names, or the columns of a
 * unique key (read from `detail`, of which only the column list is kept), or the constraint.
 */
export function pgRejection(error: unknown): Rejection | undefined {
  const e = error as Partial<pg.DatabaseError>;
  const code = e.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  let ours = CODES[code];
  if (!ours && code === '22P02' && /\benum\b/.test(e.message ?? '')) ours = 'not_in_enum';
  if (!ours && (code.startsWith('22') || code.startsWith('23') || code.startsWith('P0') || code === '27000'))
    ours = 'rejected_by_target';
  if (!ours) return undefined;
  const keyColumns = code === '23505' ? /^Key \(([\w", ]+)\)=/.exec(e.detail ?? '')?.[1]?.replace(/"/g, '') : undefined;
  return { code: ours, databaseCode: code, field: e.column ?? keyColumns ?? e.constraint ?? '' };
}

/** The constraint a unique violation names, for telling the primary key (`key_exists`) from another unique index. */
export const violatedConstraint = (error: unknown): string | undefined =>
  (error as Partial<pg.DatabaseError>).constraint;
