import mysql from 'mysql2';
import type { Connection } from 'mysql2';
import type { Connection as PromiseConnection } from 'mysql2/promise';
import { CrmMigrateError, type ErrorCode } from '../../errors.js';
import type { TlsSettings } from '../contract.js';
import { readCa } from '../shared/tls.js';
import { redactUrl } from '../url.js';

/** One connection: the streaming (callback) API for reads, the promise API for everything else. */
export interface MysqlSession {
  readonly raw: Connection;
  readonly db: PromiseConnection;
}

/** Where to connect and how to secure it. */
export interface MysqlEndpoint {
  readonly url: string;
  readonly ssl?: mysql.SslOptions | undefined;
}

export function endpoint(url: string, tls: TlsSettings | undefined): MysqlEndpoint {
  if (!tls || tls.mode === 'disable') return { url };
  const ca = readCa(tls);
  const ssl: mysql.SslOptions =
    tls.mode === 'require'
      ? { rejectUnauthorized: false }
      : {
          rejectUnauthorized: true,
          ...(ca ? { ca } : {}),
          ...(tls.mode === 'verify-ca' ? { verifyIdentity: false } : { verifyIdentity: true }),
        };
  return { url, ssl };
}

/**
 * Session settings that make the server strict (a value that does not fit is an error, never silently cut)
 * and keep client-side escaping valid (backslash escapes on: NO_BACKSLASH_ESCAPES would break it).
 */
const SESSION = [
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO'",
  "SET SESSION time_zone = '+00:00'",
];

export async function connect(target: MysqlEndpoint, options: { readOnly?: boolean } = {}): Promise<MysqlSession> {
  let raw: Connection | undefined;
  try {
    raw = mysql.createConnection({
      uri: target.url,
      ...(target.ssl ? { ssl: target.ssl } : {}),
      charset: 'UTF8MB4_UNICODE_CI',
      // Values as the database holds them: dates as text (0000-00-00 survives), big numbers and decimals as text.
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      rowsAsArray: true,
      multipleStatements: false,
      timezone: 'Z',
    });
    const db = raw.promise();
    await db.connect();
    for (const sql of SESSION) await db.query(sql);
    // A source connection cannot write, whatever runs on it.
    if (options.readOnly) await db.query('SET SESSION TRANSACTION READ ONLY');
    raw.on('error', () => undefined);
    return { raw, db };
  } catch (error) {
    raw?.destroy();
    throw new CrmMigrateError('E_CONNECT', `cannot connect to ${redactUrl(target.url)}: ${describeMysqlError(error)}`, {
      cause: error,
    });
  }
}

/**
 * A MySQL error as safe text: the error's code and message, cut where data errors go on to quote the value
 * ("Incorrect string value: '\\xF0…' for column …" keeps its column, loses the value).
 */
export function describeMysqlError(error: unknown): string {
  const e = error as { code?: string; errno?: number; sqlMessage?: string; message?: string };
  if (!e.sqlMessage) return e.message ?? String(error);
  // A trigger's SIGNAL text is the trigger author's and may quote the row's values.
  if (e.errno === 1644)
    return `a trigger raised an error (its text is not shown: it may quote values) [${e.code ?? e.errno}]`;
  const safe = e.sqlMessage.replace(/'(?:[^'\\]|\\.)*'/g, (quoted, offset: number, all: string) =>
    /(for column|column|table|key|constraint|database)\s*$/i.test(all.slice(0, offset)) ? quoted : '…',
  );
  return `${safe} [${e.code ?? e.errno ?? ''}]`;
}

export function mysqlFailure(code: ErrorCode, what: string, error: unknown): CrmMigrateError {
  if (error instanceof CrmMigrateError) return error;
  return new CrmMigrateError(code, `${what}: ${describeMysqlError(error)}`, { cause: error });
}
