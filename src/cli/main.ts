import { Command, CommanderError, Option } from 'commander';
import { CrmMigrateError, PlanError } from '../index.js';
import { decryptCommand, type DecryptCommandOptions } from './decrypt-command.js';
import { mergesCommand, reviewCommand } from './dedupe-commands.js';
import { historyCommand } from './history-command.js';
import { initCommand, type InitCommandOptions } from './init-command.js';
import { planCommand } from './plan-command.js';
import { quarantineCommand } from './quarantine-command.js';
import { runCommand } from './run-command.js';
import { syncCommand } from './sync-command.js';
import { DIFFERENT, verifyCommand } from './verify-command.js';
import { formatIssues } from './format.js';
import type { PlanOptions } from './plan-options.js';
import { loadPlan } from '../index.js';
import { parseQuarantineLimit, QUARANTINE_LIMIT_HINT } from '../index.js';
import { packageVersion } from '../index.js';

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

/** One run of a plan per target at a time: a second one is refused, or with this flag waits its turn. */
const waitOption = [
  '--wait',
  'if another run of the plan is writing to the target, wait for it to finish instead of refusing',
] as const;
const maxQuarantinedOption = [
  '--max-quarantined <LIMIT>',
  "fail (exit 1) when the run quarantines more than LIMIT: rows (100) or a share of the rows read (5%); overrides the plan's max_quarantined",
  (v: string) => {
    if (!parseQuarantineLimit(v))
      throw new CrmMigrateError('E_USAGE', `--max-quarantined "${v}" is not a limit`, { hint: QUARANTINE_LIMIT_HINT });
    return v;
  },
] as const;

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

  program
    .command('plan')
    .description('check PLAN against the live schemas and show sample rows before -> after; writes nothing')
    .argument('<PLAN>', 'plan file (YAML)')
    .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
    .option(...targetOption)
    .option('--sample <N>', 'rows to push through each entity', (v) => positiveInt(v, '--sample'), 20)
    .option('--json', 'print the preview as JSON on stdout')
    .option('--show-values', 'show fields marked pii (or protected) unmasked in the sample rows')
    .action(action(planCommand));

  program
    .command('run')
    .description(
      'run PLAN: a full load (then, for incremental entities, the changes since the last run), resumed from its checkpoint if a run did not finish',
    )
    .argument('<PLAN>', 'plan file (YAML)')
    .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
    .option(...targetOption)
    .option('--fresh', 'start over: empty the target tables of the plan and forget its checkpoints and quarantine')
    .option('--json', 'print only the JSON summary on stdout')
    .option('--quiet', 'no progress output')
    .option('--report <FILE>', 'where to write the HTML report (default: reports/<plan>-<run>.html beside the plan)')
    .option('--no-report', 'write no HTML report')
    .option(
      '--show-values',
      "on failure, also print the database's own error detail, and put a few quarantined rows with their values in the report (customer data)",
    )
    .option(...waitOption)
    .option(...maxQuarantinedOption)
    .action(action(runCommand));

  program
    .command('sync')
    .description(
      "keep the target in step: run increments of PLAN's incremental entities every --every until SIGINT/SIGTERM",
    )
    .argument('<PLAN>', 'plan file (YAML)')
    .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
    .option(...targetOption)
    .option('--every <DURATION>', 'time between increments: 30s, 5m, 1h', '30s')
    .option('--json', 'one JSON line per increment on stdout')
    .option('--show-values', "on failure, also print the database's own error detail (it can quote customer values)")
    .option(...waitOption)
    .option(...maxQuarantinedOption)
    .action(action(syncCommand, { oneTarget: true }));

  program
    .command('verify')
    .description(`compare the target with what PLAN says it should hold; exit 0 when equal, ${DIFFERENT} when not`)
    .argument('<PLAN>', 'plan file (YAML)')
    .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
    .option(...targetOption)
    .option('--limit <N>', 'differences listed per entity (all are counted)', (v) => positiveInt(v, '--limit'), 20)
    .option('--json', 'print the result as JSON on stdout')
    .option(
      '--report <FILE>',
      'where to write the HTML report (default: reports/<plan>-verify-<time>.html beside the plan)',
    )
    .option('--no-report', 'write no HTML report')
    .option('--show-values', 'show the differing values (customer data)')
    .action(action(verifyCommand));

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

  program
    .command('history')
    .description(
      'the audit trail of PLAN on its target: who ran what, when, with which tool version and plan, and how it ended',
    )
    .argument('<PLAN>', 'plan file (YAML)')
    .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
    .option(...targetOption)
    .option('--json', 'JSON lines, one entry each')
    .action(action(historyCommand));

  program
    .command('quarantine')
    .description(
      "list, export (--csv) or retry (--retry) the rows PLAN's runs left in quarantine since the last fresh start (every increment's), with their reasons",
    )
    .argument('<PLAN>', 'plan file (YAML)')
    .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
    .option(...targetOption)
    .option('--entity <NAME>', 'only this entity')
    .addOption(new Option('--json', 'JSON lines, one row each').conflicts('csv'))
    .option(
      '--csv [FILE]',
      'CSV with a header row, on stdout or into FILE; with --show-values one column per source column, ready to fix',
    )
    .option('--show-values', 'include the source row values (customer data)')
    .addOption(
      new Option(
        '--retry <FILE>',
        'push the fixed rows of a CSV exported with --csv FILE --show-values through the plan again',
      ).conflicts(['csv', 'json']),
    )
    .action(action(quarantineCommand));

  program
    .command('merges')
    .description(
      'the merge map of PLAN on its target: each record merged into another, its survivor, the match probability and why (keys only)',
    )
    .argument('<PLAN>', 'plan file (YAML)')
    .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
    .option(...targetOption)
    .option('--csv [FILE]', 'CSV with a header row, on stdout or into FILE')
    .addOption(
      new Option(
        '--explain <KEY>',
        'one merged record, by its source key: its survivor and the evidence, a field a line',
      ).conflicts('csv'),
    )
    .action(action(mergesCommand));

  program
    .command('review')
    .description(
      'pairs of PLAN in the dedupe review band: list them, export them (--csv) or record decisions (--decide) that the next run honours',
    )
    .argument('<PLAN>', 'plan file (YAML)')
    .option('--allow-plaintext-secrets', 'accept a password written into a connection URL of the plan')
    .option(...targetOption)
    .option('--csv [FILE]', 'CSV with an empty decision column, on stdout or into FILE')
    .addOption(
      new Option('--decide <FILE>', 'read a review CSV whose decision column says same or different').conflicts('csv'),
    )
    .action(action(reviewCommand));

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

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CrmMigrateError('E_USAGE', `${flag} takes a whole number, got "${value}"`);
  return n;
}
