/** The reconcile decision: what the bot recorded against what Katapult says now. */
import { decideReconcile, type Observed, type ReconcileAction } from '../../src/scheduling/reconcile.js';

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
