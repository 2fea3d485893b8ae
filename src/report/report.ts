import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { QuarantinedRow } from '../connectors/contract.js';
import type { MatchEvidence } from '../engine/dedupe/match-evidence.js';
import type { EntityQuality } from '../engine/map/quality.js';
import type { RunSummary } from '../engine/run.js';
import { verifyColumns, type VerifySummary } from '../verify/verify.js';
import { accountingBar, esc, htmlTable, int, STYLE, throughputChart } from './html.js';

/** Rows read so far by an entity, `ms` after the run started: the progress events, kept for the chart. */
export interface ThroughputSample {
  readonly entity: string;
  readonly ms: number;
  readonly read: number;
}

export interface RunReportInput {
  readonly summary: RunSummary;
  readonly throughput: readonly ThroughputSample[];
  /** A few quarantined rows with their values: only when values were asked for (`--show-values`). */
  readonly samples?: readonly QuarantinedRow[] | undefined;
  /** The review band and the weakest merges, for a plan that de-duplicates. */
  readonly evidence?: MatchEvidence | undefined;
}

const balanced = (c: RunSummary['entities'][string]) => c.read === c.written + c.merged + c.quarantined + c.filtered;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
${body}
<p class="muted">Written by crm-migrate on ${esc(new Date().toISOString())}. Self-contained: it loads nothing from the network.</p>
</body></html>
`;
}

/**
 * The pairs a person should look at: the review band (never merged until decided), then the merges that came
 * closest to the threshold. Keys and each pair's evidence (fields, agreement levels, weights), never values.
 */
function evidenceSection(evidence: MatchEvidence | undefined): string {
  if (!evidence || (evidence.reviewTotal === 0 && evidence.mergesTotal === 0)) return '';
  const evidenceOf = (why: string) => `<span class="muted">${why.split('; ').map(esc).join('<br>')}</span>`;
  const review = evidence.review.map((p) => [
    `${esc(p.entityA)} ${esc(p.keyA)}`,
    `${esc(p.entityB)} ${esc(p.keyB)}`,
    esc(p.probability.toFixed(4)),
    evidenceOf(p.why),
  ]);
  const merges = evidence.weakestMerges.map((m) => [
    `${esc(m.entity)} ${esc(m.sourceKey)}`,
    `${esc(m.survivorEntity)} ${esc(m.survivorKey)}`,
    esc(m.probability.toFixed(4)),
    evidenceOf(m.why),
  ]);
  const shown = (n: number, total: number) => (n < total ? ` (the first ${int(n)} of ${int(total)})` : '');
  return `<h3>To review: <span data-count="review">${int(evidence.reviewTotal)}</span> pairs${shown(review.length, evidence.reviewTotal)}</h3>
${
  review.length === 0
    ? '<p>No pair is awaiting review.</p>'
    : `<p class="muted">Not merged until a reviewer decides: <code>crm-migrate review PLAN --csv FILE</code>, then <code>--decide FILE</code>. Most probable first.</p>
${htmlTable(['record a', 'record b', 'probability', 'evidence'], review, ' data-section="review"', [2])}`
}
<h3>Weakest merges${shown(merges.length, evidence.mergesTotal)}</h3>
${
  merges.length === 0
    ? '<p>No record was merged.</p>'
    : `<p class="muted">The merges of lowest probability, lowest first: the ones to check. <code>crm-migrate merges PLAN --explain KEY</code> prints one.</p>
${htmlTable(['merged record', 'into', 'probability', 'evidence'], merges, ' data-section="merges"', [2])}`
}`;
}

/** What matching found per dedupe group: counts and the model's prior, never a value. */
function dedupeSection(summary: RunSummary, evidence?: MatchEvidence): string {
  const groups = Object.entries(summary.dedupe ?? {});
  if (groups.length === 0) {
    const merged = Object.values(summary.entities).some((c) => c.merged > 0);
    return `<p class="muted">${merged ? 'The merges were planned by an earlier call of this run (see crm-migrate merges PLAN).' : 'No entity of this plan de-duplicates.'}</p>${evidenceSection(evidence)}`;
  }
  const rows = groups.map(([name, d]) => [
    esc(d.entities.join(' + ') || name),
    int(d.records),
    int(d.compared),
    int(d.clusters),
    int(d.merged),
    int(d.review),
    int(d.skippedBlocks),
    esc(d.lambda.toExponential(2)),
    esc(d.seconds.toFixed(1)),
  ]);
  return `<p class="muted">Records of one customer, merged into a surviving record; merged records count as merged above. The merge map (keys, probabilities and why) is listed by <code>crm-migrate merges PLAN</code>, pairs to review by <code>crm-migrate review PLAN</code>.</p>
