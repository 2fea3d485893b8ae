import type { TableInfo } from '../connectors/contract.js';
import { kindForField } from '../dedupe/compare.js';
import type { EntityDraft, FieldDraft } from './match.js';
import { isAuditColumn, words } from './names.js';

/** A YAML scalar: bare when it is a plain name, double-quoted (JSON escapes are valid YAML) otherwise. */
const scalar = (text: string): string =>
  /^[A-Za-z_][A-Za-z0-9_.]*$/.test(text) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(text)
    ? text
    : JSON.stringify(text);

/** A password written in a URL becomes `${env:NAME}`, so the drafted plan holds no secret. */
export function secretFree(url: string, variable: string): { url: string; moved: boolean } {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):([^@/]*)@/i.exec(url);
  if (!m || m[2]?.startsWith('${env:')) return { url, moved: false };
  return { url: url.replace(m[0], `${m[1]}:\${env:${variable}}@`), moved: true };
}

function entityName(table: string, taken: Set<string>): string {
  let name = (table.split('.').pop() ?? table).replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1') || 'entity';
  while (taken.has(name)) name = `${name}_2`;
  taken.add(name);
  return name;
}

/**
 * A table of people (an email, a phone or a first and last name among the mapped fields) gets a dedupe block
 * to switch on: commented out, because merging records is a decision the user takes, not the draft.
 */
function dedupeHint(e: EntityDraft): string[] {
  const mapped = e.fields.filter((f) => !f.impossible && !f.ref).map((f) => f.target.name);
  // Never a bookkeeping column (last_update once merged two different people); a date only if it is a birth date.
  const telling = (name: string) =>
    !isAuditColumn(name) && (kindForField(name) !== 'date' || words(name).includes('birth'));
  const on = mapped.filter(
    (name) =>
      telling(name) && ['email', 'phone', 'first_name', 'last_name', 'name', 'date'].includes(kindForField(name)),
  );
  const person =
    on.some((n) => kindForField(n) === 'email' || kindForField(n) === 'phone') ||
    (on.some((n) => kindForField(n) === 'first_name') && on.some((n) => kindForField(n) === 'last_name'));
  if (!person || on.length < 2) return [];
  return [
    '    # dedupe:                # the same customer recorded several times: merge them (docs/plan-reference.md: Dedupe)',
    `    #   on: [${on.map(scalar).join(', ')}]`,
  ];
}

function fieldLines(f: FieldDraft): string[] {
  const target = scalar(f.target.name);
  const from = scalar(f.source?.name ?? '');
  const lines = f.risks.map((r) => `      # RISK: ${r}`);
  if (f.impossible)
    return [
      ...lines,
      `      # ${target}: ${from}   # not mapped: ${f.impossible}; add a transform: { cast: … } if the values allow it`,
    ];
  // An address or number that fails its rule is NULLed and counted, not a reason to hold back the whole record.
  const invalid = f.clean ? ['invalid: null'] : [];
  const ref = f.ref ? [`ref: ${f.ref.entity}`, ...(f.ref.self ? ['orphans: null'] : [])] : [];
  const parts = [
    `from: ${from}`,
    ...(f.transform ? [`transform: ${f.transform}`] : []),
    ...(f.clean ? [`clean: ${f.clean}`] : []),
    ...invalid,
    ...ref,
  ];
  if (f.ref?.self)
    lines.push(
      `      # ${f.target.name} refers to this table: written NULL first, filled in once every record is loaded`,
    );
  lines.push(parts.length === 1 ? `      ${target}: ${from}` : `      ${target}: { ${parts.join(', ')} }`);
  if (f.clean === 'phone')
    lines.push('        # numbers written without +country need a default: clean: { phone: { country: US } }');
  return lines;
}

/**
 * A field whose target column has a foreign key: a `ref:` to the entity that fills the referenced table, so
 * that entity loads first and the value is re-pointed through the crosswalk. A key to a table no entity fills
 * stays a copy, with the risk said.
 */
function withRef(f: FieldDraft, e: EntityDraft, entityOf: ReadonlyMap<string, string>): FieldDraft {
  const key = e.foreignKeys.find((k) => k.column === f.target.name);
  if (!key || f.impossible || f.transform) return f;
  // A key that is also a foreign key (a table extending another) stays the key; the order of the entities decides.
  if (e.target.primaryKey.includes(f.target.name)) return f;
  const entity = entityOf.get(key.references.table);
  if (!entity)
    return {
      ...f,
      risks: [
        ...f.risks,
        `${e.target.name}.${f.target.name} must hold a key of ${key.references.table}, which no entity here fills: a value not already there is refused by the target (quarantined)`,
      ],
    };
  return { ...f, ref: { entity, self: key.references.table === e.target.name } };
}

/** The draft plan as commented YAML: every choice visible, every risk on the line above the field it concerns. */
export function renderPlan(options: {
  name: string;
  source: string;
  target: string;
  sourceDisplay: string;
  targetDisplay: string;
  entities: readonly EntityDraft[];
  unmatchedSources: readonly TableInfo[];
  unmatchedTargets: readonly TableInfo[];
}): string {
  const out = [
    `# Drafted by crm-migrate init from ${options.sourceDisplay} and ${options.targetDisplay}.`,
    '# Tables and columns were matched by name and type. Read every RISK line, then check it with: crm-migrate plan <this file>',
    'version: 1',
    `name: ${scalar(options.name)}`,
    `source: ${JSON.stringify(options.source)}`,
    `target: ${JSON.stringify(options.target)}`,
  ];
  if (options.entities.length === 0)
    out.push('entities: {}   # no source table resembles a target table: add entities by hand');
  else out.push('entities:');
  const taken = new Set<string>();
  const names = options.entities.map((e) => entityName(e.target.name, taken));
  const entityOf = new Map(options.entities.map((e, i) => [e.target.name, names[i]]));
  options.entities.forEach((e, i) => {
    out.push(`  ${names[i]}:   # ${e.source.name} -> ${e.target.name}`);
    out.push(`    from: ${scalar(e.source.name)}`, `    into: ${scalar(e.target.name)}`);
    out.push(`    key: ${e.key.length === 1 ? scalar(e.key[0]) : `[${e.key.map(scalar).join(', ')}]`}`);
    out.push('    fields:');
    for (const f of e.fields) out.push(...fieldLines(withRef(f, e, entityOf)));
    out.push(...dedupeHint(e));
    if (e.unmapped.length > 0) out.push(`    # source columns not mapped: ${e.unmapped.join(', ')}`);
    const required = e.unfilled.filter((c) => !c.nullable && !c.hasDefault);
    const optional = e.unfilled.filter((c) => c.nullable || c.hasDefault);
    if (optional.length > 0) out.push(`    # target columns left empty: ${optional.map((c) => c.name).join(', ')}`);
    for (const c of required)
      out.push(
        `    # RISK: ${e.target.name}.${c.name} is NOT NULL with no default and nothing fills it: the plan is refused until a field does`,
      );
  });
  if (options.unmatchedSources.length > 0)
    out.push(`# source tables not migrated: ${options.unmatchedSources.map((t) => t.name).join(', ')}`);
  if (options.unmatchedTargets.length > 0)
    out.push(`# target tables no source table resembles: ${options.unmatchedTargets.map((t) => t.name).join(', ')}`);
  return `${out.join('\n')}\n`;
}
