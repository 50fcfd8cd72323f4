#!/usr/bin/env node
/**
 * The operator CLI, installed as `katapult-chatops`:
 *   check                                   every start-up check and more, one line each
 *   export-audit [--workspace T…] [--since ISO]   the audit log as JSON lines
 *   rotate-key                              re-seal stored secrets with TOKEN_ENCRYPTION_KEY
 *   migrate                                 bring the store to this release's schema version
 *   --version                               this release's version
 * It reads the same environment (and .env) as the bot. Its stdout carries the command's output and
 * its stderr only its own lines (the Slack client it makes logs nothing).
 */
import { existsSync } from 'node:fs';
import { runCheck, slackTeam } from './cli/check.js';
import { knownWorkspaces, type Output, openConfiguredStore } from './cli/context.js';
import { runExportAudit, runMigrate, runRotateKey } from './cli/maintenance.js';
import { type Config, ConfigError, parseConfig } from './config.js';
import { errorText } from './log.js';
import { packageVersion } from './metrics.js';

const USAGE = `usage: katapult-chatops <command>
  check                                      check the configuration, Slack, the store, the key and Katapult tokens
  export-audit [--workspace T…] [--since ISO]  print audit entries as JSON lines
  rotate-key                                 re-seal stored secrets with TOKEN_ENCRYPTION_KEY
                                             (old keys in TOKEN_ENCRYPTION_OLD_KEYS)
  migrate                                    migrate the store to this release's schema version
  --version                                  print this release's version`;

export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  out: Output,
  err: Output,
): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out.line(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version') {
    out.line(packageVersion());
    return 0;
  }
  if (!['check', 'export-audit', 'rotate-key', 'migrate'].includes(command)) {
    err.line(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
    return 2;
  }
  // `rotate-key --help` must print the usage, not rotate; an option a command does not take is an
  // error rather than silently ignored.
  if (rest.some((arg) => arg === '--help' || arg === '-h')) {
    out.line(USAGE);
    return 0;
  }
  if (command !== 'export-audit' && rest.length > 0) {
    err.line(`${command} takes no options (got ${JSON.stringify(rest[0])})\n${USAGE}`);
    return 2;
  }
  let config: Config;
  try {
    config = parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // Every mistake at once, one line each.
      for (const line of error.lines()) out.line(`FAIL config             ${line}`);
      if (command === 'check') out.line('check failed: config');
      return 1;
    }
    throw error;
  }
  if (command === 'check') return runCheck(config, out);

  const store = await openConfiguredStore(config);
  try {
    switch (command) {
      case 'migrate':
        return await runMigrate(store, out);
      case 'rotate-key':
        return await runRotateKey(config, store, out);
      default: {
        const options = parseExportOptions(rest);
        if (typeof options === 'string') {
          err.line(options);
          return 2;
        }
        let workspaces = options.workspaces;
        if (workspaces.length === 0) {
          workspaces = await knownWorkspaces(store);
          // A single-workspace install may have no stored record yet: ask Slack which team it is.
          const team = await slackTeam(config).catch(() => null);
          if (team && !workspaces.includes(team)) workspaces.push(team);
        }
        return await runExportAudit(store, out, err, {
          workspaces,
          sinceMs: options.sinceMs,
          limit: config.audit.maxPerWorkspace,
        });
      }
    }
  } finally {
    await store.close().catch(() => undefined);
  }
}

function parseExportOptions(args: string[]): { workspaces: string[]; sinceMs: number | null } | string {
  const workspaces: string[] = [];
  let sinceMs: number | null = null;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    const [flag, inline] = arg.includes('=')
      ? (arg.split(/=(.*)/s, 2) as [string, string])
      : [arg, undefined];
    const value = inline ?? args[i + 1];
    if (flag !== '--workspace' && flag !== '--since') return `unknown option ${arg}`;
    if (value === undefined || value.startsWith('--')) return `${flag} needs a value`;
    if (inline === undefined) i += 1;
    if (flag === '--workspace') {
      workspaces.push(...value.split(',').filter(Boolean));
    } else {
      sinceMs = Date.parse(value);
      if (Number.isNaN(sinceMs))
        return `--since: expected an ISO 8601 date or time, e.g. 2025-01-31 or 2025-01-31T12:00:00Z`;
    }
  }
  return { workspaces, sinceMs };
}

const isMain = process.argv[1] && /(?:^|[\\/])(?:cli\.[jt]s|katapult-chatops)$/.test(process.argv[1]);
if (isMain) {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const stdout: Output = { line: (text) => process.stdout.write(`${text}\n`) };
  const stderr: Output = { line: (text) => process.stderr.write(`${text}\n`) };
  runCli(process.argv.slice(2), process.env, stdout, stderr).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`katapult-chatops: ${errorText(error)}\n`);
      process.exitCode = 1;
    },
  );
}
