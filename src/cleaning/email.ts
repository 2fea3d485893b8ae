import { domainToASCII, domainToUnicode } from 'node:url';
// validator's one function, not its index: the index requires all 114 of its modules at every start-up.
import isEmailModule from 'validator/lib/isEmail.js';
import { z } from 'zod';
import { builtinStep, invalid, ok, type StepDefinition, type StepIssue } from '../mapping/steps.js';
import { fixed, textRule } from './rule-helpers.js';
import { domainCorrection, domainVerdict } from './mail-domains.js';
import { isCommonEmail } from './common-email.js';
import { requireOnDemand } from '../require-on-demand.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

const isEmail = isEmailModule.default;

export const EMAIL_OPTIONS = { allow_display_name: false, require_tld: true, allow_ip_domain: false } as const;

export function isEmailAddress(address: string): boolean {
  return isCommonEmail(address) || isEmail(address, EMAIL_OPTIONS);
}

let disposable: ReadonlySet<string> | undefined;

/**
 * disposable-email-domains' list (121,570 domains, 2.4 MB of JSON), read by the first plan that asks for the
 * check: imported by every command, it took about a sixth of each one's start-up.
 */
function disposableDomains(): ReadonlySet<string> {
  return (disposable ??= new Set(requireOnDemand('disposable-email-domains') as string[]));
}

/**
 * What a CRM cannot send to, whatever RFC 5322 allows: a control character (CR, LF, BEL, DEL would be stored in
 * the value), a quoted local part (`"john smith"@…`), a local part with no letter or digit (one zero-width space).
 */
function mailboxProblem(address: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\u0000-\u001f\u007f-\u009f]/.test(address)) return 'control_character';
  const local = address.slice(0, address.lastIndexOf('@'));
  if (local.startsWith('"')) return 'quoted_local_part';
  if (/[\u200b-\u200f\u2060\ufeff]/.test(address) || !/[\p{L}\p{N}]/u.test(local)) return 'invalid_email';
  return undefined;
}

const EmailOptions = z
  .strictObject({
    /** `domains`: apply the suggested fix for a mistyped common domain (gmial.com → gmail.com); otherwise it is only flagged. */
    fix: z.enum(['domains']).optional(),
    /** A throwaway-mailbox domain: flagged, or treated as invalid. */
    disposable: z.enum(['flag', 'invalid']).optional(),
    /**
     * An internationalised domain, written one way: `ascii` (punycode, xn--bcher-kva.de, what mail servers and
     * most CRMs store) or `unicode` (bücher.de, what people read). Without it, a domain is kept as written.
     */
    idn: z.enum(['ascii', 'unicode']).optional(),
  })
  .optional();

/** Repairs that are safe because the result is checked again: a display name around the address, " at " and "@@" for "@". */
function repaired(address: string): { address: string; code: string } | undefined {
  // "Jane Doe <jane@acme.com>", as mail clients copy an address: the address, checked again; the name is not kept.
  const display = /^(?:"[^"]*"|[^"<>]*)\s*<([^<>\s]+@[^<>\s]+)>$/.exec(address);
  if (display?.[1]) return { address: display[1], code: 'display_name_removed' };
  if (address.includes('@@')) return { address: address.replace(/@{2,}/g, '@'), code: 'double_at_fixed' };
  if (!address.includes('@') && / at /.test(address))
    return { address: address.replace(/\s+at\s+/, '@').replace(/\s+/g, ''), code: 'at_fixed' };
  return undefined;
}

/**
 * An email address: trimmed and lower-cased, then checked by validator.js's isEmail (a maintained checker:
 * we do not hand-roll RFC 5322). An empty value is a missing address, not a bad one. The local part is
 * lower-cased too: providers treat it case-insensitively in practice, and de-duplication needs one form.
 */
STEPS.push(
  builtinStep({
    name: 'email',
    kind: 'clean',
    takes: 'one',
    output: 'text',
    options: EmailOptions,
    create: (options) => {
      const throwaway = options?.disposable ? disposableDomains() : undefined;
      return textRule((s) => {
        let address = s.trim().toLowerCase();
        if (address === '') return ok(null);
        const normalized = address !== s;
        let repair: ReturnType<typeof repaired>;
        // The common shape (nearly every address) holds nothing a CRM cannot send to; only what validator.js
        // let through beyond it needs the closer look. It is ASCII, so only an address outside it can hold a
        // broken surrogate half, on which validator.js (it URI-decodes parts of an address) would throw.
        let common = isCommonEmail(address);
        if (!common && !s.isWellFormed()) return invalid(s, 'invalid_email');
        if (!common && !isEmail(address, EMAIL_OPTIONS)) {
          repair = repaired(address);
          if (!repair || !isEmailAddress(repair.address)) return invalid(s, 'invalid_email');
          address = repair.address;
          common = isCommonEmail(address);
        }
        const problem = common ? undefined : mailboxProblem(address);
        if (problem) return invalid(s, problem);
        const at = address.lastIndexOf('@');
        let domain = address.slice(at + 1);
        const verdict = domainVerdict(domain);
        if (verdict.placeholder) return invalid(s, 'placeholder_domain');
        let idn: string | undefined;
        if (options?.idn) {
          // Node's WHATWG URL converter (UTS #46): an empty answer is a label that is no domain in either form.
          const converted = options.idn === 'ascii' ? domainToASCII(domain) : domainToUnicode(domain);
          if (converted === '') return invalid(s, 'invalid_email');
          if (converted !== domain)
            [domain, address, idn] = [
              converted,
              `${address.slice(0, at)}@${converted}`,
              options.idn === 'ascii' ? 'idn_encoded' : 'idn_decoded',
            ];
        }
        // A converted domain is a domain of its own, looked up again.
        const suggestion = idn ? domainCorrection(domain) : verdict.correction;
        // Most addresses pass with at most `normalized`: answered with shared issue lists, no allocation.
        if (!repair && suggestion === null && !options?.disposable && !idn) {
          return normalized ? { value: address, issues: fixed('normalized') } : ok(address);
        }
        const issues: StepIssue[] = normalized ? [{ code: 'normalized', kind: 'fixed' }] : [];
        if (idn) issues.push({ code: idn, kind: 'fixed' });
        if (repair) issues.push({ code: repair.code, kind: 'fixed' });
        if (suggestion !== null) {
          if (options?.fix === 'domains') {
            address = `${address.slice(0, at)}@${suggestion}`;
            issues.push({ code: 'domain_typo_fixed', kind: 'fixed' });
          } else {
            issues.push({ code: 'domain_typo', kind: 'flag' });
          }
        }
        if (options?.disposable && throwaway?.has(address.slice(address.lastIndexOf('@') + 1))) {
          if (options.disposable === 'invalid') return invalid(s, 'disposable_domain');
          issues.push({ code: 'disposable_domain', kind: 'flag' });
        }
        return issues.length === 0 ? ok(address) : { value: address, issues };
      });
    },
  }),
);
