/** The manifests ask for exactly the scopes the code calls for, and name the configured command. */
import { readFileSync } from 'node:fs';
import { SHORTCUTS, WORKFLOW_STEP } from '../../src/slack/ids.js';
import { parseCommandText } from '../../src/slack/listeners/commands/command-text.js';
import { BOT_SCOPES } from '../../src/slack/scopes.js';

function botScopes(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const block = text.split(/^\s+bot:\s*$/m)[1]?.split(/^\S|^\s{0,2}\w+:/m)[0] ?? '';
  return [...block.matchAll(/^\s+-\s+([a-z:.]+)\s*$/gm)].map((m) => m[1] ?? '').sort();
}

test.each(['manifest.yml', 'manifest.oauth.yml'])(
  '%s lists exactly the bot scopes in src/slack/scopes.ts',
  (file) => {
    expect(botScopes(file)).toEqual([...BOT_SCOPES].sort());
    expect(readFileSync(file, 'utf8')).toContain('command: /katapult');
  },
);

// The Workflow Builder step (issue 21, item 4): declared with the callback_id and parameter names the
// listener reads, its event, and the org-ready setting Slack requires for custom steps.
test.each(['manifest.yml', 'manifest.oauth.yml'])(
  '%s declares the Workflow Builder step as the code names it',
  (file) => {
    const text = readFileSync(file, 'utf8');
    const functions = text.split(/^functions:\s*$/m)[1] ?? '';
    expect(functions).toMatch(new RegExp(`^  ${WORKFLOW_STEP.callbackId}:\\s*$`, 'm'));
    const [inputs, outputs] = functions.split(/^\s+output_parameters:\s*$/m);
    const names = (block = '') => [...block.matchAll(/^ {6}(\w+):\s*$/gm)].map((m) => m[1]).sort();
    expect(names(inputs)).toEqual(
      [
        WORKFLOW_STEP.policyIdsInput,
        WORKFLOW_STEP.moveAtInput,
        WORKFLOW_STEP.requesterInput,
        WORKFLOW_STEP.channelInput,
      ].sort(),
    );
    expect(names(outputs)).toEqual([WORKFLOW_STEP.scheduledAtOutput, WORKFLOW_STEP.outcomesOutput].sort());
    expect(inputs).toContain('type: slack#/types/user_id');
    expect(inputs).toContain('type: slack#/types/channel_id');
    expect(text).toMatch(/^\s+- function_executed\s*$/m);
    expect(text).toMatch(/^\s+org_deploy_enabled: true\s*$/m);
    expect(text).toMatch(/^\s+function_runtime: remote\s*$/m);
  },
);

/** The `features.shortcuts` entries of a manifest: each one's type and callback_id. */
function shortcuts(file: string): { type: string; callbackId: string }[] {
  const text = readFileSync(file, 'utf8');
  const block = text.split(/^ {2}shortcuts:\s*$/m)[1]?.split(/^\S|^ {2}\w+:/m)[0] ?? '';
  return block
    .split(/^ {4}- /m)
    .slice(1)
    .map((entry) => ({
      type: /^\s*type:\s*(\S+)\s*$/m.exec(`  ${entry}`)?.[1] ?? '',
      callbackId: /^\s*callback_id:\s*(\S+)\s*$/m.exec(`  ${entry}`)?.[1] ?? '',
    }));
}

test.each(['manifest.yml', 'manifest.oauth.yml'])(
  '%s declares both shortcuts with the callback IDs the listeners answer',
  (file) => {
    expect(shortcuts(file)).toEqual([
      { type: 'message', callbackId: SHORTCUTS.fromMessage },
      { type: 'global', callbackId: SHORTCUTS.global },
    ]);
  },
);

test.each(['manifest.yml', 'manifest.oauth.yml'])(
  '%s: the usage hint names every subcommand the command understands',
  (file) => {
    const hint = /usage_hint:\s*"([^"]*)"/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
    const words = hint.split('|').map((part) => part.trim().split(/\s+/)[0]);
    for (const sub of ['token', 'access', 'history', 'freeze', 'unfreeze', 'help']) {
      expect(words).toContain(sub);
      // …and the command really reads it as that subcommand, not as a policy ID.
      expect(parseCommandText(sub).kind).toBe(sub);
    }
  },
);

test.each(['manifest.yml', 'manifest.oauth.yml'])(
  '%s subscribes to the events that end an installation (the bot forgets the workspace, keeping its trail) and to profile changes',
  (file) => {
    const events =
      readFileSync(file, 'utf8')
        .split(/^\s+bot_events:\s*$/m)[1]
        ?.split(/^\s{2}\w+:/m)[0] ?? '';
    expect(events).toMatch(/^\s+- app_uninstalled\s*$/m);
    expect(events).toMatch(/^\s+- tokens_revoked\s*$/m);
    // And to profile changes: the bot keeps profiles for minutes, dropped at a user_change.
    expect(events).toMatch(/^\s+- user_change\s*$/m);
  },
);
