// The library's public surface. The CLI (src/cli) is a thin layer over exactly these.
export { loadPlan, parsePlan, DEFAULT_BATCH_SIZE, type Plan } from './plan/load.js';
export { runPlan, type RunOptions, type RunSummary, type ReasonCount, type Lag } from './engine/run.js';
export { verifyPlan, type VerifyOptions, type VerifySummary, type EntityVerification, type Difference, type DifferenceKind } from './verify/verify.js';
export { previewPlan, type PlanPreview, type EntityPreview, type SampleRow } from './engine/preview.js';
export { listQuarantine } from './engine/quarantine.js';
export { matchEvidence, type MatchEvidence } from './engine/match-evidence.js';
export type { EntityProgress } from './engine/load-entity.js';
export { parsePersonName, type PersonName } from './mapping/person-name.js';
export { defineSurvivorRule, type SurvivorRule, type ClusterMember } from './dedupe/survivorship.js';
export { defineStep, type StepDefinition, type StepResult, type StepIssue } from './mapping/steps.js';
export { CrmMigrateError, PlanError, formatPlanIssue, type PlanIssue, type SourceLocation } from './errors.js';
export { redactUrl } from './connectors/url.js';
export type {
  Connector, Source, Target, StateStore, Counts, Reason, QuarantinedRow, Checkpoint, RunRecord, TableInfo, ColumnInfo,
} from './connectors/contract.js';
export type { Value, Row, LogicalType } from './values.js';
