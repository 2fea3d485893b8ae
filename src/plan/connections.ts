import { unknownScheme } from '../connectors/index.js';
import type { PlanIssue } from '../errors.js';

/**
 * A connection URL of a kind no connector reads or writes (`postgress://`, `sqllite:`), refused with the plan's
 * line and the kind it was likely meant to be, before anything connects. The message names the kind, never the
 * URL: it may hold a password.
 */
export function connectionIssues(input: {
  readonly source?: string | undefined;
  readonly sources?: Readonly<Record<string, string>> | undefined;
  readonly target?: string | undefined;
  readonly targets?: Readonly<Record<string, string>> | undefined;
}): PlanIssue[] {
  const urls = [
    ...one('source', input.source),
    ...named('sources', input.sources),
    ...one('target', input.target),
    ...named('targets', input.targets),
  ];
  return urls.flatMap(([path, url]) => {
    const unknown = unknownScheme(url);
    return unknown ? [{ severity: 'error' as const, path, ...unknown }] : [];
  });
}

type LocatedUrl = readonly [PlanIssue['path'], string];

const one = (key: string, url: string | undefined): LocatedUrl[] => (url === undefined ? [] : [[[key], url]]);

const named = (key: string, urls: Readonly<Record<string, string>> | undefined): LocatedUrl[] =>
  Object.entries(urls ?? {}).map(([name, url]) => [[key, name], url]);
