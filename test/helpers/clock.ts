/**
 * A clock a test moves on instead of waiting: the real time plus an offset. Give `now` to whatever
 * judges time (the bot's BotOverrides.now, a store's `now`, a factory's), then `advance` past a
 * lease, a TTL or a cache's lifetime.
 */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
  };
}
