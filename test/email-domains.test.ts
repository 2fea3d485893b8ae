import { describe, expect, it } from 'vitest';
import '../src/mapping/compile.js';
import { findStep } from '../src/mapping/steps.js';
import type { Value } from '../src/values.js';

// The email rule against real-world addresses: a domain that receives mail as spelled is never rewritten or
// flagged as a typo, a slip of a major provider's name is, and what a CRM cannot send to is refused by name.

const rule = (options?: unknown) => {
  const def = findStep('email');
  if (!def) throw new Error('no email rule');
  return def.create(def.options ? def.options.parse(options) : undefined);
};
const fix = rule({ fix: 'domains' });
const flagOnly = rule();
const run = (r: ReturnType<typeof rule>, v: Value) => {
  const out = r(v);
  return [out.value, (out.issues ?? []).map((i) => `${i.kind}:${i.code}`)];
};

describe('email domains that are real are left alone', () => {
  // Each is a live mail domain one or two edits from a popular one (the spell checker's suggestion in a comment).
  it.each([
    'ibm.com', // aim.com
    'ox.ac.uk', // ox.co.uk
    'yahoo.co.in', // yahoo.co.il
    'uol.com.br', // uol.com
    'terra.com.br', // terra.com
    'bol.com.br', // bol.com
    'tsinghua.edu.cn', // tsinghua.edu
    'unsw.edu.au', // unsw.edu
    'nominet.org.uk', // nominet.org
    'mail.com',
    'email.com',
    'ymail.com',
    'gmx.de',
    'web.de',
    'me.com',
    'mac.com',
    'hotmail.co.uk',
    'yahoo.co.jp',
    'cs.stanford.edu',
    'mit.edu',
    'bbc.co.uk',
    'gov.uk',
  ])('%s', (domain) => {
    const address = `jane.doe@${domain}`;
    expect(run(fix, address)).toEqual([address, []]);
    expect(run(flagOnly, address)).toEqual([address, []]);
  });
});

describe('email domains mistyped from a major provider are fixed, or flagged when fixing is off', () => {
  it.each([
    ['gmial.com', 'gmail.com'],
    ['gmail.con', 'gmail.com'],
    ['gmail.co', 'gmail.com'],
    ['gmai.com', 'gmail.com'],
    ['gamil.com', 'gmail.com'],
    ['hotmial.com', 'hotmail.com'],
    ['gmail.cmo', 'gmail.com'],
    ['yaho.com', 'yahoo.com'],
    ['yahooo.com', 'yahoo.com'],
    ['outlok.com', 'outlook.com'],
    ['icloud.co', 'icloud.com'],
    ['comcast.nt', 'comcast.net'],
    ['aol.cm', 'aol.com'],
    ['verizon.ne', 'verizon.net'],
    ['sbcglobal.nt', 'sbcglobal.net'],
  ])('%s -> %s', (typo, meant) => {
    expect(run(fix, `jane@${typo}`)).toEqual([`jane@${meant}`, ['fixed:domain_typo_fixed']]);
    expect(run(flagOnly, `jane@${typo}`)).toEqual([`jane@${typo}`, ['flag:domain_typo']]);
  });
});

describe('addresses a CRM cannot send to', () => {
  it.each([
    ['"test"@iana.org', 'quoted_local_part'],
    ['"john smith"@gmail.com', 'quoted_local_part'],
    ['"a\\"b"@iana.org', 'quoted_local_part'],
    ['"\r\n"@iana.org', 'control_character'],
    ['"te\u0007st"@iana.org', 'control_character'],
    ['"te\u007fst"@iana.org', 'control_character'],
    ['\u200b@iana.org', 'invalid_email'],
    ['jo\u200bhn@gmail.com', 'invalid_email'],
    ['jane@shop.test', 'placeholder_domain'],
    ['jane@nowhere.invalid', 'placeholder_domain'],
    ['admin@host.localhost', 'placeholder_domain'],
    ['jane@acme.example', 'placeholder_domain'],
    ['jane@abcdefghijklmnop.onion', 'placeholder_domain'],
    ['printer@office.local', 'placeholder_domain'],
    ['jane@[192.168.0.1]', 'invalid_email'],
  ])('%j: %s', (address, code) => {
    const out = rule()(address);
    expect([out.value, out.issues?.map((i) => `${i.kind}:${i.code}`)]).toEqual([address, [`invalid:${code}`]]);
  });

  it.each([
    "o'brien@example.ie",
    'user+tag@gmail.com',
    'first.last@sub.domain.co.uk',
    'x@xn--bcher-kva.de',
    'a.b-c_d@e-f.com',
    '1234@qq.com',
    'info@müller.de',
  ])('still accepts %s', (address) => {
    expect(rule()(address).value).toBe(address);
  });
});

describe('an address in display-name form, as mail clients copy it', () => {
  it.each([
    ['Jane Doe <jane.doe@acme.com>', 'jane.doe@acme.com', ['fixed:normalized', 'fixed:display_name_removed']],
    ['"Doe, Jane" <Jane.Doe@Acme.com>', 'jane.doe@acme.com', ['fixed:normalized', 'fixed:display_name_removed']],
    ['<ann@gmail.com>', 'ann@gmail.com', ['fixed:display_name_removed']],
  ])('%j keeps the address: %s', (input, address, codes) => {
    const out = rule()(input);
    expect([out.value, out.issues?.map((i) => `${i.kind}:${i.code}`)]).toEqual([address, codes]);
  });

  it.each(['Jane Doe <not an address>', 'Jane <a@b.com> <c@d.com>'])('%j is still invalid', (input) => {
    expect(rule()(input).issues?.map((i) => i.code)).toEqual(['invalid_email']);
  });
});
