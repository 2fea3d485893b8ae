import pgCopy, { type CopyToStreamQuery } from 'pg-copy-streams';

/** What this module uses of pg-copy-streams' COPY TO query beyond its typings (pinned: 7.0.0). */
interface CopyToInternals {
  /** Bytes not yet parsed: on detaching, they are handed back to node-postgres' own parser. */
  readonly _buffer: { push(bytes: Buffer): void };
  _detach(): void;
  _cleanup(): void;
}
type CopyToBase = new (text: string) => CopyToStreamQuery & CopyToInternals;
const CopyToQuery = Object.getPrototypeOf(pgCopy.to('')).constructor as CopyToBase;

const HEADER = 5;
const COPY_DATA = 0x64;
const ERROR_RESPONSE = 0x45;
/** Messages PostgreSQL may send inside COPY out mode; any other (CopyDone) ends it. */
const IN_COPY = new Set([0x48, COPY_DATA, 0x53, 0x4e, 0x41]);

/**
 * `COPY … TO STDOUT` as a stream of the rows' bytes: pg-copy-streams' query (its hand-over of node-postgres'
 * connection, errors and completion are kept) with its message parser replaced. PostgreSQL sends each row as a
 * CopyData message of its own; the library's parser slices a Buffer for every message and concatenates them
 * again. This one moves each message's content left over the headers, inside the chunk the socket gave, and
 * passes on one piece per chunk: ~570–595 → 459–507 ms of CPU to read and decode 1,000,000 customer rows
 * (BENCHMARKS.md, "Three more cuts").
 */
export class CopyOutStream extends CopyToQuery {
  /** A message header cut by a chunk's end, as far as it came. */
  readonly #header = Buffer.alloc(HEADER);
  #headerLength = 0;
  /** The message being read: its code and how many bytes of its content are still to come. */
  #code = 0;
  #remaining = 0;

  _parse(chunk: Buffer): boolean | undefined {
    const end = chunk.length;
    let pos = 0;
    let out = 0;
    let done = false;
    while (pos < end) {
      if (this.#remaining === 0) {
        // The next message's header: in this chunk (`at` is where), or cut by the last chunk's end.
        let at = -1;
        let code: number;
        if (this.#headerLength === 0 && end - pos >= HEADER) {
          at = pos;
          code = chunk[pos] ?? 0;
          this.#remaining = chunk.readUInt32BE(pos + 1) - 4;
          pos += HEADER;
        } else {
          const take = Math.min(HEADER - this.#headerLength, end - pos);
          chunk.copy(this.#header, this.#headerLength, pos, pos + take);
          this.#headerLength += take;
          pos += take;
          if (this.#headerLength < HEADER) break;
          this.#headerLength = 0;
          code = this.#header[0] ?? 0;
          this.#remaining = this.#header.readUInt32BE(1) - 4;
        }
        if (code === ERROR_RESPONSE) {
          // node-postgres reads the error, from its header on, and fails the query with it.
          this._buffer.push(at >= 0 ? chunk.subarray(at) : Buffer.concat([this.#header, chunk.subarray(pos)]));
          this._detach();
          return undefined;
        }
        this.#code = code;
      }
      const take = Math.min(this.#remaining, end - pos);
      if (this.#code === COPY_DATA && take > 0) {
        // In place: the chunk is the socket's read, this stream's alone, and `out` never passes `pos`.
        if (out !== pos) chunk.copyWithin(out, pos, pos + take);
        out += take;
      }
      pos += take;
      this.#remaining -= take;
      if (this.#remaining === 0 && !IN_COPY.has(this.#code)) {
        done = true;
        break;
      }
    }
    const drained = out > 0 ? this.push(chunk.subarray(0, out)) : true;
    if (done) {
      // What follows CopyDone (CommandComplete, ReadyForQuery) is node-postgres' to read.
      if (pos < end) this._buffer.push(chunk.subarray(pos));
      this._detach();
      this.push(null);
      this._cleanup();
    }
    return drained;
  }
}
