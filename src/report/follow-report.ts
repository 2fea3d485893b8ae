import type { FollowProgress } from '../engine/follow.js';
import { esc, htmlTable, int, lineChart, throughputChart } from './html.js';
import { page } from './report.js';

/** How far behind the source a follow session was, `ms` after it started, and the changes it had applied. */
export interface LagSample {
  readonly ms: number;
  readonly behindSeconds: number;
  readonly applied: number;
}

/** Samples kept for a session's charts: a follow runs for weeks, so the chart keeps about this many points. */
const MAX_SAMPLES = 1000;

/**
 * The lag of a follow session over time, in bounded memory: once full, every other sample is dropped and
 * samples are taken half as often, so the whole session stays charted evenly.
 */
export class LagSamples {
  readonly #samples: LagSample[] = [];
  #everyMs = 250;

  add(sample: LagSample): void {
    const last = this.#samples.at(-1);
    if (last && sample.ms - last.ms < this.#everyMs) return;
    this.#samples.push(sample);
    if (this.#samples.length < MAX_SAMPLES) return;
    const kept = this.#samples.filter((_, i) => i % 2 === 0);
    this.#samples.splice(0, this.#samples.length, ...kept);
    this.#everyMs *= 2;
  }

  get samples(): readonly LagSample[] {
    return this.#samples;
  }
}

export interface FollowReportInput {
  readonly plan: string;
  readonly source: string;
  readonly target: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Where the session ended: what it applied, its latency, its position. */
  readonly progress: FollowProgress;
  readonly samples: readonly LagSample[];
}

/** The page for one `sync --follow` session: changes applied by kind, latency, and lag and rate over time. */
export function renderFollowReport(input: FollowReportInput): string {
  const { applied, latency } = input.progress;
  const total = applied.insert + applied.update + applied.delete;
  const span = input.durationMs / 1000;
  const lag =
    input.samples.length < 2
      ? '<p class="muted" data-chart="empty">The session was too short to chart its lag.</p>'
      : lineChart([{ name: 'seconds behind', points: input.samples.map((s) => [s.ms / 1000, s.behindSeconds]) }], {
          span,
          kind: 'lag',
          label: 'seconds behind the source over time',
          format: (v) => `${v.toFixed(1)} s`,
        });
  const rate = throughputChart([
    { name: 'changes applied', points: input.samples.map((s): [number, number] => [s.ms / 1000, s.applied]) },
  ]);
  const kinds = (['insert', 'update', 'delete'] as const).map((k) => [
    esc(`${k}s`),
    `<span data-count="${k}">${int(applied[k])}</span>`,
  ]);
  return page(
    `crm-migrate: ${input.plan} follow`,
    `
<h1>Follow <span class="muted">from ${esc(input.startedAt)}</span></h1>
<p>Plan <strong>${esc(input.plan)}</strong> · ${esc(span.toFixed(1))} s · <span data-count="applied">${int(total)}</span> changes applied · ended at position <code>${esc(input.progress.position)}</code><br>
<span class="muted">${esc(input.source)} → ${esc(input.target)}</span></p>
<h2>Changes applied</h2>
${htmlTable(['kind', 'changes'], kinds, ' data-section="changes"')}
<p>Latency from the source's commit to the target's, over <span data-count="latency">${int(latency.count)}</span> changes: p50 <span data-count="p50">${int(latency.p50Ms)}</span> ms, p99 <span data-count="p99">${int(latency.p99Ms)}</span> ms.</p>
<h2>Lag</h2>
<p class="muted">How old the newest applied change was when its batch committed.</p>
${lag}
<h2>Changes per second</h2>
${rate}
`,
  );
}
