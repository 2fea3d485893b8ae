import type {
  ChangeFeed,
  ChangeRequirement,
  ChangeStreamName,
  ChangeStreamStatus,
  Source,
} from '../../connectors/contract.js';
import { CrmMigrateError, type PlanIssue } from '../../errors.js';
import type { Plan } from '../../plan/load.js';
import { openPlanSource } from '../connections.js';

/** The change stream of a plan on its source: its slot and publication are named after the plan. */
export function streamOf(plan: Plan, entities: readonly { from: string }[]): ChangeStreamName {
  const name = `crm_migrate_${plan.name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  return { name, tables: [...new Set(entities.map((e) => e.from))] };
}

/** The plan's change-capture entities, in load order. */
export function followedEntities(plan: Plan): Plan['entities'] {
  return plan.entities.filter((e) => e.strategy === 'cdc');
}

/** The source's change log, or a clear refusal when it keeps none a follower can read. */
export function changeFeedOf(source: Source): ChangeFeed {
  const feed = source.changes?.();
  if (!feed)
    throw new CrmMigrateError(
      'E_PLAN',
      `strategy: cdc needs a source that keeps a change log; ${source.display} does not`,
      {
        hint: 'follow a PostgreSQL or MySQL/MariaDB source (one source per plan), or use strategy: incremental',
      },
    );
  return feed;
}

/** Refuses to start while the source lacks what change capture needs, naming each thing and its fix. */
export async function requireChangeCapture(feed: ChangeFeed, stream: ChangeStreamName): Promise<void> {
  const missing = (await feed.requirements(stream)).filter((r) => !r.ok);
  if (missing.length === 0) return;
  throw new CrmMigrateError(
    'E_STATE',
    `the source is not ready for change capture:\n${missing.map((m) => `  - ${m.what}: ${m.fix ?? ''}`).join('\n')}`,
    {
      hint: 'crm-migrate cdc status PLAN shows each requirement; crm-migrate cdc setup PLAN creates the slot and publication',
    },
  );
}

/** Refuses a plan whose source is not ready for its change-capture entities (see requireChangeCapture). */
export async function readyForChangeCapture(plan: Plan, source: Source): Promise<void> {
  const feed = changeFeedOf(source);
  try {
    await requireChangeCapture(feed, streamOf(plan, followedEntities(plan)));
  } finally {
    await feed.close();
  }
}

/**
 * What the source still lacks for the plan's change-capture entities, as warnings on the first such entity's
 * `strategy:` (for `plan`, which writes nothing): a run would refuse to start until each is fixed.
 */
export async function changeCaptureIssues(plan: Plan, source: Source): Promise<PlanIssue[]> {
  const followed = followedEntities(plan);
  const first = followed[0];
  if (!first) return [];
  const feed = source.changes?.();
  const path = [...first.path, 'strategy'];
  if (!feed)
    return [
      {
        severity: 'warning',
        path,
        message: `strategy: cdc needs a source that keeps a change log; ${source.display} does not`,
        location: plan.locate(path),
      },
    ];
  try {
    const stream = streamOf(plan, followed);
    const status = await feed.status(stream);
    return [
      ...(await feed.requirements(stream))
        .filter((r) => !r.ok)
        .map((r): PlanIssue => ({
          severity: 'warning',
          path,
          message: `change capture needs: ${r.what}`,
          hint: r.fix,
          location: plan.locate(path),
        })),
      ...[retainedWarning(status)].flatMap((w): PlanIssue[] =>
        w ? [{ severity: 'warning', path, message: w, location: plan.locate(path) }] : [],
      ),
    ];
  } finally {
    await feed.close();
  }
}

/** Retained WAL past which `cdc status` and `sync --follow` warn that a stopped follower is filling the source's disk. */
export const RETAINED_WARNING_BYTES = 1024 ** 3;

/** What `cdc status` shows: the stream on the source, each requirement, and where each followed entity stands. */
export interface ChangeCaptureStatus {
  readonly stream: ChangeStreamStatus;
  readonly requirements: readonly ChangeRequirement[];
  readonly warning: string | undefined;
}

/** Opens the plan's source and its change log for one piece of work (setup, status, teardown). */
export async function withChangeFeed<T>(
  plan: Plan,
  work: (feed: ChangeFeed, stream: ChangeStreamName) => Promise<T>,
): Promise<T> {
  const followed = followedEntities(plan);
  if (followed.length === 0)
    throw new CrmMigrateError('E_USAGE', `plan ${plan.name} has no entity with strategy: cdc`, {
      hint: 'add strategy: cdc to the entities to follow',
    });
  const source = await openPlanSource(plan);
  try {
    const feed = changeFeedOf(source);
    try {
      return await work(feed, streamOf(plan, followed));
    } finally {
      await feed.close();
    }
  } finally {
    await source.close();
  }
}

/** The warning for a slot that keeps more log than it should, or undefined. */
export function retainedWarning(status: ChangeStreamStatus): string | undefined {
  const bytes = status.retainedBytes ?? 0;
  if (bytes < RETAINED_WARNING_BYTES) return undefined;
  return `replication slot ${status.name} keeps ${(bytes / 1024 ** 3).toFixed(1)} GiB of WAL on the source for this plan${status.active ? '' : ' and no follower is reading it'}: follow it (sync --follow) or drop it at cut-over (cdc teardown)`;
}

export async function changeCaptureStatus(plan: Plan): Promise<ChangeCaptureStatus> {
  return withChangeFeed(plan, async (feed, stream) => {
    const status = await feed.status(stream);
    return { stream: status, requirements: await feed.requirements(stream), warning: retainedWarning(status) };
  });
}
