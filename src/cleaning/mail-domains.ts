import emailSpellChecker from '@zootools/email-spell-checker';
import { parse as parseDomain } from 'tldts';
import { editDistance } from '../dedupe/edit-distance.js';
import { VerdictTable } from './verdict-table.js';

/**
 * What the email rule may say about an address's domain without ever damaging a real one. The spell checker
 * (@zootools/email-spell-checker) suggests the nearest popular domain for anything a little off, real or not:
 * ibm.com → aim.com, ox.ac.uk → ox.co.uk, yahoo.co.in → yahoo.co.il, uol.com.br → uol.com. Its suggestion is
 * taken only when the domain cannot be a real one (its suffix is on no ICANN list: gmail.con), or when it is
 * one edit from a major mail provider that it is not itself (gmial.com, gmail.co).
 */

/**
 * Major mail providers: what a one-edit typo is taken to mean. A domain here is itself never corrected
 * (mail.com and email.com are one edit from gmail.com, ymail.com from gmail.com). Global providers and the
 * big national ones; a provider missing here is left alone, never rewritten.
 */
const MAJOR_PROVIDERS = new Set([
  ...emailSpellChecker.POPULAR_DOMAINS,
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'ymail.com',
  'rocketmail.com',
  'hotmail.com',
  'outlook.com',
  'live.com',
  'msn.com',
  'aol.com',
  'aim.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'protonmail.com',
  'proton.me',
  'pm.me',
  'gmx.com',
  'gmx.de',
  'gmx.net',
  'gmx.at',
  'web.de',
  't-online.de',
  'mail.com',
  'email.com',
  'zoho.com',
  'yandex.com',
  'yandex.ru',
  'mail.ru',
  'qq.com',
  '163.com',
  '126.com',
  'naver.com',
  'daum.net',
  'comcast.net',
  'verizon.net',
  'att.net',
  'sbcglobal.net',
  'cox.net',
  'charter.net',
  'earthlink.net',
  'btinternet.com',
  'sky.com',
  'orange.fr',
  'free.fr',
  'laposte.net',
  'sfr.fr',
  'libero.it',
  'virgilio.it',
  'hotmail.co.uk',
  'hotmail.fr',
  'hotmail.de',
  'hotmail.it',
  'hotmail.es',
  'live.co.uk',
  'live.fr',
  'yahoo.co.uk',
  'yahoo.fr',
  'yahoo.de',
  'yahoo.es',
  'yahoo.it',
  'yahoo.co.in',
  'yahoo.co.jp',
  'yahoo.com.br',
  'uol.com.br',
  'bol.com.br',
  'terra.com.br',
  'ig.com.br',
  'rediffmail.com',
  'seznam.cz',
  'wp.pl',
  'o2.pl',
  'interia.pl',
  'bigpond.com',
  'optusnet.com.au',
  'shaw.ca',
  'rogers.com',
  'sympatico.ca',
  'telus.net',
  'xtra.co.nz',
]);

/**
 * Top-level names no public mailbox lives under (RFC 2606 and RFC 6761 special-use names, mDNS's .local, Tor's
 * .onion): an address there is a placeholder the old CRM was given, not a customer's. (example.com and its
 * siblings are reserved too, but they are what test data everywhere uses: left to the plan.)
 */
const SPECIAL_USE_SUFFIXES = new Set(['test', 'invalid', 'localhost', 'example', 'onion', 'local']);

/** A major mail provider's domain (gmail.com, gmx.de): one of the providers' many customers, not one company. */
export function isMailProvider(domain: string): boolean {
  return MAJOR_PROVIDERS.has(domain);
}

function isPlaceholderDomain(domain: string): boolean {
  return SPECIAL_USE_SUFFIXES.has(domain.slice(domain.lastIndexOf('.') + 1));
}

/** Whether mail could be delivered to this domain as spelled: a registrable name under an ICANN suffix. */
export function isPlausibleDomain(domain: string): boolean {
  const parsed = parseDomain(domain, { allowPrivateDomains: false });
  return parsed.isIcann === true && parsed.domain !== null && !parsed.isIp;
}

/** Domains seen per process before the cache starts over; real CRMs have far fewer distinct ones. */
const DOMAIN_CACHE_LIMIT = 100_000;

/** What the email rule needs to know of a domain as written: whether it is a placeholder, and its correction. */
export interface DomainVerdict {
  readonly placeholder: boolean;
  /** The domain a mistyped one was meant to be, or null when it may not be touched. */
  readonly correction: string | null;
}
const FINE: DomainVerdict = Object.freeze({ placeholder: false, correction: null });
const verdicts = new VerdictTable<DomainVerdict>(FINE, DOMAIN_CACHE_LIMIT);
const PLACEHOLDER: DomainVerdict = Object.freeze({ placeholder: true, correction: null });

/**
 * One lookup per address, cached per domain: the spell checker computes string distances against its whole
 * list (uncached, 60 % of a full load's CPU time), and a second lookup for the placeholder test cost ~40 ns
 * a row.
 */
export function domainVerdict(domain: string): DomainVerdict {
  let verdict = verdicts.get(domain);
  if (verdict === undefined) {
    const correction = isPlaceholderDomain(domain) ? undefined : safeCorrection(domain);
    verdict = correction === undefined ? PLACEHOLDER : correction === null ? FINE : { placeholder: false, correction };
    verdicts.set(domain, verdict);
  }
  return verdict;
}

/** The domain a mistyped one was meant to be, or null when it may not be touched. */
export function domainCorrection(domain: string): string | null {
  return domainVerdict(domain).correction;
}

/** Whether a major provider is one slip from the domain: the only correction a plausible domain may get. */
function nearMajorProvider(domain: string): boolean {
  for (const provider of MAJOR_PROVIDERS) if (editDistance(domain, provider, 1) <= 1) return true;
  return false;
}

function safeCorrection(domain: string): string | null {
  if (MAJOR_PROVIDERS.has(domain)) return null;
  // A domain that can receive mail as spelled is someone's: corrected only when it is one slip from a major
  // provider. Without one near, the answer is null whatever the spell checker says, so it is not asked: it
  // measures distances to its whole list (18 µs a domain; a B2B CRM holds a company domain per few contacts).
  const plausible = isPlausibleDomain(domain);
  if (plausible && !nearMajorProvider(domain)) return null;
  const found = emailSpellChecker.run({ email: `x@${domain}` });
  const suggestion = found && found.domain !== domain ? found.domain : null;
  if (suggestion === null) return null;
  if (plausible) return MAJOR_PROVIDERS.has(suggestion) && editDistance(domain, suggestion, 1) <= 1 ? suggestion : null;
  // One that cannot: its suffix is mistyped (comcast.nt → comcast.net, the name kept), or it is a major
  // provider mistyped twice (hotmial.con). Never another party's name for a name of its own.
  if (MAJOR_PROVIDERS.has(suggestion)) return suggestion;
  return nameOf(suggestion) === domain.slice(0, domain.lastIndexOf('.')) ? suggestion : null;
}

/** The domain without its public suffix: `comcast` of comcast.net, `mail.example` of mail.example.co.uk. */
function nameOf(domain: string): string {
  const suffix = parseDomain(domain, { allowPrivateDomains: false }).publicSuffix ?? '';
  return domain.slice(0, Math.max(0, domain.length - suffix.length - 1));
}
