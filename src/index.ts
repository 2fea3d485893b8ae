// The library's public surface. The CLI (src/cli) is a thin layer over exactly these: it imports nothing else
// of the project (eslint.config.js holds it to that).
import type { WorkerOptions } from './engine/scale/queue-worker.js';
export { loadPlan, parsePlan, withPlanSettings, DEFAULT_BATCH_SIZE, type Plan } from './plan/load.js';
export { runPlan, type RunOptions, type RunSummary, type ReasonCount, type Lag } from './engine/run.js';
export { syncPlan, type SyncOptions } from './engine/sync.js';
export { followPlan, followChanges, type FollowOptions, type FollowProgress } from './engine/follow.js';
export {
  changeCaptureStatus,
  withChangeFeed,
  streamOf,
  type ChangeCaptureStatus,
} from './engine/strategies/change-stream.js';
export {
  verifyPlan,
  type VerifyOptions,
  type VerifySummary,
  type EntityVerification,
  type Difference,
  type DifferenceKind,
} from './verify/verify.js';
export { previewPlan, type PlanPreview, type EntityPreview, type SampleRow } from './engine/preview.js';
export { listQuarantine, quarantineColumns } from './engine/quarantine/quarantine.js';
export { retryQuarantine, type FixedRecord, type RetryResult } from './engine/quarantine/retry.js';
export { matchEvidence, type MatchEvidence } from './engine/dedupe/match-evidence.js';
export { listMerges, reviewPairs, decidePairs } from './engine/dedupe/merge-map.js';
export { auditHistory } from './engine/audit.js';
export { draftPlan, planNameOf, type InitResult } from './init/init.js';
export {
  renderRunReport,
  renderVerifyReport,
  writeReport,
  type RunReportInput,
  type ThroughputSample,
} from './report/report.js';
export { LagSamples, renderFollowReport, type FollowReportInput, type LagSample } from './report/follow-report.js';
export { verifyColumns } from './verify/verify.js';
export { decryptValue, keyBytes } from './protect/protect.js';
export {
  parseQuarantineLimit,
  quarantineOverLimit,
  QUARANTINE_LIMIT_HINT,
  type QuarantineLimit,
} from './plan/quarantine-limit.js';
export { parseDuration, DURATION_HINT } from './plan/duration.js';
export { packageVersion } from './version.js';
export type { EntityProgress } from './engine/write/load-entity.js';
export type { EntityQuality } from './engine/map/quality.js';
export { parsePersonName, type PersonName } from './mapping/person-name.js';
export { defineSurvivorRule, type SurvivorRule, type ClusterMember } from './dedupe/survivorship.js';
export { defineStep, type StepDefinition, type StepResult, type StepIssue } from './mapping/steps.js';
export { CrmMigrateError, PlanError, formatPlanIssue, type PlanIssue, type SourceLocation } from './errors.js';
export { redactUrl } from './connectors/url.js';
export type {
  Connector,
  ChangeFeed,
  ChangeStreamName,
  ChangeBatch,
  RowChange,
  LogPosition,
  Source,
  Target,
  StateStore,
  Counts,
  Reason,
  QuarantinedRow,
  Checkpoint,
  RunRecord,
  TableInfo,
  ColumnInfo,
  AuditEntry,
  MergeEntry,
  ReviewPair,
  PairDecision,
} from './connectors/contract.js';
export type { Value, Row, LogicalType } from './values.js';
export type { WorkerOptions };
/** `crm-migrate worker`, imported when called: BullMQ and ioredis took a fifth of every command's start-up. */
export const runWorker = async (options: WorkerOptions): Promise<void> =>
  (await import('./engine/scale/queue-worker.js')).runWorker(options);
export { queueAddress } from './engine/scale/queue.js';
