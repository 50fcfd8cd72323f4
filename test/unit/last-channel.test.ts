/**
 * The last channel a person used: written once per channel and 10 minutes, not on every command;
 * written again for another channel, after the window, after a failed write, and after `forget`.
 */

import { createLogger, Redactor } from '../../src/log.js';
import { createLastChannels } from '../../src/scheduling/last-channel.js';
import type { Docs } from '../../src/store/docs.js';

function setup() {
  const writes: string[] = [];
  let failNext = false;
  const docs = {
    async upsert(_coll: string, doc: { key: string; body: string }) {
      if (failNext) {
        failNext = false;
        throw new Error('store down');
      }
      writes.push(`${doc.key} ${doc.body}`);
    },
    trim: async () => undefined,
    removePartition: async () => undefined,
  } as unknown as Docs;
  let clock = 1_000_000;
  const logger = createLogger({ level: 'error', redactor: new Redactor(), sink: () => undefined });
  const channels = createLastChannels({ docs, logger, now: () => clock });
  return {
    channels,
    writes,
    failWrite: () => {
      failNext = true;
    },
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

test('the same channel again within 10 minutes is not written again; another channel is', async () => {
  const { channels, writes, advance } = setup();
  await channels.remember('T1', 'U1', 'C0ONE');
  await channels.remember('T1', 'U1', 'C0ONE');
  advance(9 * 60_000);
  await channels.remember('T1', 'U1', 'C0ONE');
  expect(writes).toEqual(['T1:U1 {"c":"C0ONE"}']);
  await channels.remember('T1', 'U1', 'C0TWO');
  await channels.remember('T1', 'U2', 'C0TWO');
  await channels.remember('T1', 'U1', 'C0ONE');
  expect(writes).toHaveLength(4);
  advance(10 * 60_000);
  await channels.remember('T1', 'U1', 'C0ONE');
  expect(writes).toHaveLength(5);
});

test('after a failed write, or after the workspace is forgotten, the next command writes again', async () => {
  const { channels, writes, failWrite } = setup();
  failWrite();
  await channels.remember('T1', 'U1', 'C0ONE');
  await channels.remember('T1', 'U1', 'C0ONE');
  expect(writes).toEqual(['T1:U1 {"c":"C0ONE"}']);
  await channels.forget('T1');
  await channels.remember('T1', 'U1', 'C0ONE');
  expect(writes).toHaveLength(2);
});
