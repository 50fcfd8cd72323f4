/** The reconcile decision: what the bot recorded against what Katapult says now. */
import { jest } from '@jest/globals';
import { createLogger, Redactor } from '../../src/log.js';
import type { Locks } from '../../src/scheduling/locks.js';
import {
  createReconciler,
  decideReconcile,
  type Observed,
  type ReconcileAction,
  type ReconcileSurface,
} from '../../src/scheduling/reconcile.js';
import type { UpcomingDeletions } from '../../src/scheduling/upcoming.js';
import { reconciledMessage } from '../../src/slack/blocks/followups.js';
import { ACTIONS } from '../../src/slack/ids.js';
import type { WorkspaceTokens } from '../../src/tokens/workspace-tokens.js';
import { slackRefusal } from '../../support/slack-limits.js';

const NOW = 1_800_000_000;
const AHEAD = NOW + 3600;
const PAST = NOW - 60;

test.each<[string, number, Observed, ReconcileAction]>([
  ['same time: nothing', AHEAD, { kind: 'scheduled', at: AHEAD }, { kind: 'none' }],
  ['moved later', AHEAD, { kind: 'scheduled', at: AHEAD + 600 }, { kind: 'moved', at: AHEAD + 600 }],
  ['moved sooner, still ahead', AHEAD, { kind: 'scheduled', at: NOW + 60 }, { kind: 'moved', at: NOW + 60 }],
  ['cleared', AHEAD, { kind: 'scheduled', at: null }, { kind: 'cleared' }],
  ['due in Katapult, not yet moved: wait', AHEAD, { kind: 'scheduled', at: NOW }, { kind: 'none' }],
  ['policy gone', AHEAD, { kind: 'not_found' }, { kind: 'gone' }],
  ['already in the trash', AHEAD, { kind: 'in_trash' }, { kind: 'trashed_early' }],
  ['after the move, in the trash: kept for the restore offer', PAST, { kind: 'in_trash' }, { kind: 'none' }],
  ['after the move, restored (no move): left alone', PAST, { kind: 'scheduled', at: null }, { kind: 'none' }],
  [
    'after the move, restored with the old time: left alone',
    PAST,
    { kind: 'scheduled', at: PAST - 5 },
    { kind: 'none' },
  ],
  ['after the move, purged: expires by itself', PAST, { kind: 'not_found' }, { kind: 'none' }],
  [
    'after the move, scheduled again outside Slack',
    PAST,
    { kind: 'scheduled', at: AHEAD },
    { kind: 'moved', at: AHEAD },
  ],
])('%s', (_name, at, observed, expected) => {
  expect(decideReconcile({ at }, observed, NOW)).toEqual(expected);
});

test.each<Exclude<ReconcileAction, { kind: 'none' }>>([
  { kind: 'moved', at: AHEAD },
  { kind: 'cleared' },
  { kind: 'gone' },
  { kind: 'trashed_early' },
])(
  'the channel note ($kind) fits Slack with any policy id, and offers Restore only when trashed',
  (action) => {
    const note = reconciledMessage({ policyId: `dbp_${'x*_`<&'.repeat(2_000)}`, was: AHEAD }, action);
    expect(
      slackRefusal('chat.postMessage', { channel: 'C1', text: note.text, blocks: note.blocks }),
    ).toBeNull();
    expect(JSON.stringify(note.blocks).includes(ACTIONS.restore)).toBe(action.kind === 'trashed_early');
  },
);

describe('the periodic pass', () => {
  const reconcilerCountingPasses = (intervalMs: number) => {
    let passes = 0;
    const reconciler = createReconciler({
      upcoming: {
        page: async () => {
          passes++;
          return [];
        },
      } as unknown as UpcomingDeletions,
      locks: {} as Locks,
      tokens: {} as WorkspaceTokens,
      katapult: { getDiskBackupPolicy: async () => ({ autoMoveToTrashAt: null }) },
      surface: {} as ReconcileSurface,
      logger: createLogger({ level: 'error', redactor: new Redactor(), sink: () => undefined }),
      now: Date.now,
      intervalMs,
      track: (work) => work(),
    });
    return { reconciler, passes: () => passes };
  };
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('comes within one interval of the start, then every interval, and not after stop', async () => {
    const { reconciler, passes } = reconcilerCountingPasses(60_000);
    reconciler.start();
    await jest.advanceTimersByTimeAsync(29_000);
    expect(passes()).toBe(0);
    await jest.advanceTimersByTimeAsync(31_000);
    expect(passes()).toBe(1);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(passes()).toBe(2);
    reconciler.stop();
    await jest.advanceTimersByTimeAsync(600_000);
    expect(passes()).toBe(2);
  });

  test('RECONCILE_INTERVAL_MINUTES=0: never', async () => {
    const { reconciler, passes } = reconcilerCountingPasses(0);
    reconciler.start();
    await jest.advanceTimersByTimeAsync(86_400_000);
    expect(passes()).toBe(0);
    reconciler.stop();
  });
});
