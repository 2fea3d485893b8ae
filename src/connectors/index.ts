import { CrmMigrateError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { Connector, OpenOptions, Source, Target } from './contract.js';
import { schemeOf } from './url.js';

interface ConnectorEntry {
  readonly schemes: readonly string[];
  load(): Promise<Connector>;
}

/**
 * Every connector the tool knows, by URL scheme. The one place that lists them. Each is imported when a URL
 * first names it: their drivers (mysql2, better-sqlite3, pg, csv-parse…) took a third of a second of every
 * command's start-up, and a run needs one or two of them.
 */
const CONNECTORS: readonly ConnectorEntry[] = [
  { schemes: ['sqlite'], load: async () => (await import('./sqlite/sqlite-connector.js')).sqliteConnector },
  {
    schemes: ['postgres', 'postgresql'],
    load: async () => (await import('./postgres/postgres-connector.js')).postgresConnector,
  },
  { schemes: ['mysql', 'mariadb'], load: async () => (await import('./mysql/mysql-connector.js')).mysqlConnector },
  { schemes: ['csv'], load: async () => (await import('./csv/csv-connector.js')).csvConnector },
  { schemes: ['jsonl'], load: async () => (await import('./jsonl/jsonl-connector.js')).jsonlConnector },
];

const SCHEMES: readonly string[] = CONNECTORS.flatMap((c) => c.schemes);

function connectorFor(url: string): ConnectorEntry | undefined {
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

async function connectorOrThrow(url: string): Promise<Connector> {
  const connector = connectorFor(url);
  if (!connector) {
    const unknown = unknownScheme(url);
    throw new CrmMigrateError('E_PLAN', unknown?.message ?? 'unknown URL', { hint: unknown?.hint });
  }
  return connector.load();
}

export const openSource = async (url: string, options: OpenOptions): Promise<Source> =>
  (await connectorOrThrow(url)).openSource(url, options);
export const openTarget = async (url: string, options: OpenOptions): Promise<Target> =>
  (await connectorOrThrow(url)).openTarget(url, options);
export { redactUrl } from './url.js';
