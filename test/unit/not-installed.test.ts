/**
 * OAuth: a workspace with no stored installation gets a context the workspace guard refuses (a slash
 * command is told the app is not installed); any other authorize failure stays a failure
 * (src/slack/platform/workspace-guard.ts).
 */
import type { App, Authorize } from '@slack/bolt';
import { NoInstallationError } from '../../src/slack/platform/installation-store.js';
import {
  answerMissingInstallations,
  NOT_INSTALLED,
  workspaceGuard,
} from '../../src/slack/platform/workspace-guard.js';

/** The installer's own error: it wraps whatever the store threw (@slack/oauth AuthorizationError). */
class InstallerAuthorizationError extends Error {
  constructor(readonly original: Error) {
    super(original.message, { cause: original });
  }
}

function appWith(authorize: Authorize<boolean>): { authorize: Authorize<boolean> } {
  const app = { authorize };
  answerMissingInstallations(app as unknown as App);
  return app;
}

const source = { teamId: 'T0NONE001', enterpriseId: undefined, isEnterpriseInstall: false } as const;

test('a missing installation gives a context the guard refuses, with the not-installed note for a command', async () => {
  const app = appWith(async () => {
    throw new InstallerAuthorizationError(new NoInstallationError('T0NONE001'));
  });
  const context = { ...(await app.authorize(source)), teamId: 'T0NONE001', isEnterpriseInstall: false };
  const refused: string[] = [];
  const acks: unknown[] = [];
  let next = false;
  await workspaceGuard(null, (reason) => refused.push(reason))({
    context,
    command: { text: '' },
    ack: async (answer?: unknown) => {
      acks.push(answer);
    },
    next: async () => {
      next = true;
    },
  } as unknown as Parameters<ReturnType<typeof workspaceGuard>>[0]);
  expect(next).toBe(false);
  expect(refused).toEqual(['no_installation']);
  expect(acks).toEqual([{ response_type: 'ephemeral', text: NOT_INSTALLED }]);
});

test('an installed workspace is authorized as before and passes the guard', async () => {
  const app = appWith(async () => ({ botToken: 'xoxb-one', teamId: 'T0ONE0001' }));
  const context = { ...(await app.authorize(source)), isEnterpriseInstall: false };
  let next = false;
  await workspaceGuard(
    null,
    () => undefined,
  )({
    context,
    next: async () => {
      next = true;
    },
  } as unknown as Parameters<ReturnType<typeof workspaceGuard>>[0]);
  expect(next).toBe(true);
});

test('a store that cannot be read is not taken for a missing installation', async () => {
  const app = appWith(async () => {
    throw new InstallerAuthorizationError(new Error('connection refused'));
  });
  await expect(app.authorize(source)).rejects.toThrow('connection refused');
});
