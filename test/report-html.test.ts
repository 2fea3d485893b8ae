import { describe, expect, it } from 'vitest';
import { throughputChart } from '../src/report/html.js';

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
