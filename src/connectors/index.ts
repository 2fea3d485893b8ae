import { CrmMigrateError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { Connector, OpenOptions, Source, Target } from './contract.js';
import { csvConnector } from './csv/csv-connector.js';
import { jsonlConnector } from './jsonl/jsonl-connector.js';
import { mysqlConnector } from './mysql/mysql-connector.js';
import { postgresConnector } from './postgres/postgres-connector.js';
import { sqliteConnector } from './sqlite/sqlite-connector.js';
import { schemeOf } from './url.js';

/** Every connector the tool knows, by URL scheme. The one place that lists them. */
const CONNECTORS: readonly Connector[] = [
  sqliteConnector,
  postgresConnector,
  mysqlConnector,
  csvConnector,
  jsonlConnector,
];

export const SCHEMES: readonly string[] = CONNECTORS.flatMap((c) => c.schemes);

export function connectorFor(url: string): Connector | undefined {
  const scheme = schemeOf(url);
  return CONNECTORS.find((c) => c.schemes.includes(scheme));
}

/** Why a URL names no connector, or undefined when it does. */
export function unknownScheme(url: string): { message: string; hint: string } | undefined {
  if (connectorFor(url)) return undefined;
  const scheme = schemeOf(url);
  return {
    message: scheme ? `unknown database kind "${scheme}:"` : 'not a connection URL',
    hint: (scheme && didYouMean(scheme, SCHEMES)) || `use one of: ${SCHEMES.map((s) => `${s}:…`).join(', ')}`,
  };
}

function connectorOrThrow(url: string): Connector {
  const connector = connectorFor(url);
  if (!connector) throw new CrmMigrateError('E_PLAN', unknownScheme(url)?.message ?? 'unknown URL');
  return connector;
}

export const openSource = (url: string, options: OpenOptions): Promise<Source> =>
  connectorOrThrow(url).openSource(url, options);
export const openTarget = (url: string, options: OpenOptions): Promise<Target> =>
  connectorOrThrow(url).openTarget(url, options);
export { redactUrl } from './url.js';
