import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { CrmMigrateError } from '../errors.js';

/**
 * PII protection, per field: keyed hashing (HMAC-SHA-256: deterministic, so hashed values still join and
 * de-duplicate, and cannot be reversed or guessed without the key), masking, and AES-256-GCM encryption
 * (authenticated: a changed ciphertext fails to decrypt instead of yielding garbage). node:crypto, no
 * hand-rolled cryptography.
 */

/**
 * 32 key bytes from a key as the plan's reference resolves it: 64 hex characters are the bytes themselves;
 * anything else (a passphrase, base64) goes through HKDF-SHA-256, so every key is a full 256-bit key.
 */
export function keyBytes(material: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(material)) return Buffer.from(material, 'hex');
  return Buffer.from(hkdfSync('sha256', material, 'crm-migrate', 'field protection key', 32));
}

export function hashValue(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

const PREFIX = 'enc:v1:';

/** `enc:v1:` + base64(12-byte IV, 16-byte tag, ciphertext): text, so it fits any text column. */
export function encryptValue(key: Buffer, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function decryptValue(key: Buffer, sealed: string): string {
  if (!sealed.startsWith(PREFIX))
    throw new CrmMigrateError('E_USAGE', 'not a value crm-migrate encrypted (it starts with enc:v1:)');
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
  if (raw.length < 28) throw new CrmMigrateError('E_USAGE', 'the encrypted value is cut short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new CrmMigrateError(
      'E_USAGE',
      'the value does not decrypt with this key (wrong key, or the value was changed)',
    );
  }
}

export interface MaskOptions {
  /** Characters kept at the end (digits of a phone, an account number). */
  readonly keep_last?: number | undefined;
  /** Characters kept at the start (the initial of a name). */
  readonly keep_first?: number | undefined;
}

/**
 * Hides a value but keeps what people recognise: an email keeps its first letter and its domain
 * (`j***@example.com`), a value with digits keeps its last 4 digits and its punctuation
 * (`***-***-2671`), anything else its first letter (`J***`). Options choose the kept characters instead.
 */
export function maskValue(text: string, options: MaskOptions = {}): string {
  const chars = [...text];
  if (options.keep_last !== undefined || options.keep_first !== undefined) {
    const first = options.keep_first ?? 0;
    const last = options.keep_last ?? 0;
    if (first + last >= chars.length) return '*'.repeat(chars.length);
    return (
      chars.slice(0, first).join('') +
      '*'.repeat(chars.length - first - last) +
      chars.slice(chars.length - last).join('')
    );
  }
  const at = text.lastIndexOf('@');
  if (at > 0) return `${chars[0] ?? ''}***${text.slice(at)}`;
  const digits = chars.filter((c) => /\d/.test(c)).length;
  if (digits >= 4) {
    let keep = 4;
    const out: string[] = [];
    for (let i = chars.length - 1; i >= 0; i--) {
      const c = chars[i];
      if (/\d/.test(c)) out.push(keep-- > 0 ? c : '*');
      else out.push(/[\p{L}]/u.test(c) ? '*' : c);
    }
    return out.reverse().join('');
  }
  return chars.length === 0 ? '' : `${chars[0]}***`;
}