${htmlTable(['entities', 'records', 'pairs compared', 'clusters', 'merged', 'to review', 'blocks skipped', 'prior', 'seconds'], rows, ' data-section="dedupe"')}
${groups.flatMap(([name, d]) => d.warnings.map((w) => `<p class="bad" data-warning>${esc(name)}: ${esc(w)}</p>`)).join('\n')}
${evidenceSection(evidence)}`;
}

function qualitySection(quality: Readonly<Record<string, EntityQuality>>): string {
  const rows: string[][] = [];
  for (const [entity, fields] of Object.entries(quality)) {
    for (const [field, q] of Object.entries(fields)) {
      if (q.valid === q.checked) continue;
      const findings = q.findings
        .map(
          (f) =>
            `${esc(f.rule)}/${esc(f.code)}${f.detail === undefined ? '' : ` <code>${esc(f.detail)}</code>`} ${esc(f.outcome)} ${int(f.count)}`,
        )
        .join('<br>');
      rows.push([
        `${esc(entity)}.${esc(field)}`,
        int(q.checked),
        int(q.valid),
        int(q.flagged),
        int(q.corrected),
        int(q.kept),
        int(q.nulled),
        int(q.quarantined),
        `<span class="muted">${findings}</span>`,
      ]);
    }
  }
  if (rows.length === 0) return '<p>Every checked value was valid as it came.</p>';
  return `<p class="muted">Each value counted once, under its most serious finding (before → after: valid as it came, flagged, corrected, kept, set to NULL, quarantined).</p>
${htmlTable(['field', 'checked', 'valid', 'flagged', 'corrected', 'kept', 'nulled', 'quarantined', 'findings'], rows, ' data-section="quality"', [1, 2, 3, 4, 5, 6, 7])}`;
}

/** Rows each entity's `where:` left out, by the condition they failed. */
function filteredTable(summary: RunSummary): string {
  const rows = Object.entries(summary.filtered ?? {}).flatMap(([entity, by]) =>
    Object.entries(by).map(([clause, n]) => [esc(entity), esc(clause), int(n)]),
  );
  if (rows.length === 0) return '';
  return `<h2>Filtered</h2>\n<p class="muted">Rows the plan's <code>where:</code> leaves out, by the condition they failed.</p>\n${htmlTable(['entity', 'condition', 'rows'], rows, ' data-section="filtered"', [2])}`;
}

/** Placeholder records made for orphan refs: rows of a table besides its written ones. */
function placeholderNote(summary: RunSummary): string {
  const made = Object.entries(summary.placeholders ?? {}).filter(([, n]) => n > 0);
  if (made.length === 0) return '';
  return `<p data-section="placeholders">Placeholder records made for orphan refs (rows of the table besides the written ones): ${made.map(([name, n]) => `${esc(name)} <span data-count="placeholders">${int(n)}</span>`).join(', ')}.</p>`;
}

