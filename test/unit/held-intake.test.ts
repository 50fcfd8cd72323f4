/** The intake's ack held until the record's run starts: bounded, and the run started once. */
import { jest } from '@jest/globals';
import { createHeldIntake } from '../../src/scheduling/held-intake.js';
import type { RequestRecord } from '../../src/scheduling/request-log.js';

const record = { id: 'r1' } as RequestRecord;

test('an accepted record is admitted with the smaller of the hold and what the write left of the intake time', async () => {
  jest.useFakeTimers({ now: 1_000_000, doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  try {
    const admitted: [string, number][] = [];
    const worker = { admit: async (id: string, ms: number) => void admitted.push([id, ms]) };
    const slowWrite = {
      accept: async () => {
        jest.advanceTimersByTime(1_200); // the write took 1.2 s of the 1.5 s
        return 'accepted' as const;
      },
    };
    await createHeldIntake(slowWrite, worker, { holdMs: 500, timeoutMs: 1_500 }).accept(record);
    const quick = { accept: async () => 'accepted' as const };
    await createHeldIntake(quick, worker, { holdMs: 500, timeoutMs: 1_500 }).accept(record);
    expect(admitted).toEqual([
      ['r1', 300],
      ['r1', 500],
    ]);
  } finally {
    jest.useRealTimers();
  }
});

test('a duplicate is not admitted (nor held), and run after the ack starts nothing more', async () => {
  const admit = jest.fn(async () => undefined);
  const intake = createHeldIntake(
    { accept: async () => 'duplicate' as const },
    { admit },
    {
      holdMs: 500,
      timeoutMs: 1_500,
    },
  );
  await expect(intake.accept(record)).resolves.toBe('duplicate');
  intake.run('r1');
  expect(admit).not.toHaveBeenCalled();
});
