import { describe, expect, it } from 'vitest';
import { throughputChart } from '../src/report/html.js';
import { LagSamples, renderFollowReport, type LagSample } from '../src/report/follow-report.js';

// The run report's throughput chart, drawn without a browser: its lines are what the page shows.

const polyline = (svg: string, series: string) =>
  new RegExp(`<polyline data-series="${series}"[^>]* points="([^"]*)"`).exec(svg)?.[1]?.trim().split(' ') ?? [];

describe('throughput chart', () => {
  it('draws a run of one batch per entity as a line, not an empty chart', () => {
    const svg = throughputChart([
      {
        name: 'companies',
        points: [
          [0, 0],
          [0.004, 12],
        ],
      },
      {
        name: 'contacts',
        points: [
          [0.004, 0],
          [0.01, 30],
          [0.01, 30],
        ],
      },
    ]);
    expect(svg).toContain('data-chart="throughput"');
    expect(polyline(svg, 'companies')).toHaveLength(2);
    expect(polyline(svg, 'contacts')).toHaveLength(2);
  });

  it('says so when nothing was timed at all', () => {
    expect(throughputChart([{ name: 'companies', points: [[0, 0]] }])).toContain('data-chart="empty"');
  });

  it('holds each rate over its step: one level per step of the run', () => {
    const points: [number, number][] = Array.from({ length: 11 }, (_, i) => [i, i * 100]);
    const line = polyline(throughputChart([{ name: 'people', points }]), 'people');
    expect(line).toHaveLength(20);
    const heights = new Set(line.map((p) => p.split(',')[1]));
    expect(heights.size).toBe(1); // 100 rows/s throughout
  });
});

describe('follow report', () => {
  const progress = {
    applied: { insert: 120, update: 30, delete: 5 },
    behindSeconds: 0.2,
    latency: { p50Ms: 80, p99Ms: 400, count: 155 },
    position: '0/16B3748',
  };
  const input = (samples: LagSample[]) => ({
    plan: 'crm',
    source: 'postgresql://legacy',
    target: 'postgresql://new',
    startedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 10_000,
    progress,
    samples,
  });

  it('charts the lag of every sample, and counts each kind of change', () => {
    const samples = Array.from({ length: 10 }, (_, i) => ({ ms: i * 1000, behindSeconds: i % 3, applied: i * 15 }));
    const html = renderFollowReport(input(samples));
    expect(html).toContain('data-chart="lag"');
    expect(polyline(html, 'seconds behind')).toHaveLength(10);
    expect(html).toContain('<span data-count="insert">120</span>');
    expect(html).toContain('<span data-count="delete">5</span>');
    expect(html).toContain('<span data-count="p99">400</span>');
  });

  it('says so when the session was too short to chart', () => {
    expect(renderFollowReport(input([{ ms: 0, behindSeconds: 0, applied: 0 }]))).toContain(
      'too short to chart its lag',
    );
  });

  it('keeps a bounded, even record of a session of weeks', () => {
    const lag = new LagSamples();
    for (let ms = 0; ms < 30 * 24 * 3600_000; ms += 500) lag.add({ ms, behindSeconds: 0, applied: ms });
    expect(lag.samples.length).toBeLessThan(1000);
    expect(lag.samples.length).toBeGreaterThan(400);
    const gaps = lag.samples.slice(1).map((s, i) => s.ms - lag.samples[i].ms);
    expect(Math.max(...gaps) / Math.min(...gaps)).toBeLessThanOrEqual(2);
    expect(lag.samples.at(-1)?.ms).toBeGreaterThan(29 * 24 * 3600_000);
  });
});
