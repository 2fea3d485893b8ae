import { previewPlan, type EntityPreview } from '../index.js';
import { formatIssues, formatQuality, int } from './format.js';
import type { Io } from './main.js';
import { commandPlan, planCommandOf, positiveInt, type PlanOptions } from './plan-options.js';

const show = (v: unknown): string => (v === null || v === undefined ? '∅' : JSON.stringify(v));

function formatEntity(e: EntityPreview): string {
  const lines = [`${e.entity}: ${e.from} (${int(e.sourceRows)} rows) -> ${e.into}`];
  if (e.create) {
    lines.push(`  ${e.into} does not exist: run will create it with columns`);
    for (const c of e.create.columns)
      lines.push(
        `    ${c.name} ${c.type}${c.maxLength ? `(${c.maxLength})` : ''}${c.nullable ? '' : ' not null'}${e.create.primaryKey.includes(c.name) ? ' primary key' : ''}`,
      );
  }
  const quarantined = e.samples.filter((s) => s.after === null).length;
  lines.push(
    `  sample of ${e.samples.length} rows: ${e.samples.length - quarantined} would be written, ${quarantined} quarantined`,
  );
  for (const s of e.samples) {
    lines.push(
      `  key ${s.sourceKey}${s.after ? '' : '  QUARANTINED: ' + s.reasons.map((r) => `${r.field} ${r.rule}/${r.code}`).join(', ')}`,
    );
    lines.push(
      `    before ${Object.entries(s.before)
        .map(([k, v]) => `${k}=${show(v)}`)
        .join('  ')}`,
    );
    if (s.after)
      lines.push(
        `    after  ${Object.entries(s.after)
          .map(([k, v]) => `${k}=${show(v)}`)
          .join('  ')}`,
      );
  }
  return lines.join('\n');
}

/** `plan`: the one place customer values are shown by design — a dry run is for looking at the data. */
export async function planCommand(
  file: string,
  options: PlanOptions & { sample?: number; json?: boolean; showValues?: boolean },
  io: Io,
): Promise<number> {
  const plan = await commandPlan(file, options);
  const preview = await previewPlan(plan, { sample: options.sample ?? 20, showValues: options.showValues });
  if (options.json) {
    io.out(JSON.stringify(preview));
    return 0;
  }
  io.out(`plan ${plan.file} is valid: ${preview.source} -> ${preview.target}`);
  if (preview.warnings.length > 0) io.out(formatIssues(preview.warnings));
  for (const e of preview.entities) io.out(`\n${formatEntity(e)}`);
  const quality = formatQuality(Object.fromEntries(preview.entities.map((e) => [e.entity, e.quality])));
  if (quality) io.out(`\non the sample rows, ${quality}`);
  io.out('\nnothing was written.');
  return 0;
}

export const plan = planCommandOf({
  name: 'plan',
  description: 'check PLAN against the live schemas and show sample rows before -> after; writes nothing',
  flags: (c) =>
    c
      .option('--sample <N>', 'rows to push through each entity', (v) => positiveInt(v, '--sample'), 20)
      .option('--json', 'print the preview as JSON on stdout')
      .option('--show-values', 'show fields marked pii (or protected) unmasked in the sample rows'),
  run: planCommand,
});
