/** Where in a plan file something is: 1-based line and column. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One finding about a plan: a path into the plan, what is wrong and, when we can tell, what to write instead. */
export interface PlanIssue {
  readonly severity: 'error' | 'warning';
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly hint?: string | undefined;
  readonly location?: SourceLocation | undefined;
}

export type ErrorCode =
  'E_PLAN' | 'E_USAGE' | 'E_CONNECT' | 'E_SOURCE' | 'E_TARGET' | 'E_STATE' | 'E_LOCKED' | 'E_INTERNAL';

/**
 * The one error type the library throws on purpose. Messages name entities, tables, columns, keys and
 * rules — never a customer's field values — so they are safe to print and log.
 */
export class CrmMigrateError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CrmMigrateError';
    this.code = code;
    this.hint = options.hint;
  }

  /** The exit code the CLI uses: 2 for a bad plan or bad usage, 1 for anything that failed while running. */
  get exitCode(): number {
    return this.code === 'E_PLAN' || this.code === 'E_USAGE' ? 2 : 1;
  }
}

/**
 * A batch refused because its worker no longer holds its chunk (the fence, see StateStore.claimFence): another
 * worker took the chunk over and goes on from its last committed batch. Nothing is wrong with the data.
 */
export class FencedError extends CrmMigrateError {
  constructor(message: string, hint: string) {
    super('E_STATE', message, { hint });
    this.name = 'FencedError';
  }
}

/** Why a target refused a row for its data: a code of ours, the database's own error code, and the column or constraint it names. Never the value. */
export interface Rejection {
  /**
   * `unique_violation` (a unique index), `key_exists` (the primary key), `not_null`, `not_in_enum`, `out_of_range`,
   * `too_long`, `foreign_key_violation`, `check_violation`, `rejected_by_target` (a trigger, or any other data error);
   * `conflict`: a deadlock or serialization failure with another transaction, which a retry resolves.
   */
  readonly code:
    | 'unique_violation'
    | 'key_exists'
    | 'not_null'
    | 'not_in_enum'
    | 'out_of_range'
    | 'too_long'
    | 'foreign_key_violation'
    | 'check_violation'
    | 'rejected_by_target'
    | 'conflict';
  /** The database's error code (SQLSTATE, MySQL error number, SQLite extended code). */
  readonly databaseCode: string;
  /** The column, or else the constraint, the database named; empty when it named neither. */
  readonly field: string;
}

/**
 * A batch the target refused for the data of some row in it (a constraint, a trigger, a value it cannot take),
 * not for a fault of the connection or the schema: the engine finds the rows and quarantines them.
 */
export class RowsRejected extends CrmMigrateError {
  readonly rejection: Rejection;

  constructor(message: string, rejection: Rejection, cause: unknown) {
    super('E_TARGET', message, { cause });
    this.name = 'RowsRejected';
    this.rejection = rejection;
  }
}

/** A plan that cannot run: every issue found, each with its file:line:col. Nothing has been written. */
export class PlanError extends CrmMigrateError {
  readonly issues: readonly PlanIssue[];

  constructor(issues: readonly PlanIssue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    super(
      'E_PLAN',
      `the plan has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map(formatPlanIssue).join('\n')}`,
    );
    this.name = 'PlanError';
    this.issues = issues;
  }
}

export function formatPlanIssue(issue: PlanIssue): string {
  const where = issue.location ? `${issue.location.file}:${issue.location.line}:${issue.location.col}: ` : '';
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  const hint = issue.hint ? ` (${issue.hint})` : '';
  return `${where}${issue.severity}: ${path}${issue.message}${hint}`;
}
