import { z } from 'zod';
import { Where } from '../mapping/where.js';
import { JsonTemplateSchema } from '../mapping/json-build.js';

/** A literal value a plan may write: a constant, a default, a value-map entry. */
const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * A transform or clean step as written: a name (`name.first`, `email`) or a one-key map from the name to
 * its options (`{ join: ", " }`, `{ cast: integer }`). Names and options are checked when the plan compiles.
 */
const Step = z.union([z.string(), z.record(z.string(), z.unknown())]);
const Steps = z.union([Step, z.array(Step).min(1)]);

/** YAML reads a bare `null` as no value: `invalid: null` and `invalid: "null"` are the same policy. */
const InvalidPolicy = z.preprocess((v) => (v === null ? 'null' : v), z.enum(['quarantine', 'null', 'keep', 'default']));

const TlsSpec = z.strictObject({
  mode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']),
  ca: z.string().min(1).optional(),
});
/** One TLS demand for both sides, or one per side. */
const Tls = z.union([TlsSpec, z.strictObject({ source: TlsSpec.optional(), target: TlsSpec.optional() })]);

/** Threads that map and clean rows: `auto` (measure, then decide), 0 (main thread only) or a count. */
const Workers = z.union([z.literal('auto'), z.number().int().min(0).max(64)]);

export const FieldSchema = z.strictObject({
  from: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  value: Scalar.optional(),
  transform: Steps.optional(),
  clean: Steps.optional(),
  invalid: InvalidPolicy.optional(),
  fix: z.boolean().optional(),
  default: Scalar.optional(),
  type: z.string().min(1).optional(),
  /** hash | mask | encrypt | drop, or with options: { hash: KEY }, { encrypt: KEY }, { mask: { keep_last: 4 } }. */
  protect: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  /** Personal data: masked wherever values are shown (preview, quarantine) unless --show-values. */
  pii: z.boolean().optional(),
  /** A new key for each record (`uuid`: name-based, the same on every run), recorded in the crosswalk. */
  new_id: z.enum(['uuid']).optional(),
  /**
   * The entity whose record `from` refers to: the value becomes that record's key in the target. Or, for a
   * parent of any type in one id column (Odoo's `model` + `res_id`), the entity per value of a type column:
   * `{ by: parent_type, to: { Accounts: companies, Contacts: people } }`.
   */
  ref: z
    .union([
      z.string().min(1),
      z.strictObject({
        by: z.string().min(1),
        to: z.record(z.string(), z.string().min(1)).refine((m) => Object.keys(m).length > 0, 'name at least one type'),
      }),
    ])
    .optional(),
  /**
   * A record that is in the new CRM already, found by a natural key: `{ table: res_users, key: login, value: id }`
   * writes the `id` of the `res_users` row whose `login` is the source value (owners by email, countries by code).
   */
  lookup: z.strictObject({ table: z.string().min(1), key: z.string().min(1), value: z.string().min(1) }).optional(),
  /** An expression over the row's source columns (src/mapping/expressions.ts): `expr: "amount * 1000000"`. */
  expr: z.string().min(1).optional(),
  /** A JSON object built from columns (src/mapping/json-build.ts): `json: { primaryEmail: email, additionalEmails: [email2, email3] }`. */
  json: JsonTemplateSchema.optional(),
  /**
   * A ref that applies only to rows that pass (a polymorphic parent: `when: { parent_type: Accounts }`); on the
   * other rows the field is NULL, not an orphan.
   */
  when: Where.optional(),
  /**
   * A ref to a record that was not migrated (missing, or quarantined): quarantine the row, set NULL, or point
   * it at a placeholder record made in the referenced entity's table (see the entity's `placeholder:`).
   */
  orphans: z
    .preprocess((v) => (v === null ? 'null' : v), z.enum(['quarantine', 'null', 'placeholder', 'default']))
    .optional(),
});

/** A field is a source column name (a copy) or the full form. */
const Field = z.preprocess((v) => (typeof v === 'string' ? { from: v } : v), FieldSchema);

/** Another source table joined to each row by key: its columns are read as `alias.column`. */
const Join = z.strictObject({
  from: z.string().min(1),
  /** The column of the entity's own table that holds the joined row's key. */
  on: z.string().min(1),
  /** The joined table's key column (default: the same name as `on`). */
  key: z.string().min(1).optional(),
  /** Only the joined rows that pass (a link row not deleted): see src/mapping/where.ts. */
  where: Where.optional(),
  /**
   * Which row to take when several match: `order: "primary_address desc, date_modified desc, id"`, the first
   * in that order. Without it, a row with several matches is quarantined (ambiguous_join), never picked.
   */
  pick: z.strictObject({ order: z.string().min(1) }).optional(),
  /**
   * Gather every match instead of one, in this order (a contact's emails through the relation table): the
   * joined columns are then lists, read by a `json:` field (`additionalEmails: rel.email`).
   */
  collect: z.strictObject({ order: z.string().min(1) }).optional(),
});

/** How the surviving record takes a field from its cluster (see src/dedupe/survivorship.ts). */
export const SURVIVOR_RULES = [
  'survivor',
  'most_recent',
  'most_complete',
  'longest',
  'first_non_null',
  'source_priority',
  'max',
  'min',
] as const;

