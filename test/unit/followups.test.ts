/**
 * Replacing a policy's held messages (src/slack/outbound/followups.ts) against the index on a real (SQLite)
 * store: a request older than the one the index records holds nothing and leaves the index alone
 * (its time is not the one that stands); the request the index records replaces them.
 */
import type { webApi } from '@slack/bolt';
import { createLogger, Redactor } from '../../src/log.js';
import { createUpcomingDeletions, type UpcomingDeletion } from '../../src/scheduling/upcoming.js';
import { replaceFollowups } from '../../src/slack/outbound/followups.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const currentStore = useTempSqliteStore();

const NOW = Date.now();
const AT = Math.floor(NOW / 1000) + 6 * 3600;

function fakeClient() {
  const calls: string[] = [];
  let n = 0;
  const client = {
    chat: {
      scheduleMessage: async () => {
        calls.push('scheduleMessage');
        return { ok: true, channel: 'C0OPS0001', scheduled_message_id: `Q${++n}` };
      },
      deleteScheduledMessage: async (args: { scheduled_message_id: string }) => {
        calls.push(`delete ${args.scheduled_message_id}`);
        return { ok: true };
      },
    },
  } as unknown as webApi.WebClient;
  return { client, calls };
}

const newer: UpcomingDeletion = {
  policyId: 'dbp_one',
  channelId: 'C0OPS0001',
  at: AT,
  scheduledBy: 'U0BOB0001',
  targetType: 'Disk',
  targetId: 'disk_1',
  reminderMessageId: 'QNEWER1',
  restoreMessageId: 'QNEWER2',
  heldIn: 'C0OPS0001',
  requestCreatedAt: NOW,
};

const input = (requestCreatedAt: number) => ({
  workspaceId: 'T1',
  policyId: 'dbp_one',
  channelId: 'C0OPS0001',
  at: AT - 3600,
  scheduledBy: 'U0ALICE01',
  target: { type: 'Disk', id: 'disk_1' },
  requestCreatedAt,
});

test('a request older than the one the index records holds nothing and leaves the index as it is', async () => {
  const upcoming = createUpcomingDeletions(currentStore().docs);
  await upcoming.put('T1', newer);
  const { client, calls } = fakeClient();
  const deps = {
    upcoming,
    logger: createLogger({ level: 'error', redactor: new Redactor(), sink: () => undefined }),
    reminderLeadSeconds: 3600,
    now: () => NOW,
  };

  expect(await replaceFollowups(client, deps, input(NOW - 60_000))).toEqual({
    reminder: false,
    restoreOffer: false,
    kept: false,
  });
  expect(calls).toEqual([]);
  expect(await upcoming.get('T1', 'dbp_one')).toEqual(newer);

  // The request the index records replaces its messages (the index record handed over, not read).
  expect(await replaceFollowups(client, deps, { ...input(NOW), indexed: newer })).toEqual({
    reminder: true,
    restoreOffer: true,
    kept: true,
  });
  expect(calls).toEqual(['delete QNEWER1', 'delete QNEWER2', 'scheduleMessage', 'scheduleMessage']);
  expect(await upcoming.get('T1', 'dbp_one')).toMatchObject({
    reminderMessageId: 'Q1',
    restoreMessageId: 'Q2',
    requestCreatedAt: NOW,
  });
});
