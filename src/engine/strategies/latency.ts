/**
 * Latencies in buckets about 2% wide on a log scale (1 ms to hours), so a follow session of weeks keeps a
 * few hundred counters rather than a number per change, and still tells p50 from p99.
 */
export class LatencyHistogram {
  readonly #buckets = new Map<number, number>();
  #count = 0;

  add(ms: number): void {
    const bucket = Math.round(Math.log1p(Math.max(0, ms)) * 50);
    this.#buckets.set(bucket, (this.#buckets.get(bucket) ?? 0) + 1);
    this.#count += 1;
  }

  /** The latency below which this share of the changes came (0 with none). */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const wanted = Math.ceil(q * this.#count);
    let seen = 0;
    for (const bucket of [...this.#buckets.keys()].sort((a, b) => a - b)) {
      seen += this.#buckets.get(bucket) ?? 0;
      if (seen >= wanted) return Math.round(Math.expm1(bucket / 50));
    }
    return 0;
  }

  summary(): { p50Ms: number; p99Ms: number; count: number } {
    return { p50Ms: this.quantile(0.5), p99Ms: this.quantile(0.99), count: this.#count };
  }
}
