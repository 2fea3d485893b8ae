import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';

/**
 * UTF-8 decoding that keeps invalid bytes recognisable. Node's decoder turns them into U+FFFD, which
 * changes the value without a trace; here each byte that is not part of a valid sequence becomes a lone
 * low surrogate U+DC80–U+DCFF (Python's "surrogateescape"). A lone surrogate is not well-formed text, so a
 * value holding one is quarantined (`invalid_utf8`) when it is fitted to its column: never stored changed.
 *
 * Hand-rolled because no decoder on npm escapes bytes; valid input (nearly every value) still goes through
 * Node's native decoder after the native `isUtf8` check.
 */
export const ESCAPED_BYTE = /[\uDC80-\uDCFF]/;

const continuation = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;

/** The length of the UTF-8 sequence a lead byte starts, or 0 for a byte no valid sequence starts with. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Whether the sequence at `i` is valid UTF-8: no overlong form, no encoded surrogate, nothing above U+10FFFF. */
function validAt(bytes: Buffer, i: number, length: number): boolean {
  if (length === 0 || i + length > bytes.length) return false;
  if (length === 1) return true;
  const lead = bytes[i];
  const second = bytes[i + 1];
  const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
  const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
  if (second < low || second > high) return false;
  return (length < 3 || continuation(bytes[i + 2])) && (length < 4 || continuation(bytes[i + 3]));
}

/** Decodes bytes as UTF-8, each invalid byte as its escape (see ESCAPED_BYTE). */
export function decodeEscaped(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let text = '';
  let run = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes[i]);
    if (validAt(bytes, i, length)) {
      i += length;
      continue;
    }
    text += bytes.toString('utf8', run, i) + String.fromCharCode(0xdc00 + bytes[i]);
    i += 1;
    run = i;
  }
  return text + bytes.toString('utf8', run);
}

/**
 * A file's lines as text, invalid bytes escaped: split on LF as bytes (a multi-byte character never holds
 * the byte 0x0A), a CR before the LF dropped, so a CRLF line in an LF file reads as the others do.
 */
export async function* escapedLines(file: string): AsyncIterable<string> {
  let carry: Buffer | undefined;
  const line = (bytes: Buffer) => decodeEscaped(bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes);
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    const bytes = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let end = bytes.indexOf(0x0a); end !== -1; end = bytes.indexOf(0x0a, start)) {
      yield line(bytes.subarray(start, end));
      start = end + 1;
    }
    carry = start < bytes.length ? Buffer.from(bytes.subarray(start)) : undefined;
  }
  if (carry) yield line(carry);
}