/** `dedupe:` — find the entity's records that are the same customer and merge each group into one. */
const Dedupe = z.strictObject({
  /** The target fields compared (after mapping and cleaning). */
  on: z.array(z.string().min(1)).min(1),
  /** How a field compares, where its name does not say: { birth: date, ref_no: id }. */
  compare: z.record(z.string().min(1), z.string().min(1)).optional(),
  /** Candidate pairs: records agreeing on every part of one rule, e.g. "metaphone(last_name) + initial(first_name)". */
  blocking: z.array(z.string().min(1)).min(1).optional(),
  /** Match probability from which a pair is merged (default 0.9). */
  threshold: z.number().gt(0).lt(1).optional(),
  /** Pairs from this probability up to the threshold are set aside for review, not merged. */
  review: z.number().gt(0).lt(1).optional(),
  /** Fields whose exact agreement weighs by how rare the value is. */
  term_frequency: z.array(z.string().min(1)).optional(),
  max_block: z.number().int().min(2).optional(),
  max_cluster: z.number().int().min(2).optional(),
  /** Other entities (filling the same table from other sources) whose records are linked with this one's. */
  with: z.array(z.string().min(1)).min(1).optional(),
  /** With `with:`: pair only records of different entities (each source is already free of duplicates). */
  link_only: z.boolean().optional(),
  /** Whose key the merged record keeps: the most complete record (default), the most recent, or by source priority. */
  survivor: z.enum(['most_complete', 'most_recent', 'source_priority']).optional(),
  /** The target field that says how recent a record is (for most_recent). */
  recency: z.string().min(1).optional(),
  /** Entities in order of trust, for source_priority (default: this one, then `with:` in order). */
  priority: z.array(z.string().min(1)).optional(),
  /** Per field, how the merged record takes its value (default: the survivor's, else the first non-null), or a rule defined with defineSurvivorRule. */
  fields: z.record(z.string().min(1), z.string().min(1)).optional(),
});

export const EntitySchema = z.strictObject({
  /** Which of the plan's `sources:` the entity reads (needed when there are several). */
  source: z.string().min(1).optional(),
  /** Which of the plan's `targets:` the entity writes (needed when there are several). */
  target: z.string().min(1).optional(),
  from: z.string().min(1),
  /** Only the source rows that pass; the others are counted as filtered (see src/mapping/where.ts). */
  where: Where.optional(),
  join: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use letters, digits and "_"'), Join).optional(),
  into: z.string().min(1),
  key: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  fields: z.record(z.string().min(1), Field),
  batch_size: z.number().int().min(1).max(1_000_000).optional(),
  workers: Workers.optional(),
  /** `cdc`: a snapshot, then the database's change log (`sync --follow`; see src/engine/strategies/change-capture.ts). */
  strategy: z.enum(['full', 'incremental', 'cdc']).optional(),
  /**
   * The column that grows on every change; or a list of it and joined ones (`[modifiedtime, person.modifiedtime]`):
   * a change in a joined row then re-reads the records that join it (see src/engine/strategies/linked-changes.ts).
   */
  cursor: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  lookback: z.union([z.string().min(1), z.number().min(0)]).optional(),
  deletes: z.enum(['ignore', 'soft', 'hard']).optional(),
  tombstone: z.string().min(1).optional(),
  dedupe: Dedupe.optional(),
  /** Several columns of a row as rows of one column: { columns: [email1, email2], as: email, position: slot }. */
  unpivot: z
    .strictObject({
      columns: z.array(z.string().min(1)).min(2),
      as: z.string().min(1),
      /** The column that says which of `columns` a row came from (1, 2, …); part of the entity's key. */
      position: z.string().min(1).optional(),
    })
    .optional(),
  /** The values of a placeholder record (made for refs with `orphans: placeholder`), by target column; the rest are NULL. */
  placeholder: z.record(z.string().min(1), Scalar).optional(),
});

export type DedupeInput = z.infer<typeof Dedupe>;

export const PlanSchema = z.strictObject({
  version: z.literal(1),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "." or "-"')
    .optional(),
  /** One source (a URL), or several by name (`sources:`), each entity naming its own with `source:`. */
  source: z.string().min(1).optional(),
  sources: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'use letters, digits, "_" or "-"'), z.string().min(1))
    .optional(),
  /** One target (a URL), or several by name (`targets:`), each entity naming its own with `target:`. */
  target: z.string().min(1).optional(),
  targets: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'use letters, digits, "_" or "-"'), z.string().min(1))
    .optional(),
  batch_size: z.number().int().min(1).max(1_000_000).optional(),
  workers: Workers.optional(),
  /** Chunk workers a full load runs side by side, each on its own thread and connections (src/engine/scale/). */
  parallel: z.number().int().min(1).max(64).optional(),
  /** A run that quarantines more than this fails (exit 1): rows (100) or a share of the rows read ("5%"). */
  max_quarantined: z
    .union([
      z.number().int().min(0),
      z.string().regex(/^\s*(\d+|\d+(\.\d+)?\s*%)\s*$/, 'write a number of rows (100) or a percentage (5%)'),
    ])
    .optional(),
  tls: Tls.optional(),
  /** Keys for protect: hash and encrypt, by name; each must be a ${env:…} or ${file:…} reference. */
  keys: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use letters, digits and "_"'), z.string().min(1))
    .optional(),
  entities: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use letters, digits and "_"'), EntitySchema),
});

export type PlanInput = z.infer<typeof PlanSchema>;
export type EntityInput = z.infer<typeof EntitySchema>;
export type FieldInput = z.infer<typeof FieldSchema>;
export type InvalidPolicyName = z.infer<typeof InvalidPolicy>;

/** The keys each level of the plan accepts, for "did you mean" on a misspelt key. */
export const KNOWN_KEYS = {
  plan: Object.keys(PlanSchema.shape),
  entity: Object.keys(EntitySchema.shape),
  field: Object.keys(FieldSchema.shape),
  dedupe: Object.keys(Dedupe.shape),
} as const;
