/**
 * One bot for a whole test file, with the workspace token set: started before the first test,
 * settled and reset before each, scanned for leaked secrets and stopped after the last.
 */
import {
  BOT_TOKEN,
  type Harness,
  type HarnessOptions,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from '../../support/harness.js';
import { leaksOf } from './secrets.js';

export function useSharedHarness(options: HarnessOptions = {}): { readonly h: Harness } {
  let harness: Harness | undefined;
  const current = () => {
    if (!harness) throw new Error('the shared harness has not started');
    return harness;
  };
  beforeAll(async () => {
    harness = await startHarness(options);
    await setWorkspaceToken(harness);
  });
  beforeEach(async () => {
    const h = current();
    await h.bot.idle();
    h.slack.reset();
    h.katapult.reset();
  });
  afterAll(async () => {
    if (!harness) return;
    const leaks = leaksOf(harness, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, harness.encryptionKey]);
    await harness.stop();
    expect(leaks).toEqual([]);
  });
  return {
    get h() {
      return current();
    },
  };
}
