/** A date or timestamp written as text, in the layouts databases print: ISO 8601 with `T` or a space, optional zone. */
export const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:([ T])(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Minutes east of UTC for `Z`, `+02`, `-05:30`, `+0530`; 0 when there is no zone. */
export function zoneOffsetMinutes(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
}
