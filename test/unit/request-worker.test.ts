/** The request worker's bounded queue, as the metrics read it. */
import { jest } from '@jest/globals';
import { createRequestWorker } from '../../src/scheduling/request-worker.js';

test('runs at most `concurrency` at once; the rest wait in the queue, which says how long the oldest has waited', async () => {
  jest.useFakeTimers({ now: 1_000_000, doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  try {
    const finish: (() => void)[] = [];
    const worker = createRequestWorker({
      requests: { abandoned: async () => [] },
      run: () => new Promise<boolean>((resolve) => finish.push(() => resolve(true))),
      logger: { event: () => undefined } as never,
      sweepMs: 60_000,
      concurrency: 2,
      maxQueue: 3,
      track: (work) => work(),
    });
    expect(worker.stats()).toEqual({ queued: 0, running: 0, oldestQueuedMs: 0 });
    for (const id of ['a', 'b', 'c']) worker.kick(id);
    jest.advanceTimersByTime(1500);
    for (const id of ['d', 'e', 'f']) worker.kick(id); // f: beyond maxQueue, left to the sweep
    expect(worker.stats()).toEqual({ queued: 3, running: 2, oldestQueuedMs: 1500 });
    finish.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(worker.stats()).toEqual({ queued: 2, running: 2, oldestQueuedMs: 0 });
    expect(worker.size).toBe(4);
  } finally {
    jest.useRealTimers();
  }
});

test('while a burst is being taken in no run starts, until it ends or the oldest has waited maxDeferMs', async () => {
  jest.useFakeTimers({ now: 1_000_000, doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  try {
    let burst = true;
    const started: string[] = [];
    const worker = createRequestWorker({
      requests: { abandoned: async () => [] },
      run: async (id) => {
        started.push(id);
        return true;
      },
      logger: { event: () => undefined } as never,
      sweepMs: 60_000,
      concurrency: 4,
      track: (work) => work(),
      yieldToIntake: () => burst,
      maxDeferMs: 1000,
    });
    worker.kick('a');
    jest.advanceTimersByTime(500);
    expect(started).toEqual([]);
    burst = false;
    jest.advanceTimersByTime(20);
    expect(started).toEqual(['a']);
    burst = true;
    worker.kick('b');
    jest.advanceTimersByTime(980);
    expect(started).toEqual(['a']);
    jest.advanceTimersByTime(40);
    expect(started).toEqual(['a', 'b']); // waited maxDeferMs: runs even though the burst goes on
    worker.stop();
  } finally {
    jest.useRealTimers();
  }
});

test('admit holds until the record runs, at most maxWaitMs (it stays queued), and never while a burst is taken in', async () => {
  jest.useFakeTimers({ now: 1_000_000, doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  try {
    const finish: (() => void)[] = [];
    const started: string[] = [];
    let burst = false;
    const worker = createRequestWorker({
      requests: { abandoned: async () => [] },
      run: (id) => {
        started.push(id);
        return new Promise<boolean>((resolve) => finish.push(() => resolve(true)));
      },
      logger: { event: () => undefined } as never,
      sweepMs: 60_000,
      concurrency: 1,
      track: (work) => work(),
      yieldToIntake: () => burst,
    });
    const admitted: string[] = [];
    const admit = (id: string, ms: number) => worker.admit(id, ms).then(() => void admitted.push(id));
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    void admit('a', 500); // a free worker: runs at once, nothing to wait for
    void admit('b', 500);
    void admit('c', 500);
    await settle();
    expect([started, admitted]).toEqual([['a'], ['a']]);
    finish.shift()?.(); // a ends: b starts, its ack goes
    await settle();
    expect([started, admitted]).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    jest.advanceTimersByTime(500); // c waited its 500 ms: acked, still queued
    await settle();
    expect([started, admitted, worker.stats().queued]).toEqual([['a', 'b'], ['a', 'b', 'c'], 1]);
    burst = true;
    void admit('d', 500); // a burst: acks first
    await settle();
    expect(admitted).toEqual(['a', 'b', 'c', 'd']);
    burst = false;
    void admit('e', 500);
    worker.stop(); // stopping lets every held ack go
    await settle();
    expect(admitted).toEqual(['a', 'b', 'c', 'd', 'e']);
  } finally {
    jest.useRealTimers();
  }
});

test('startNow starts a run at once, with what it was given, only when one could start at once', async () => {
  const finish: (() => void)[] = [];
  const runs: [string, unknown][] = [];
  let burst = false;
  const worker = createRequestWorker({
    requests: { abandoned: async () => [] },
    run: (id, early) => {
      runs.push([id, early?.record.id]);
      return new Promise<boolean>((resolve) => finish.push(() => resolve(true)));
    },
    logger: { event: () => undefined } as never,
    sweepMs: 60_000,
    concurrency: 2,
    track: (work) => work(),
    yieldToIntake: () => burst,
  });
  const early = (id: string) => ({ record: { id } as never, admission: Promise.resolve(true) });
  expect(worker.startNow('a', early('a'))).toBe(true);
  expect(runs).toEqual([['a', 'a']]); // started in this turn
  expect(worker.startNow('a', early('a'))).toBe(false); // running already
  worker.kick('a'); // as the intake does once accepted: nothing more starts
  burst = true;
  expect(worker.startNow('b', early('b'))).toBe(false); // a burst: acks first
  burst = false;
  worker.kick('c');
  expect(worker.stats()).toMatchObject({ running: 2, queued: 0 });
  expect(worker.startNow('d', early('d'))).toBe(false); // no room
  worker.kick('e');
  finish.shift()?.();
  await new Promise((resolve) => setImmediate(resolve));
  // The room 'a' left went to 'e', which was waiting.
  expect(worker.stats()).toMatchObject({ running: 2, queued: 0 });
  expect(worker.startNow('f', early('f'))).toBe(false);
  expect(runs.map(([id]) => id)).toEqual(['a', 'c', 'e']);
  finish.shift()?.();
  await new Promise((resolve) => setImmediate(resolve));
  expect(worker.startNow('f', early('f'))).toBe(true);
  worker.stop();
  expect(worker.startNow('g', early('g'))).toBe(false);
});

test('a run started with its intake that ends abandoned runs again if the record was kicked meanwhile (another delivery took it)', async () => {
  const finish: ((ran: boolean) => void)[] = [];
  const runs: string[] = [];
  const worker = createRequestWorker({
    requests: { abandoned: async () => [] },
    run: (id, early) => {
      runs.push(`${id}${early ? ' early' : ''}`);
      return new Promise<boolean>((resolve) => finish.push(resolve));
    },
    logger: { event: () => undefined } as never,
    sweepMs: 60_000,
    concurrency: 4,
    track: (work) => work(),
  });
  const early = (id: string) => ({ record: { id } as never, admission: Promise.resolve(false) });
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  // Abandoned while a kick came: run again, as an ordinary run.
  worker.startNow('a', early('a'));
  worker.kick('a');
  finish.shift()?.(false);
  await settle();
  expect(runs).toEqual(['a early', 'a']);
  finish.shift()?.(true);
  await settle();

  // Ran (its own intake's kick came meanwhile): not again.
  worker.startNow('b', early('b'));
  worker.kick('b');
  finish.shift()?.(true);
  await settle();
  // Abandoned with no kick: nobody took it here.
  worker.startNow('c', early('c'));
  finish.shift()?.(false);
  await settle();
  expect(runs).toEqual(['a early', 'a', 'b early', 'c early']);
  expect(worker.stats()).toMatchObject({ running: 0, queued: 0 });
});
