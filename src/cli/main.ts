import { Command, CommanderError } from 'commander';
import { CrmMigrateError, PlanError } from '../index.js';
import { decryptCommand, type DecryptCommandOptions } from './decrypt-command.js';
import { merges, review } from './dedupe-commands.js';
import { cdcSetup, cdcStatus, cdcTeardown } from './cdc-command.js';
import { history } from './history-command.js';
import { initCommand, type InitCommandOptions } from './init-command.js';
import { plan } from './plan-command.js';
import { quarantine } from './quarantine-command.js';
import { run } from './run-command.js';
import { sync } from './sync-command.js';
import { verify } from './verify-command.js';
import { workerCommand, type WorkerCommandOptions } from './worker-command.js';
import { formatIssues } from './format.js';
import type { PlanCommand, PlanOptions } from './plan-options.js';
import { loadPlan } from '../index.js';
import { packageVersion } from '../index.js';

/** The commands on a plan, in the order --help lists them (init and decrypt are defined below). */
const PLAN_COMMANDS: readonly PlanCommand[] = [
  plan,
  run,
  sync,
  verify,
  history,
  quarantine,
  merges,
  review,
  cdcSetup,
  cdcStatus,
  cdcTeardown,
];

/** Where commands write. Tests pass their own; only `bin/crm-migrate.js` touches the process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether `err` is an interactive terminal (progress bars) or a pipe, a file, a test (plain lines). */
  readonly terminal?: boolean;
}

const processIo: Io = {
  // A terminal that cannot move the cursor (TERM=dumb: an editor's shell, some CI consoles) gets plain lines.
  terminal: process.stderr.isTTY === true && process.env.TERM !== 'dumb',
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

const version = packageVersion();

/** Prints an error the way users should see it — no stack trace for their mistakes — and picks the exit code. */
function report(error: unknown, io: Io, showValues: boolean): number {
  if (error instanceof PlanError) {
    io.err(formatIssues(error.issues.filter((i) => i.severity === 'error')));
    io.err(`the plan was refused; nothing was written`);
    return 2;
  }
  if (error instanceof CrmMigrateError) {
    io.err(`error: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`);
    const cause = error.cause as { message?: string; detail?: string } | undefined;
    if (showValues && cause)
      io.err(`cause (may show values): ${cause.message ?? ''}${cause.detail ? ` — ${cause.detail}` : ''}`);
    if (process.env.CRM_MIGRATE_DEBUG && error.code === 'E_INTERNAL')
      io.err((error.cause as Error | undefined)?.stack ?? error.stack ?? '');
    return error.exitCode;
  }
  // Not one of ours: a bug or an unexpected driver failure. The message only: driver messages can quote values.
  io.err(`internal error: ${(error as Error)?.message ?? String(error)}`);
  if (process.env.CRM_MIGRATE_DEBUG) io.err((error as Error)?.stack ?? '');
  return 1;
}

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let exitCode = 0;
  let showValues = false;
  const program = new Command('crm-migrate')
    .description(
      'Move customer data from a legacy CRM database into a new CRM schema: mapped, cleaned, de-duplicated, verified, never silently lost.',
    )
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run crm-migrate --help for usage)');

  /**
   * A command on a plan. A plan of several targets runs it once per target, in the plan's order (each a part
   * of its own, see src/plan/targets.ts), unless --target picks one; `oneTarget` commands need that pick.
   */
  const action =
    <O extends PlanOptions & { showValues?: boolean }>(
      command: (plan: string, options: O, io: Io) => Promise<number>,
      { oneTarget = false } = {},
    ) =>
    async (file: string, options: O) => {
      showValues = options.showValues === true;
      const whole =
        options.target === undefined
          ? await loadPlan(file, { allowPlaintextSecrets: options.allowPlaintextSecrets })
          : undefined;
      const targets = whole?.targets;
      if (!targets || targets.length === 1) {
        // Loaded once: the command works on this plan (a plan of one named target is that target's part).
        exitCode = await command(file, { ...options, loaded: whole }, io);
        return;
      }
      if (oneTarget) {
        throw new CrmMigrateError(
          'E_USAGE',
          `the plan has several targets (${targets.join(', ')}), and this command follows one`,
          { hint: `start one per target: --target ${targets[0] ?? 'NAME'}` },
        );
      }
      // The header goes with the output it heads, except where stdout is data (JSON lines, CSV).
      const flags = options as { json?: boolean; csv?: unknown };
      const header = flags.json === true || flags.csv === true ? io.err : io.out;
      for (const [i, target] of targets.entries()) {
        header(`${i === 0 || header === io.err ? '' : '\n'}target ${target}:`);
        const code = await command(file, { ...options, target }, io);
        if (exitCode === 0) exitCode = code;
        // Stopped on request: the targets after it wait for the next call, as the rest of a run does.
        if (code === 130) return;
      }
    };
  const targetOption = [
    '--target <NAME>',
    'with a plan of several targets (targets:): only this one (default: each in turn)',
  ] as const;

  program
    .command('init')
    .description('draft a plan from the live source and target schemas: tables and columns matched, risks commented')
    .requiredOption('--source <URL>', 'the old CRM: sqlite:PATH, postgres://…, mysql://…, csv:FOLDER or jsonl:FOLDER')
    .requiredOption('--target <URL>', 'the new CRM (sqlite:, postgres://, mysql://), its tables already created')
    .option('-o, --output <FILE>', 'write the plan here (default: stdout)')
    .option('--force', 'replace FILE if it exists')
    .action(async (options: InitCommandOptions) => {
      exitCode = await initCommand(options, io);
    });

  // `cdc setup` and its kin: a command of a group, made once.
  const groups = new Map<string, Command>();
  const parentOf = (name: string): [Command, string] => {
    const [group, sub] = name.split(' ');
    if (sub === undefined || group === undefined) return [program, name];
    const parent =
      groups.get(group) ??
      program.command(group).description('change capture: set up, check and drop what the source keeps for a follower');
    groups.set(group, parent);
    return [parent, sub];
  };
  for (const command of PLAN_COMMANDS) {
    const [parent, name] = parentOf(command.name);
    const defined = parent
      .command(name)
      .description(command.description)
      .argument('<PLAN>', 'plan file (YAML)')
      .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
      .option(...targetOption);
    command.flags(defined).action(action(command.run, { oneTarget: command.oneTarget }));
  }

  program
    .command('worker')
    .description(
      'load the chunks that run --queue hands out through BullMQ on Redis, on this machine, until SIGINT/SIGTERM',
    )
    .requiredOption('--queue <URL>', 'the Redis the coordinator was given: redis://host:6379?queue=NAME')
    .option(
      '--lock <DURATION>',
      "how long a chunk is this worker's without a sign of life (another takes it over after)",
      '30s',
    )
    .action(async (options: WorkerCommandOptions) => {
      exitCode = await workerCommand(options, io);
    });

  program
    .command('decrypt')
    .description(
      "decrypt values that protect: encrypt wrote, with the plan's key: the VALUEs given, or one per line on stdin",
    )
    .argument('<PLAN>', 'plan file (YAML) whose keys: section holds the key')
    .argument('[VALUE...]', 'enc:v1:… values')
    .option('--key <NAME>', "which of the plan's keys", 'pii')
    .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
    .action(async (plan: string, values: string[], options: DecryptCommandOptions) => {
      exitCode = await decryptCommand(plan, values, options, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
        ? 0
        : 2;
    }
    return report(error, io, showValues);
  }
}
