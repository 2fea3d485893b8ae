import { changeCaptureStatus, withChangeFeed, type ChangeFeed, type ChangeStreamName } from '../index.js';
import { int } from './format.js';
import type { Io } from './main.js';
import { commandPlan, planCommandOf, type PlanOptions } from './plan-options.js';

interface CdcOptions extends PlanOptions {
  print?: boolean;
  json?: boolean;
}

/**
 * A command that changes what the source keeps for the follower (setup, teardown): run it, or with --print
 * show its SQL for a DBA to run. Never a legacy row.
 */
function streamCommand(
  name: string,
  description: string,
  statements: (feed: ChangeFeed, stream: ChangeStreamName) => string[],
  apply: (feed: ChangeFeed, stream: ChangeStreamName) => Promise<void>,
  done: (stream: ChangeStreamName) => string,
) {
  return planCommandOf({
    name,
    description,
    flags: (c) => c.option('--print', 'print the statements for a DBA to run, and run nothing'),
    oneTarget: true,
    run: async (file: string, options: CdcOptions, io: Io) => {
      const plan = await commandPlan(file, options);
      return withChangeFeed(plan, async (feed, stream) => {
        if (options.print) for (const sql of statements(feed, stream)) io.out(`${sql};`);
        else {
          await apply(feed, stream);
          io.err(done(stream));
        }
        return 0;
      });
    },
  });
}

/** `cdc setup PLAN`: creates the publication and replication slot (or, with --print, shows their SQL). */
export const cdcSetup = streamCommand(
  'cdc setup',
  "create what the source keeps for following PLAN's strategy: cdc entities (PostgreSQL: a publication and a replication slot); --print shows the SQL instead",
  (feed, stream) => feed.setupStatements(stream),
  (feed, stream) => feed.setup(stream),
  (stream) =>
    `change capture ${stream.name} is set up for ${stream.tables.join(', ')}; the changes from now on are kept for the plan`,
);

/** `cdc teardown PLAN`: drops the slot and publication at cut-over, so the source keeps no more log for them. */
export const cdcTeardown = streamCommand(
  'cdc teardown',
  'drop the replication slot and publication of PLAN at cut-over (--print shows the SQL instead)',
  (feed, stream) => feed.teardownStatements(stream),
  (feed, stream) => feed.teardown(stream),
  (stream) => `change capture ${stream.name} is dropped: the source keeps no log for the plan any more`,
);

/** `cdc status PLAN`: the stream on the source, its lag and retained log, and each requirement. */
export const cdcStatus = planCommandOf({
  name: 'cdc status',
  description:
    'the change stream of PLAN on its source: slot, confirmed position, retained log, and what the server still needs',
  flags: (c) => c.option('--json', 'one JSON object on stdout'),
  oneTarget: true,
  run: async (file: string, options: CdcOptions, io: Io) => {
    const plan = await commandPlan(file, options);
    const status = await changeCaptureStatus(plan);
    if (options.json) {
      io.out(JSON.stringify(status));
      return status.requirements.every((r) => r.ok) ? 0 : 1;
    }
    const s = status.stream;
    io.out(`stream ${s.name}: ${s.exists ? (s.active ? 'followed now' : 'not followed now') : 'not set up'}`);
    if (s.exists) {
      io.out(
        `  confirmed ${s.confirmed ?? '-'}, source log at ${s.current ?? '-'}${s.retainedBytes === undefined ? '' : `, ${int(s.retainedBytes)} bytes retained`}${s.lost ? ' — LOST: a new snapshot is needed' : ''}`,
      );
    }
    for (const r of status.requirements)
      io.out(`  ${r.ok ? 'ok  ' : 'MISSING'} ${r.what}${r.ok ? '' : `\n          ${r.fix ?? ''}`}`);
    if (status.warning) io.err(`warning: ${status.warning}`);
    return status.requirements.every((r) => r.ok) ? 0 : 1;
  },
});
