/**
 * A cache of per-text verdicts where nearly every text gets the one answer that changes nothing (a domain
 * spelled right): those are kept as a 64-bit hash in a flat Int32Array, the rest with their text.
 *
 * Why not a Map: on realistic data (thousands of company domains) a Map lookup cost ~330 ns a row inside a
 * load against ~40 ns for the same lookup repeated at once: the bucket, the entry and the key string each
 * miss the CPU cache (the databases share its cores, and each scavenge sweeps it). Here one probe reads one
 * 16-byte slot.
 *
 * Why that is safe: a slot answers `usual` on its hash alone, so another text with the same 64-bit hash would be
 * told `usual` too: left as written, never changed (about one chance in 10^9 at the table's limit of 100,000
 * texts). Any other verdict is kept with its text and given only to that text.
 */
export class VerdictTable<V> {
  /** Per slot: two hash words, the verdict (0: empty, 1: usual, n: `others[n - 2]`), and padding. */
  #slots: Int32Array;
  #mask: number;
  #size = 0;
  #others: { text: string; verdict: V }[] = [];
  #h1 = 0;
  #h2 = 0;

  constructor(
    private readonly usual: V,
    private readonly limit: number,
    slots = 8192,
  ) {
    this.#slots = new Int32Array(slots * 4);
    this.#mask = slots - 1;
  }

  get size(): number {
    return this.#size;
  }

  get(text: string): V | undefined {
    this.#hash(text);
    const slots = this.#slots;
    for (let i = this.#h1 & this.#mask; ; i = (i + 1) & this.#mask) {
      const at = i * 4;
      const code = slots[at + 2];
      if (code === 0) return undefined;
      if (slots[at] === this.#h1 && slots[at + 1] === this.#h2) {
        if (code === 1) return this.usual;
        const other = this.#others[code - 2];
        return other?.text === text ? other.verdict : undefined;
      }
    }
  }

  /** Remembers a verdict; when the table is full it starts over. */
  set(text: string, verdict: V): void {
    if (this.#size >= this.limit || this.#others.length >= this.limit) this.clear();
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#grow();
    this.#hash(text);
    let code = 1;
    if (verdict !== this.usual) {
      // A copy that holds no reference to a larger string (a value sliced from a decoded chunk would keep it alive).
      this.#others.push({ text: (' ' + text).slice(1), verdict });
      code = this.#others.length + 1;
    }
    this.#place(this.#h1, this.#h2, code);
  }

  clear(): void {
    this.#slots.fill(0);
    this.#size = 0;
    this.#others = [];
  }

  /** Stores at the first free slot, or over the slot of the same hash (a text whose verdict was not its own). */
  #place(h1: number, h2: number, code: number): void {
    const slots = this.#slots;
    for (let i = h1 & this.#mask; ; i = (i + 1) & this.#mask) {
      const at = i * 4;
      const free = slots[at + 2] === 0;
      if (free || (slots[at] === h1 && slots[at + 1] === h2)) {
        slots[at] = h1;
        slots[at + 1] = h2;
        slots[at + 2] = code;
        if (free) this.#size += 1;
        return;
      }
    }
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Int32Array(old.length * 2);
    this.#mask = (this.#mask + 1) * 2 - 1;
    this.#size = 0;
    for (let at = 0; at < old.length; at += 4) if (old[at + 2] !== 0) this.#place(old[at], old[at + 1], old[at + 2]);
  }

  /** Two 32-bit hashes of the text's UTF-16 units (FNV-1a and a multiply-xorshift), each finished by murmur3's fmix32. */
  #hash(text: string): void {
    let a = 0x811c9dc5;
    let b = text.length;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b + c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.#h1 = fmix32(a);
    this.#h2 = fmix32(b ^ 0x9e3779b9);
  }
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
