import type { PlanIssue } from '../errors.js';

const REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${env:NAME}` in every string of the plan. An unset variable is an issue that names the
 * variable and where it is used; a value is never echoed.
 */
export function resolveEnv(data: unknown, env: NodeJS.ProcessEnv, issues: PlanIssue[], path: (string | number)[] = []): unknown {
  if (typeof data === 'string') {
    return data.replace(REFERENCE, (whole, name: string) => {
      const value = env[name];
      if (value === undefined) {
        issues.push({ severity: 'error', path, message: `environment variable ${name} is not set`, hint: `export ${name}=… before running` });
        return whole;
      }
      return value;
    });
  }
  if (Array.isArray(data)) return data.map((item, i) => resolveEnv(item, env, issues, [...path, i]));
  if (data !== null && typeof data === 'object') {
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, resolveEnv(v, env, issues, [...path, k])]));
  }
  return data;
}
