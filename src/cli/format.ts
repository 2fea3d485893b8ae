import type { Counts } from '../index.js';
import type { EntityQuality } from '../index.js';
import type { RunSummary } from '../index.js';
import { formatPlanIssue, type PlanIssue } from '../index.js';

export const int = (n: number): string => n.toLocaleString('en-US');

export function table(header: readonly string[], rows: readonly (readonly string[])[], rightAlignFrom = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i >= rightAlignFrom ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const balanced = (c: Counts): boolean => c.read === c.written + c.merged + c.quarantined + c.filtered;

/** The terminal summary: accounting per entity and quarantine reasons. Counts and codes only, never values. */
export function formatSummary(summary: RunSummary): string {
  const entities = Object.entries(summary.entities);
  const seconds = `${(summary.durationMs / 1000).toFixed(1)} s`;
  const what = summary.previousRunId
    ? `increment ${summary.runId} (changes since run ${summary.previousRunId})`
    : `run ${summary.runId}`;
  const head =
    summary.status === 'already-done'
      ? `run ${summary.runId} had already finished: nothing was written (use --fresh to load again)`
      : summary.status === 'interrupted'
        ? `${what} stopped on request after ${seconds}, its last batch committed; run it again to resume`
        : `${what} ${summary.resumed ? 'resumed and ' : ''}finished in ${seconds}`;
  // Deletes are not a bucket of `read`: their column shows only where an entity removes rows.
  const withDeleted = summary.previousRunId !== undefined || entities.some(([, c]) => c.deleted > 0);
  const rows = entities.map(([name, c]) => [
    name,
    int(c.read),
    int(c.written),
    int(c.merged),
    int(c.quarantined),
    int(c.filtered),
    balanced(c) ? 'ok' : 'MISMATCH',
    ...(withDeleted ? [int(c.deleted)] : []),
  ]);
  const parts = [
    head,
    `${summary.source} -> ${summary.target}`,
    '',
    table(
      [
        'entity',
        'read',
        'written',
        'merged',
        'quarantined',
        'filtered',
        'read = sum',
        ...(withDeleted ? ['deleted'] : []),
      ],
      rows,
    ),
  ];
  const filtered = Object.entries(summary.filtered ?? {}).flatMap(([entity, by]) =>
    Object.entries(by).map(([clause, n]) => [entity, clause, int(n)]),
  );
  if (filtered.length > 0)
    parts.push(
      '',
      "filtered (rows the plan's where: leaves out, by the condition they failed):",
      table(['entity', 'condition', 'rows'], filtered),
    );
  const placeholders = Object.entries(summary.placeholders ?? {}).filter(([, n]) => n > 0);
  if (placeholders.length > 0)
    parts.push(
      '',
      `placeholder records made for orphan refs (rows besides the written ones): ${placeholders.map(([name, n]) => `${name} ${int(n)}`).join(', ')}`,
    );
  const resynced = Object.entries(summary.resynced ?? {});
  if (resynced.length > 0)
    parts.push(
      '',
      `re-read because a joined row changed (besides the rows above): ${resynced.map(([name, c]) => `${name} ${int(c.read)} (written ${int(c.written)}, quarantined ${int(c.quarantined)}, filtered ${int(c.filtered)})`).join(', ')}`,
    );
  const dedupe = Object.entries(summary.dedupe ?? {});
  if (dedupe.length > 0) {
    parts.push('', 'dedupe (the same customer recorded several times, merged into one record):');
    parts.push(
      table(
        ['entity', 'records', 'pairs compared', 'clusters', 'merged', 'to review', 'seconds'],
        dedupe.map(([name, d]) => [
          d.entities.join(' + ') || name,
          int(d.records),
          int(d.compared),
          int(d.clusters),
          int(d.merged),
          int(d.review),
          d.seconds.toFixed(1),
        ]),
      ),
    );
    const review = dedupe.some(([, d]) => d.review > 0) ? '; pairs to review: crm-migrate review PLAN' : '';
    const skipped = dedupe
      .filter(([, d]) => d.skippedBlocks > 0)
      .map(
        ([name, d]) =>
          `${name}: ${int(d.skippedBlocks)} blocks over max_block were not paired (add a field to the blocking rule)`,
      );
    const warned = dedupe.flatMap(([name, d]) => d.warnings.map((w) => `${name}: warning: ${w}`));
    parts.push(...skipped, ...warned, `merge map: crm-migrate merges PLAN${review}`);
  }
  const quality = formatQuality(summary.quality);
  if (quality) parts.push('', quality);
  if (summary.reasons.length > 0) {
    parts.push('', 'quarantine reasons (rows can have several):');
    parts.push(
      table(
        ['entity', 'field', 'rule', 'code', 'rows'],
        summary.reasons.map((r) => [r.entity, r.field, r.rule, r.code, int(r.count)]),
        4,
      ),
    );
    parts.push('', 'list them with: crm-migrate quarantine PLAN');
  }
  return parts.join('\n');
}

export function formatIssues(issues: readonly PlanIssue[]): string {
  return issues.map(formatPlanIssue).join('\n');
}

/**
 * The cleaning quality report: one line per field that any rule touched, then its findings. Each value is
 * counted once, under its most serious outcome, so the outcomes add up to `checked`.
 */
export function formatQuality(quality: Readonly<Record<string, EntityQuality>>): string {
  const rows: string[][] = [];
  const findings: string[] = [];
  for (const [entity, fields] of Object.entries(quality)) {
    for (const [field, q] of Object.entries(fields)) {
      if (q.valid === q.checked) continue;
      rows.push([
        entity,
        field,
        int(q.checked),
        int(q.valid),
        int(q.flagged),
        int(q.corrected),
        int(q.kept),
        int(q.nulled),
        int(q.quarantined),
      ]);
      findings.push(
        `  ${entity}.${field}: ${q.findings.map((f) => `${f.rule}/${f.code}${f.detail === undefined ? '' : ` "${f.detail}"`} ${f.outcome} ${int(f.count)}`).join(', ')}`,
      );
    }
  }
  if (rows.length === 0) return '';
  return [
    'cleaning quality (each value counted once, by its most serious finding):',
    table(['entity', 'field', 'checked', 'valid', 'flagged', 'corrected', 'kept', 'nulled', 'quarantined'], rows, 2),
    ...findings,
  ].join('\n');
}
