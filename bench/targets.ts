/**
 * The three processes a run measures, and how each is started: the bot (`node dist/main.js`, or
 * its sources through tsx), the bare Bolt baseline (bench/baseline-app.mjs) and the same-work
 * baseline (bench/same-work-app.mjs). All get the same environment but for their Slack token (so
 * the fake Slack can tell whose call it is).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FAKE_KATAPULT_VALID_TOKEN } from '../support/fakes/katapult-api.js';
import type { InstrumentedFakes } from './fakes.js';
import type { BenchOptions } from './options.js';
import type { LaunchSpec, TargetName } from './processes.js';
import type { Kind } from './report.js';

export const TARGETS: readonly TargetName[] = ['bot', 'baseline', 'same-work'];

export const SLACK_TOKENS: Record<TargetName, string> = {
  bot: 'xoxb-bench-bot-0000-1111',
  baseline: 'xoxb-bench-baseline-0000-1111',
  'same-work': 'xoxb-bench-same-work-0000-1111',
};

export const BASELINES = {
  bare: {
    name: 'baseline',
    file: 'bench/baseline-app.mjs',
    does: 'bare Bolt: command → ack + views.open of the bot’s own scheduling modal (a copy); submission → ack + chat.postMessage',
  },
  sameWork: {
    name: 'same-work',
    file: 'bench/same-work-app.mjs',
    does:
      'bare Bolt doing the bot’s work by hand: submission → ack, one claim in the store, Katapult ' +
      'schedule (node-fetch), chat.postMessage, two chat.scheduleMessage (the bot’s own Block Kit messages, copied), ' +
      'one audit row in the store ' +
      '(same STORE_URL and driver as the bot)',
  },
} as const;

/** The request kinds a target is measured on: the same-work baseline only differs in submissions. */
export function kindsOf(name: TargetName, kinds: readonly Kind[]): Kind[] {
  return name === 'same-work' ? kinds.filter((k) => k === 'submission') : [...kinds];
}

/** The bots' encryption key, derived from the run's signing secret so the load can sign modal metadata as the bot does. */
export function benchEncryptionKey(signingSecret: string): Buffer {
  return createHash('sha256').update(`bench-encryption-key:${signingSecret}`).digest();
}

/** The launch of one target, on the store whose environment is `storeEnv`. */
export function launchSpec(
  name: TargetName,
  options: BenchOptions,
  root: string,
  fakes: InstrumentedFakes,
  signingSecret: string,
  storeEnv: Record<string, string>,
): LaunchSpec {
  const profile = options.cpuProfDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${path.resolve(root, options.cpuProfDir)}`,
        `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`,
      ]
    : [];
  const botEntry = path.join(root, options.bot === 'dist' ? 'dist/main.js' : 'src/main.ts');
  const tsx = () => pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const args =
    name === 'baseline'
      ? [path.join(root, 'bench/baseline-app.mjs')]
      : name === 'same-work'
        ? [path.join(root, 'bench/same-work-app.mjs')]
        : options.bot === 'dist'
          ? [botEntry]
          : ['--import', tsx(), botEntry];
  return {
    name,
    args: [...profile, ...args],
    env: {
      ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
      SLACK_BOT_TOKEN: SLACK_TOKENS[name],
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: fakes.slack.apiUrl,
      KATAPULT_API_URL: fakes.katapult.baseUrl,
      KATAPULT_API_TOKEN: FAKE_KATAPULT_VALID_TOKEN,
      PORT: '0',
      TOKEN_ENCRYPTION_KEY: benchEncryptionKey(signingSecret).toString('base64'),
      LOG_LEVEL: 'info',
      BENCH_PROBE: '1',
      BENCH_PROBE_RESOLUTION_MS: String(options.eldResolutionMs),
      ...(name !== 'bot' && options.bareListeners > 0
        ? { BENCH_BARE_LISTENERS: String(options.bareListeners) }
        : {}),
      ...storeEnv,
      ...(options.bot === 'src' ? { TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json') } : {}),
    },
    readyTimeoutMs: options.bot === 'src' ? 40_000 : 20_000,
  };
}
