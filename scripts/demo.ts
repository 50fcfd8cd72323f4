/**
 * `npm run demo`: try the bot without Slack or a Katapult account. Starts the real bot (Bolt in HTTP
 * mode, real WebClient, real Katapult client, SQLite in a temporary folder, a random encryption key)
 * on 127.0.0.1 against the built-in fake Slack and fake Katapult used by the tests, plays one
 * request's story, then several policies at once, an approval and the emergency stop, with requests
 * signed exactly as Slack signs them, and prints what each person sees, in order, as text. With
 * `--builder-links` every surface also gets a Block Kit Builder link. Stops everything it started;
 * exits 1 with the failing step if one fails.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { FAKE_KATAPULT_DEFAULT_ORGANIZATION } from '../support/fakes/katapult-catalogue.js';
import { FAKE_BOT_USER_ID } from '../support/fakes/slack-api.js';
import { ADMIN, CHANNEL, type Harness, MEMBER, SIGNING_SECRET, startHarness } from '../support/harness.js';
import { createContext, type DemoContext, DemoStepError } from './demo-context.js';
import { approvalSteps, freezeStep, severalStep } from './demo-scenes.js';
import {
  commandStep,
  failureStep,
  helpStep,
  homeStep,
  pickerStep,
  previewStep,
  restoreStep,
  submitStep,
  tokenStep,
} from './demo-story.js';
import type { RenderOptions } from './render-surface.js';

export { DemoStepError } from './demo-context.js';

export interface DemoOptions {
  /** Receives the output, a chunk at a time (default: process.stdout). */
  write?: (text: string) => void;
  /** ANSI bold and dim (default: only when stdout is a terminal and NO_COLOR is unset). */
  color?: boolean;
  /** The Katapult token the admin pastes (default: a random one the fake Katapult accepts). */
  katapultToken?: string;
  /** Wrap width (default 100). */
  width?: number;
  /** A Block Kit Builder link under every surface (default off: `--builder-links`). */
  builderLinks?: boolean;
}

export interface DemoResult {
  steps: number;
  elapsedMs: number;
}

export const BUILDER_LINKS_FLAG = '--builder-links';
/** Names the fake workspace's people and channel go by in the output. */
const NAMES = {
  users: { [ADMIN]: 'dana', [MEMBER]: 'alice', [FAKE_BOT_USER_ID]: 'katapult' },
  channels: { [CHANNEL]: 'ops' },
};
const ADMIN_ZONE = 'Europe/London';

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const color = options.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
  const render: RenderOptions = { ...NAMES, timeZone: ADMIN_ZONE, color, width: options.width ?? 100 };
  const katapultToken = options.katapultToken ?? `kt-demo-${randomBytes(16).toString('hex')}`;
  const builderLinks = options.builderLinks ?? false;
  write(
    'katapult-chatops demo: the real bot, a fake Slack and a fake Katapult, all on 127.0.0.1.\n' +
      'Nothing here talks to slack.com or api.katapult.io; no workspace or account is needed.\n',
  );
  let h: Harness | null = null;
  let ctx: DemoContext | null = null;
  try {
    // The product's default: only workspace admins and owners may schedule, so the admin does it all.
    h = await startHarness({ env: { KATAPULT_DEFAULT_ACCESS: 'admins', LOG_LEVEL: 'info' } });
    h.katapult.setTokens({ [katapultToken]: FAKE_KATAPULT_DEFAULT_ORGANIZATION });
    ctx = createContext(h, { write, render, builderLinks });
    introduce(ctx);
    await play(ctx, katapultToken);
    const elapsedMs = Date.now() - started;
    const steps = ctx.current().number;
    ctx.out(
      '',
      '─'.repeat(render.width ?? 100),
      `Done: ${steps} steps in ${(elapsedMs / 1000).toFixed(1)} s. To run it in your own workspace, see “Set up” in README.md.`,
    );
    if (!builderLinks)
      ctx.note(`Block Kit Builder links for every surface: npm run demo -- ${BUILDER_LINKS_FLAG}`);
    return { steps, elapsedMs };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const at = ctx?.current() ?? { number: 0, title: 'start-up' };
    throw new DemoStepError(
      `demo failed at step ${at.number} (${at.title}): ${scrub(reason, [katapultToken, SIGNING_SECRET])}`,
    );
  } finally {
    await h?.stop();
  }
}

function introduce(ctx: DemoContext): void {
  ctx.note(
    `Bot listening on ${ctx.h.baseUrl}/slack/events (HTTP mode, SQLite in a temporary folder, random encryption key).`,
    `Workspace: @${ctx.name(ADMIN)} (admin, ${ADMIN_ZONE}) and @${ctx.name(MEMBER)} (member) in #${NAMES.channels[CHANNEL]}. Fake Katapult organization: ${FAKE_KATAPULT_DEFAULT_ORGANIZATION}, ${ctx.h.katapult.policies().length} disk backup policies.`,
  );
}

/** The one request's story, then several policies at once, an approval and the emergency stop. */
async function play(ctx: DemoContext, katapultToken: string): Promise<void> {
  await tokenStep(ctx, katapultToken);
  await helpStep(ctx);
  const form = await commandStep(ctx);
  await previewStep(ctx, form);
  await pickerStep(ctx, form);
  await submitStep(ctx, form);
  await restoreStep(ctx, form);
  await homeStep(ctx);
  await failureStep(ctx, form);
  await severalStep(ctx, form);
  await approvalSteps(ctx, form);
  await freezeStep(ctx, form);
}

function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, secret) => t.split(secret).join('[redacted]'), text);
}

/** The command line's options, or the usage text when it has one the demo does not know. */
export function parseDemoArgs(args: readonly string[]): { builderLinks: boolean } | { usage: string } {
  const unknown = args.filter((a) => a !== BUILDER_LINKS_FLAG);
  if (unknown.length > 0)
    return {
      usage: `unknown option ${unknown.join(' ')}\nusage: npm run demo [-- ${BUILDER_LINKS_FLAG}]\n  ${BUILDER_LINKS_FLAG}  a Block Kit Builder link under every surface`,
    };
  return { builderLinks: args.includes(BUILDER_LINKS_FLAG) };
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const parsed = parseDemoArgs(process.argv.slice(2));
  if ('usage' in parsed) {
    process.stderr.write(`${parsed.usage}\n`);
    process.exitCode = 2;
  } else {
    runDemo({ builderLinks: parsed.builderLinks }).then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      },
    );
  }
}
