import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PlanIssue } from '../errors.js';

const REFERENCE = /\$\{(env|file):([^}]+)\}/g;

export interface ReferenceContext {
  readonly env: NodeJS.ProcessEnv;
  /** `${file:PATH}` is read from here when PATH is relative: the plan file's folder. */
  readonly baseDir: string;
}

/**
 * Replaces `${env:NAME}` and `${file:PATH}` (the file's text, without its final line break: a mounted secret,
 * a password file) in every string of the plan. An unset variable or an unreadable file is an issue that
 * names it and where it is used; a value is never echoed.
 */
export function resolveReferences(
  data: unknown,
  context: ReferenceContext,
  issues: PlanIssue[],
  at: (string | number)[] = [],
  ancestors: object[] = [],
): unknown {
  if (data !== null && typeof data === 'object') {
    // YAML aliases can make a node contain itself (`&a [*a]`): a plan is a tree, so that is refused.
    if (ancestors.includes(data)) {
      issues.push({
        severity: 'error',
        path: at,
        message: 'this part of the plan contains itself (a YAML alias refers to one of its own parents)',
      });
      return null;
    }
    const inner = [...ancestors, data];
    if (Array.isArray(data)) return data.map((item, i) => resolveReferences(item, context, issues, [...at, i], inner));
    return Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, resolveReferences(v, context, issues, [...at, k], inner)]),
    );
  }
  if (typeof data === 'string') {
    if (!REFERENCE.test(data)) return data;
    REFERENCE.lastIndex = 0;
    // A secret anywhere else would be echoed by the first message that names the value (a table, a column).
    if (!holdsSecrets(at)) {
      issues.push({
        severity: 'error',
        path: at,
        message: '${env:…} and ${file:…} are for connection URLs, tls and keys only',
        hint: 'write the name itself here',
      });
      return data;
    }
    const userinfo = userinfoSpan(data);
    return data.replace(REFERENCE, (whole, kind: string, name: string, offset: number) => {
      const value = resolved(kind, name, whole, context, issues, at);
      // A password with @, /, # or ? would end the URL's user part early: it is percent-encoded there.
      return value !== whole && userinfo && offset >= userinfo[0] && offset < userinfo[1]
        ? encodeURIComponent(value)
        : value;
    });
  }
  return data;
}

/** The places of a plan that may hold a reference: connection URLs, their TLS files, protection keys. */
function holdsSecrets(at: readonly (string | number)[]): boolean {
  const [top] = at;
  return (
    top === 'source' || top === 'target' || top === 'sources' || top === 'targets' || top === 'keys' || top === 'tls'
  );
}

/** Where a URL's user part (`user:password`) is in its text as written, if it has one. */
function userinfoSpan(url: string): [number, number] | undefined {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme) return undefined;
  const start = scheme[0].length;
  const at = url.indexOf('@', start);
  const slash = url.indexOf('/', start);
  return at >= 0 && (slash < 0 || at < slash) ? [start, at] : undefined;
}

function resolved(
  kind: string,
  name: string,
  whole: string,
  context: ReferenceContext,
  issues: PlanIssue[],
  at: (string | number)[],
): string {
  if (kind === 'env') {
    const value = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? context.env[name] : undefined;
    if (value === undefined)
      issues.push({
        severity: 'error',
        path: at,
        message: `environment variable ${name} is not set`,
        hint: `export ${name}=… before running`,
      });
    return value ?? whole;
  }
  const file = path.resolve(context.baseDir, name);
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    issues.push({
      severity: 'error',
      path: at,
      message: `cannot read secret file ${name}${code === 'ENOENT' ? ': no such file' : code === 'EACCES' ? ': permission denied' : ''}`,
    });
    return whole;
  }
}

/** The password part of a connection URL as written in the plan, if it has one. */
function writtenPassword(url: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]*)@/i.exec(url)?.[1];
}

/**
 * A password written into a URL in plain text, rather than through `${env:…}` or `${file:…}`: plans are
 * committed, mailed and pasted, so such a plan is refused unless the user says otherwise.
 */
export function plaintextSecretIssues(data: unknown): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const plan = (data ?? {}) as Record<string, unknown>;
  const namedIn = (side: 'sources' | 'targets') => {
    const urls = plan[side];
    return urls !== null && typeof urls === 'object'
      ? Object.entries(urls as Record<string, unknown>).map(([n, u]) => [`${side}.${n}`, u] as const)
      : [];
  };
  const named = [...namedIn('sources'), ...namedIn('targets')];
  for (const [key, url] of [['source', plan.source] as const, ['target', plan.target] as const, ...named]) {
    if (typeof url !== 'string') continue;
    const password = writtenPassword(url);
    if (password && password.replace(REFERENCE, '') !== '') {
      issues.push({
        severity: 'error',
        path: key.split('.'),
        message: `the ${key} URL holds a password in plain text`,
        hint: 'write it as ${env:NAME} or ${file:PATH}, or pass --allow-plaintext-secrets',
      });
    }
  }
  return issues;
}

/** A protection key written into the plan itself: refused always (no flag), a key in a plan is no key. */
export function literalKeyIssues(data: unknown): PlanIssue[] {
  const keys = ((data ?? {}) as { keys?: unknown }).keys;
  if (keys === null || typeof keys !== 'object') return [];
  return Object.entries(keys as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'string' && !/^\$\{(env|file):[^}]+\}$/.test(v.trim()))
    .map(([name]) => ({
      severity: 'error' as const,
      path: ['keys', name],
      message: `key "${name}" is written in the plan`,
      hint: `give it by reference: ${name}: \${env:NAME} or \${file:PATH}`,
    }));
}