/** The page for one run: accounting, throughput, quarantine reasons with sample keys, cleaning quality. */
export function renderRunReport(input: RunReportInput): string {
  const { summary } = input;
  const seconds = (summary.durationMs / 1000).toFixed(1);
  const accounting = Object.entries(summary.entities).map(([name, c]) => [
    esc(name),
    `<span data-count="read">${int(c.read)}</span>`,
    `<span data-count="written">${int(c.written)}</span>`,
    `<span data-count="merged">${int(c.merged)}</span>`,
    `<span data-count="quarantined">${int(c.quarantined)}</span>`,
    `<span data-count="filtered">${int(c.filtered)}</span>`,
    `<span data-count="deleted">${int(c.deleted)}</span>`,
    balanced(c) ? '<span class="ok">ok</span>' : '<span class="bad">MISMATCH</span>',
    accountingBar(c),
  ]);
  const entities = [...new Set(input.throughput.map((t) => t.entity))];
  const chart = throughputChart(
    entities.map((name) => ({
      name,
      points: input.throughput.filter((t) => t.entity === name).map((t): [number, number] => [t.ms / 1000, t.read]),
    })),
  );
  const reasons = summary.reasons.map((r) => [
    esc(r.entity),
    esc(r.field),
    esc(r.rule),
    esc(r.code),
    int(r.count),
    esc(r.sampleKeys.join(', ')),
  ]);
  const samples = input.samples?.length
    ? `<h3>Quarantined rows with their values (shown because values were asked for)</h3>
${htmlTable(
  ['entity', 'source key', 'reasons', 'row'],
  input.samples.map((q) => [
    esc(q.entity),
    esc(q.sourceKey),
    esc(q.reasons.map((r) => `${r.field}:${r.rule}/${r.code}`).join('; ')),
    `<code>${esc(JSON.stringify(q.row))}</code>`,
  ]),
  ' data-section="samples"',
  [],
)}`
    : '<p class="muted">Customer values are not shown. Run with <code>--show-values</code> to include a few quarantined rows.</p>';
  const head = summary.previousRunId
    ? `Increment ${esc(summary.runId)} <span class="muted">(changes since run ${esc(summary.previousRunId)})</span>`
    : `Run ${esc(summary.runId)}`;
  return page(
    `crm-migrate: ${summary.plan} ${summary.runId}`,
    `
<h1>${head}</h1>
<p>Plan <strong>${esc(summary.plan)}</strong> · <span data-status>${esc(summary.status)}</span>${summary.resumed ? ' (resumed)' : ''} · ${esc(seconds)} s<br>
<span class="muted">${esc(summary.source)} → ${esc(summary.target)}</span></p>
<h2>Accounting</h2>
<p class="muted">Every source row ends in exactly one bucket: read = written + merged + quarantined + filtered. Deleted counts target rows removed because their source row is gone.</p>
${htmlTable(['entity', 'read', 'written', 'merged', 'quarantined', 'filtered', 'deleted', 'read = sum', ''], accounting, ' data-section="accounting"')}
${placeholderNote(summary)}\n${filteredTable(summary)}
<h2>Throughput</h2>
${chart}
<h2>Quarantine</h2>
${reasons.length === 0 ? '<p>No row was quarantined.</p>' : htmlTable(['entity', 'field', 'rule', 'code', 'rows', 'first source keys'], reasons, ' data-section="reasons"', [4])}
${samples}
<h2>Cleaning quality</h2>
${qualitySection(summary.quality)}
<h2>Dedupe</h2>
${dedupeSection(summary, input.evidence)}
`,
  );
}

/** The page for one verify: counts per entity and the differing keys and columns. */
export function renderVerifyReport(summary: VerifySummary): string {
  const columns = verifyColumns(summary.entities);
  const rows = summary.entities.map((e) => [esc(e.entity), ...columns.counts(e).map(int)]);
  const differences = summary.entities.flatMap((e) =>
    e.differences.map((d) => [
      esc(e.entity),
      esc(d.key),
      esc(d.kind),
      esc(d.columns.join(', ')),
      esc(
        (d.values ?? [])
          .map((v) => `${v.column}: ${JSON.stringify(v.expected)} → ${JSON.stringify(v.actual)}`)
          .join('; '),
      ),
    ]),
  );
  return page(
    `crm-migrate: verify`,
    `
<h1>Verify <span class="${summary.equal ? 'ok' : 'bad'}" data-verdict>${summary.equal ? 'source and target agree' : 'source and target differ'}</span></h1>
<p class="muted">${esc(summary.source)} → ${esc(summary.target)} · ${esc((summary.durationMs / 1000).toFixed(1))} s</p>
${htmlTable(['entity', ...columns.names], rows, ' data-section="verify"')}
${differences.length === 0 ? '' : `<h2>First differences</h2>${htmlTable(['entity', 'key', 'kind', 'columns', 'values'], differences, ' data-section="differences"', [])}`}
`,
  );
}

/**
 * Writes a report and returns its path: `to` if given, else `reports/<plan>-<id>.html` beside the plan file.
 */
export function writeReport(
  html: string,
  options: { planFile: string; plan: string; id: string; to?: string | undefined },
): string {
  const file =
    options.to ??
    path.join(path.dirname(path.resolve(options.planFile)), 'reports', `${options.plan}-${options.id}.html`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, html);
  return file;
}
