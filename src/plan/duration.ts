/** `30s`, `5m`, `2h`, `1d`, `1500ms` (or a bare number of seconds) as milliseconds; undefined when it is none of those. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 's').toLowerCase();
  const factor: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(m[1]) * (factor[unit] ?? 1000);
}

export const DURATION_HINT = 'write a duration such as 30s, 5m, 2h or 1d';
