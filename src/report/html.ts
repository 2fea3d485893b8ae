import { escapeHtml } from '../escape-html.js';

/** Text for HTML: every value in a report passes through here. */
export function esc(value: unknown): string {
  return escapeHtml(String(value));
}

export const int = (n: number): string => n.toLocaleString('en-US');

/**
 * A table from a header and rows of cells (already escaped HTML). Columns named in `numeric` (by index) are
 * right-aligned; by default every column after the first.
 */
export function htmlTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  attrs = '',
  numeric?: readonly number[],
): string {
  const n = (i: number) => ((numeric ? numeric.includes(i) : i > 0) ? ' class="n"' : '');
  const head = header.map((h, i) => `<th${n(i)}>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${n(i)}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${attrs}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/**
 * Rows per second over time, one line per series, as inline SVG: the report needs no script and no network.
 * `points` are (seconds since start, rows read so far); the rate is taken between consecutive points and
 * drawn as a step over that span.
 */
export function throughputChart(series: readonly { name: string; points: readonly [number, number][] }[]): string {
  const span = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[0])));
  // Rates over steps of at least 1/60 of the run: per-batch rates jitter more than they tell.
  const step = span / 60;
  const rates = series.map((s) => {
    const points: [number, number][] = [];
    let from = s.points[0];
    for (const p of s.points.slice(1)) {
      if (!from || p[0] - from[0] < step || p[0] <= from[0]) continue;
      // Each rate holds over its whole step: drawn as a step, a run of one batch still shows a line.
      const rate = (p[1] - from[1]) / (p[0] - from[0]);
      points.push([from[0], rate], [p[0], rate]);
      from = p;
    }
    return { name: s.name, points };
  });
  if (rates.every((r) => r.points.length === 0))
    return '<p class="muted" data-chart="empty">The run was too short to chart its throughput.</p>';
  return lineChart(rates, { span, kind: 'throughput', label: 'rows/s over time', format: (v) => int(Math.round(v)) });
}

/**
 * Lines of (seconds since start, value) over one time axis from 0 to `span`, as inline SVG with its
 * `data-chart` kind, the axis label and the largest value written as `format` makes it.
 */
export function lineChart(
  series: readonly { name: string; points: readonly [number, number][] }[],
  options: { span: number; kind: string; label: string; format: (value: number) => string },
): string {
  const width = 720;
  const height = 240;
  const pad = { left: 70, right: 16, top: 16, bottom: 36 };
  const maxT = options.span || 1;
  const maxV = Math.max(...series.flatMap((s) => s.points.map((p) => p[1])), 1);
  const x = (t: number) => pad.left + (t / maxT) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / maxV) * (height - pad.top - pad.bottom);
  const lines = series
    .map(
      (s, i) =>
        `<polyline data-series="${esc(s.name)}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`,
    )
    .join('\n');
  const legend = series
    .map(
      (s, i) =>
        `<text x="${pad.left + 10 + i * 140}" y="${pad.top + 12}" fill="${COLORS[i % COLORS.length]}">${esc(s.name)}</text>`,
    )
    .join('');
  return `<svg role="img" aria-label="${esc(options.label)}" data-chart="${esc(options.kind)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#999"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#999"/>
<text x="${pad.left - 6}" y="${pad.top + 4}" text-anchor="end">${esc(options.format(maxV))}</text>
<text x="${pad.left - 6}" y="${height - pad.bottom}" text-anchor="end">0</text>
<text x="${width - pad.right}" y="${height - 8}" text-anchor="end">${esc(maxT.toFixed(1))} s</text>
<text x="${pad.left}" y="${height - 8}">${esc(options.label)}</text>
${legend}
${lines}
</svg>`;
}

/** read = written + merged + quarantined + filtered, as one stacked bar. */
export function accountingBar(c: { written: number; merged: number; quarantined: number; filtered: number }): string {
  const parts: [string, number, string][] = [
    ['written', c.written, '#16a34a'],
    ['merged', c.merged, '#2563eb'],
    ['quarantined', c.quarantined, '#dc2626'],
    ['filtered', c.filtered, '#a3a3a3'],
  ];
  const total = parts.reduce((sum, [, n]) => sum + n, 0) || 1;
  let at = 0;
  const rects = parts
    .filter(([, n]) => n > 0)
    .map(([name, n, color]) => {
      const w = (n / total) * 300;
      const rect = `<rect x="${at.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="14" fill="${color}"><title>${name}: ${int(n)}</title></rect>`;
      at += w;
      return rect;
    });
  return `<svg viewBox="0 0 300 14" width="300" height="14" aria-hidden="true">${rects.join('')}</svg>`;
}

export const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #1f2937; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #e5e7eb; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; } .muted { color: #6b7280; }
.ok { color: #15803d; font-weight: 600; } .bad { color: #b91c1c; font-weight: 600; } code { background: #f3f4f6; padding: 0 .2rem; }
svg text { font: 11px system-ui, sans-serif; fill: #374151; }
`;
