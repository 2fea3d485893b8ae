import { describe, expect, it } from 'vitest';
import { shiftBack } from '../src/engine/strategies/cursor.js';
import { compareCodePoints, compareKeys } from '../src/key-order.js';
import { parseDuration } from '../src/plan/duration.js';

describe('lookback: a cursor value moved back, in its own layout', () => {
  it.each([
    [42, { units: 10 }, 32],
    ['9007199254740993', { units: 3 }, '9007199254740990'],
    ['2026-01-01 10:00:00', { ms: 5 * 60_000 }, '2026-01-01 09:55:00'],
    ['2026-01-01T00:01:00Z', { ms: 2 * 60_000 }, '2025-12-31T23:59:00Z'],
    ['2026-03-01 00:00:00.123456+00', { ms: 1000 }, '2026-02-28 23:59:59.123+00'],
    ['2024-03-01 00:30:00+05:30', { ms: 3_600_000 }, '2024-02-29 23:30:00+05:30'],
    ['2026-01-02', { ms: 86_400_000 }, '2026-01-01'],
    ['2026-01-01 10:00', { ms: 60_000 }, '2026-01-01 09:59'],
  ] as const)('%s less %j is %s', (value, lookback, expected) => {
    expect(shiftBack(value, lookback, 'e')).toBe(expected);
  });

  it.each([
    ['yesterday', { ms: 1000 }],
    [3, { ms: 1000 }],
    ['2026-01-01', { units: 1 }],
  ] as const)('refuses %s with %j, saying why', (value, lookback) => {
    expect(() => shiftBack(value, lookback, 'entity customers')).toThrow(
      /entity customers: the checkpoint's cursor value is not a/,
    );
  });
});

describe('key order', () => {
  it('compares text by code point, as UTF-8 bytes sort', () => {
    const words = ['b', 'B', 'a', '', 'é', '😀', '\uFFFD', '\uE000', 'aa', '10', '9'];
    const byBytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...words].sort(compareCodePoints)).toEqual(byBytes);
  });

  it('puts NULL first, numbers before text, numbers by value across number and bigint', () => {
    expect(compareKeys([null], [1])).toBeLessThan(0);
    expect(compareKeys([2], ['1'])).toBeLessThan(0);
    expect(compareKeys([9007199254740993n], [9007199254740992])).toBeGreaterThan(0);
    expect(compareKeys([1, 'b'], [1, 'a'])).toBeGreaterThan(0);
    expect(compareKeys([1, 'a'], [1, 'a'])).toBe(0);
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    [10, 10_000],
    ['10', 10_000],
    ['soon', undefined],
    ['-1s', undefined],
    ['5 minutes', undefined],
    ['', undefined],
  ] as const)('%s is %s ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});
