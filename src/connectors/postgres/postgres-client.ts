import pg from 'pg';
import { CrmMigrateError, type ErrorCode } from '../../errors.js';
import type { TlsSettings } from '../contract.js';
import { readCa } from '../shared/tls.js';
import { redactUrl } from '../url.js';

/** Fixed session settings, so COPY text reads back the same way whatever the server's defaults. */
const SESSION =
  "SET datestyle = 'ISO'; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'; SET intervalstyle = 'iso_8601'";

/** Where to connect and how to secure it: the URL (TLS parameters removed when the plan decides TLS) and node-postgres' `ssl`. */
export interface PgEndpoint {
  readonly url: string;
  readonly ssl?: pg.ClientConfig['ssl'] | undefined;
}

/**
 * The plan's `tls:` as node-postgres settings. The plan decides alone: TLS parameters in the URL are removed
 * (a URL's `sslmode=require` would otherwise quietly weaken a plan's `verify-full`), and a URL that switches
 * TLS off while the plan demands it is refused.
 */
export function endpoint(url: string, tls: TlsSettings | undefined): PgEndpoint {
  if (!tls) return { url };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new CrmMigrateError('E_PLAN', `not a connection URL: ${redactUrl(url)}`, { cause });
  }
  if (tls.mode !== 'disable' && parsed.searchParams.get('sslmode') === 'disable') {
    throw new CrmMigrateError(
      'E_PLAN',
      `${redactUrl(url)} says sslmode=disable, but the plan's tls demands ${tls.mode}`,
      { hint: "remove sslmode from the URL: the plan's tls: decides" },
    );
  }
  for (const name of ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl']) parsed.searchParams.delete(name);
  const ca = readCa(tls);
  const ssl: pg.ClientConfig['ssl'] =
    tls.mode === 'disable'
      ? false
      : tls.mode === 'require'
        ? { rejectUnauthorized: false }
        : tls.mode === 'verify-ca'
          ? { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined }
          : { rejectUnauthorized: true, ca };
  return { url: parsed.toString(), ssl };
}

/** What to do about a failed TLS handshake, by Node's error code. */
function tlsHint(error: unknown): string | undefined {
  const code = (error as { code?: string }).code ?? '';
  if (
    [
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'CERT_SIGNATURE_FAILURE',
    ].includes(code)
  ) {
    return "the server's certificate is not signed by a trusted authority: set tls.ca to the CA that signed it";
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return "the server's certificate is not issued for this host name: connect by the name it was issued for, or use tls mode verify-ca";
  if (code === 'CERT_HAS_EXPIRED') return "the server's certificate has expired";
  if (/does not support SSL/i.test((error as Error).message ?? ''))
    return 'the server has TLS turned off (ssl = off): turn it on, or set tls mode disable if the network is trusted';
  if ((error as { code?: string }).code === '28000' && /no encryption/.test((error as Error).message ?? ''))
    return 'the server accepts only TLS connections: set tls: { mode: require } or stronger';
  return undefined;
}

export async function connect(target: PgEndpoint): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: target.url,
    ...(target.ssl === undefined ? {} : { ssl: target.ssl }),
  });
  try {
    await client.connect();
    await client.query(SESSION);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new CrmMigrateError('E_CONNECT', `cannot connect to ${redactUrl(target.url)}: ${describePgError(error)}`, {
      cause: error,
      hint: tlsHint(error),
    });
  }
  // An idle client whose server goes away emits 'error'; the next query reports it, so don't crash here.
  client.on('error', () => undefined);
  return client;
}

/**
 * A data error's message without the value it quotes: cut before the colon that precedes the value ("invalid
 * input syntax for type integer: …"), and a quoted value in the middle ('value "1e400" is out of range for type
 * real') replaced by an ellipsis; quoted names after type, column, relation or constraint stay.
 */
function dataErrorText(message: string): string {
  const head = message.split(':')[0] ?? '';
  return head.replace(/"[^"]*"/g, (quoted, offset: number, all: string) =>
    /(type|column|relation|enum|constraint|table)\s*$/i.test(all.slice(0, offset)) ? quoted : '…',
  );
}

/**
 * A PostgreSQL error as safe text: SQLSTATE, message, constraint and column. Messages of data errors
 * (class 22: "invalid input syntax for type integer: …") end in the offending value, so that tail is cut;
 * `detail` and `where` are never used — they quote row values.
 */
export function describePgError(error: unknown): string {
  const e = error as Partial<pg.DatabaseError> & Error;
  if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return e.message ?? String(error);
  const message = e.code.startsWith('P0')
    ? 'a trigger or function raised an exception (its text is not shown: it may quote values)'
    : e.code.startsWith('22')
      ? dataErrorText(e.message ?? '')
      : (e.message ?? '');
  const context = [
    e.table && `table ${e.table}`,
    e.column && `column ${e.column}`,
    e.constraint && `constraint ${e.constraint}`,
  ].filter(Boolean);
  return `${message} [${e.code}${context.length > 0 ? `; ${context.join(', ')}` : ''}]`;
}

export function pgFailure(code: ErrorCode, what: string, error: unknown): CrmMigrateError {
  if (error instanceof CrmMigrateError) return error;
  return new CrmMigrateError(code, `${what}: ${describePgError(error)}`, { cause: error });
}
