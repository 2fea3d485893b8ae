/** How much quarantine a run may leave before it counts as failed: a number of rows, or a share of those read. */
export type QuarantineLimit = { readonly rows: number } | { readonly share: number };

export const QUARANTINE_LIMIT_HINT = 'write a number of rows (100) or a percentage of the rows read (5%)';

/** `100` or `"100"`: rows; `"5%"`: a share of the rows read; undefined when it is neither. */
export function parseQuarantineLimit(value: string | number): QuarantineLimit | undefined {
  const text = String(value).trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  if (percent) {
    const share = Number(percent[1]) / 100;
    return share <= 1 ? { share } : undefined;
  }
  return /^\d+$/.test(text) ? { rows: Number(text) } : undefined;
}

/** Why a run's quarantine is over the limit, or undefined when it is within it. */
export function quarantineOverLimit(
  counts: Iterable<{ readonly read: number; readonly quarantined: number }>,
  limit: QuarantineLimit,
): string | undefined {
  let read = 0;
  let quarantined = 0;
  for (const c of counts) {
    read += c.read;
    quarantined += c.quarantined;
  }
  if ('rows' in limit)
    return quarantined > limit.rows
      ? `${quarantined} ${quarantined === 1 ? 'row was' : 'rows were'} quarantined, more than the limit of ${limit.rows}`
      : undefined;
  if (read === 0 || quarantined / read <= limit.share) return undefined;
  const pct = (n: number) => `${Number((n * 100).toFixed(2))}%`;
  return `${pct(quarantined / read)} of the rows read were quarantined (${quarantined} of ${read}), more than the limit of ${pct(limit.share)}`;
}
