import { describe, expect, it } from 'vitest';
import { redactUrl } from '../src/connectors/url.js';
import { PlanError } from '../src/errors.js';
import { parsePlan } from '../src/plan/load.js';

// Secrets by reference: where a reference may stand, how a password with URL characters survives, and that a
// printed URL never shows part of one.

const plan = (target: string, from = 'customers') => `version: 1
source: "sqlite::memory:"
target: "${target}"
entities:
  customers:
    from: ${from}
    into: people
    key: id
    fields:
      id: id
`;

describe('references', () => {
  it.each(['Pa@ss', 'a/b', 'w#rd', 'q?x=1', 'p:c', '%41', 'plain'])(
    'keeps the password %j whole in a URL',
    (password) => {
      const parsed = parsePlan(plan('postgres://crm:${env:PW}@db.internal:5432/crm'), 'plan.yaml', {
        env: { PW: password },
      });
      const url = new URL(parsed.target);
      expect(decodeURIComponent(url.password)).toBe(password);
      expect(url.host).toBe('db.internal:5432');
      expect(url.pathname).toBe('/crm');
      expect(redactUrl(parsed.target)).toBe('postgres://crm:***@db.internal:5432/crm');
    },
  );

  it.each([
    ['postgres://u:Pa@ss/w#rd?x@h:5432/db', 'postgres://u:***@h:5432/db'],
    ['mysql://root@127.0.0.1:3306/db', 'mysql://root@127.0.0.1:3306/db'],
    ['postgres://u:p@h/db', 'postgres://u:***@h/db'],
  ])('redacts %s as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('refuses a reference outside connection URLs, tls and keys, without resolving it', () => {
    let error: unknown;
    try {
      parsePlan(plan('sqlite::memory:', '"${env:SECRET}"'), 'plan.yaml', { env: { SECRET: 'hunter2' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanError);
    expect((error as Error).message).toMatch(
      /plan\.yaml:6:\d+: error: entities\.customers\.from: \$\{env:…\} and \$\{file:…\} are for connection URLs, tls and keys only/,
    );
    expect((error as Error).message).not.toContain('hunter2');
  });
});
