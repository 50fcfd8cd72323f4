/**
 * The intake written in the same round trip as the submission gate's reads
 * (src/scheduling/intake.ts, `gate`), on a real SQLite store: one round trip for both; a gate that
 * refuses leaves no record behind, and only what this intake wrote is removed.
 */
import { createRequestIntake } from '../../src/scheduling/intake.js';
import { createRequestLog, type RequestRecord } from '../../src/scheduling/request-log.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const store = useTempSqliteStore();

const record = (id: string): RequestRecord => ({
  id,
  workspace: 'T1',
  user: 'U1',
  channel: 'C1',
  botUserId: null,
  atSeconds: 1_900_000_000,
  createdAt: 1_800_000_000_000,
  retryNum: null,
  state: 'pending',
  attempts: 0,
  policies: [{ policyId: 'dbp_a' }],
});

function intakeOn(owner = 'w1') {
  const requests = createRequestLog(store().docs);
  const kicked: string[] = [];
  const intake = createRequestIntake({
    requests,
    owner,
    leaseMs: 60_000,
    timeoutMs: 1_500,
    kick: (id) => kicked.push(id),
  });
  return { requests, intake, kicked };
}

/** A gate read issued in this turn, as the submission gate's is: a read of the same store. */
const gateRead = (frozen: boolean) =>
  store()
    .kv.get('freeze:T1')
    .then(() => !frozen);

test('the record and the gate’s read go to the store in one round trip', async () => {
  const { intake } = intakeOn();
  const trips: number[] = [];
  store().onRoundTrip?.((statements) => trips.push(statements.length));
  await expect(intake.accept(record('T1:V1'), { gate: gateRead(false) })).resolves.toBe('accepted');
  store().onRoundTrip?.(null);
  expect(trips).toEqual([2]);
});

test('a gate that lets it through: the record stays, leased to this intake; nothing is started by accept', async () => {
  const { intake, requests, kicked } = intakeOn();
  await expect(intake.accept(record('T1:V1'), { gate: gateRead(false) })).resolves.toBe('accepted');
  expect(await requests.get('T1:V1')).toMatchObject({ id: 'T1:V1', state: 'pending' });
  // Another worker cannot take it: the lease is this intake's.
  expect(await requests.lease('T1:V1', 'w2', 60_000)).toBeNull();
  expect(kicked).toEqual([]);
});

test('a gate that refuses: the record just written is removed, and its key is free again', async () => {
  const { intake, requests } = intakeOn();
  await expect(intake.accept(record('T1:V1'), { gate: gateRead(true) })).resolves.toBe('refused');
  expect(await requests.get('T1:V1')).toBeNull();
  expect(await requests.abandoned(10)).toEqual([]);
  expect(requests.takeFresh?.('T1:V1', 'w1')).toBeNull();
  // A later submission of the same form (after an unfreeze, say) is recorded anew.
  await expect(intake.accept(record('T1:V1'), { gate: gateRead(false) })).resolves.toBe('accepted');
});

test('a gate that refuses a duplicate: the record another delivery wrote stays', async () => {
  const first = intakeOn('w1');
  await first.intake.accept(record('T1:V1'));
  const second = intakeOn('w2');
  await expect(second.intake.accept(record('T1:V1'), { gate: gateRead(true) })).resolves.toBe('refused');
  expect(await first.requests.get('T1:V1')).toMatchObject({ id: 'T1:V1', state: 'pending' });
});

test('without a gate, as before: accepted, then a duplicate', async () => {
  const { intake } = intakeOn();
  await expect(intake.accept(record('T1:V2'))).resolves.toBe('accepted');
  await expect(intake.accept(record('T1:V2'))).resolves.toBe('duplicate');
});

/** An intake over hand-made requests: what each call did, in order. */
function scripted(over: Partial<Parameters<typeof createRequestIntake>[0]['requests']>, leaseMs = 60_000) {
  const calls: string[] = [];
  const leftBehind: string[] = [];
  const intake = createRequestIntake({
    requests: {
      create: async () => {
        calls.push('create');
        return true;
      },
      lease: async (id) => {
        calls.push('lease');
        return record(id);
      },
      save: async (r) => {
        calls.push(`save ${r.state}`);
        return true;
      },
      withdraw: async () => {
        calls.push('withdraw');
      },
      ...over,
    },
    owner: 'w1',
    leaseMs,
    timeoutMs: 300,
    kick: () => undefined,
    onLeftBehind: (id) => leftBehind.push(id),
  });
  return { intake, calls, leftBehind };
}

test('a removal the store does not answer holds the refusal no longer than the intake’s own time', async () => {
  let finishRemoval: () => void = () => undefined;
  const { intake, calls } = scripted({
    withdraw: () => {
      calls.push('withdraw');
      return new Promise<void>((resolve) => {
        finishRemoval = resolve;
      });
    },
  });
  const started = Date.now();
  await expect(intake.accept(record('T1:V3'), { gate: Promise.resolve(false) })).resolves.toBe('refused');
  const took = Date.now() - started;
  expect(took).toBeGreaterThanOrEqual(250);
  expect(took).toBeLessThan(2_000);
  expect(calls).toEqual(['create', 'withdraw']);
  finishRemoval();
});

test('a removal that fails: the record is cancelled under this intake’s lease instead; both failing is reported', async () => {
  const failing = scripted({
    withdraw: async () => {
      throw new Error('connection reset');
    },
  });
  await expect(failing.intake.accept(record('T1:V4'), { gate: Promise.resolve(false) })).resolves.toBe(
    'refused',
  );
  expect(failing.calls).toEqual(['create', 'lease', 'save cancelled']);
  expect(failing.leftBehind).toEqual([]);

  const down = scripted({
    withdraw: async () => {
      throw new Error('down');
    },
    lease: async () => {
      throw new Error('down');
    },
  });
  await expect(down.intake.accept(record('T1:V5'), { gate: Promise.resolve(false) })).resolves.toBe(
    'refused',
  );
  expect(down.leftBehind).toEqual(['T1:V5']);
});

test('a lease shorter than three intake times: the gate answers first, and a refusal writes nothing', async () => {
  const { intake, calls } = scripted({}, 800);
  await expect(intake.accept(record('T1:V6'), { gate: Promise.resolve(false) })).resolves.toBe('refused');
  expect(calls).toEqual([]);
  await expect(intake.accept(record('T1:V7'), { gate: Promise.resolve(true) })).resolves.toBe('accepted');
  expect(calls).toEqual(['create']);
});

describe('a run started with the intake (startEarly)', () => {
  /** An intake whose early starts are recorded: the record's ID, the round trips sent before it, its answer. */
  function early(options: { start?: boolean } = {}) {
    const requests = createRequestLog(store().docs);
    const trips: number[] = [];
    const started: { id: string; tripsBefore: number; admission: Promise<boolean> }[] = [];
    const intake = createRequestIntake({
      requests,
      owner: 'w1',
      leaseMs: 60_000,
      timeoutMs: 1_500,
      kick: () => undefined,
      startEarly: (r, admission) => {
        started.push({ id: r.id, tripsBefore: trips.length, admission });
        return options.start ?? true;
      },
    });
    store().onRoundTrip?.((statements) => trips.push(statements.length));
    return { requests, intake, started, trips, done: () => store().onRoundTrip?.(null) };
  }

  test('it starts before the write goes out, and is told the record was taken', async () => {
    const e = early();
    try {
      await expect(e.intake.accept(record('T1:E1'), { gate: gateRead(false) })).resolves.toBe('accepted');
    } finally {
      e.done();
    }
    expect(e.started.map((s) => [s.id, s.tripsBefore])).toEqual([['T1:E1', 0]]);
    await expect(e.started[0]?.admission).resolves.toBe(true);
    // The record is there for the run, as the store stamped it.
    expect(e.requests.takeFresh?.('T1:E1', 'w1')).toMatchObject({
      id: 'T1:E1',
      storedAt: expect.any(Number),
    });
  });

  test('a gate that refuses, a duplicate and a store that fails each tell it no', async () => {
    const refused = early();
    await expect(refused.intake.accept(record('T1:E2'), { gate: gateRead(true) })).resolves.toBe('refused');
    refused.done();
    await expect(refused.started[0]?.admission).resolves.toBe(false);

    const first = early();
    await first.intake.accept(record('T1:E3'));
    first.done();
    const again = early();
    await expect(again.intake.accept(record('T1:E3'), { gate: gateRead(false) })).resolves.toBe('duplicate');
    again.done();
    await expect(again.started[0]?.admission).resolves.toBe(false);

    const answers: Promise<boolean>[] = [];
    const failing = createRequestIntake({
      requests: {
        create: async () => {
          throw new Error('disk full');
        },
        lease: async () => null,
        save: async () => true,
        withdraw: async () => undefined,
      },
      owner: 'w1',
      leaseMs: 60_000,
      timeoutMs: 1_500,
      kick: () => undefined,
      startEarly: (_r, admission) => {
        answers.push(admission);
        return true;
      },
    });
    await expect(failing.accept(record('T1:E4'), { gate: Promise.resolve(true) })).rejects.toThrow(
      'disk full',
    );
    await expect(answers[0]).resolves.toBe(false);
  });

  test('not without a gate, nor for several policies, an approval or a short lease', async () => {
    const e = early();
    await e.intake.accept(record('T1:E5'));
    await e.intake.accept(
      { ...record('T1:E6'), policies: [{ policyId: 'dbp_a' }, { policyId: 'dbp_b' }] },
      {
        gate: gateRead(false),
      },
    );
    await e.intake.accept(
      { ...record('T1:E7'), approval: { channel: 'C1', expiresAt: 1 } as never },
      {
        gate: gateRead(false),
      },
    );
    e.done();
    expect(e.started).toEqual([]);
    const short = createRequestIntake({
      requests: createRequestLog(store().docs),
      owner: 'w1',
      leaseMs: 1_000,
      timeoutMs: 1_500,
      kick: () => undefined,
      startEarly: () => {
        throw new Error('started with a short lease');
      },
    });
    await expect(short.accept(record('T1:E8'), { gate: gateRead(false) })).resolves.toBe('accepted');
  });

  test('one it could not start (no room) is answered all the same', async () => {
    const e = early({ start: false });
    await expect(e.intake.accept(record('T1:E9'), { gate: gateRead(false) })).resolves.toBe('accepted');
    e.done();
    await expect(e.started[0]?.admission).resolves.toBe(true);
  });
});

test('a record whose insert was answered late is not fresh: its lease is counted from before the insert', async () => {
  let clock = 1_000_000;
  const docs = store().docs;
  // The insert is answered 25 s after it was sent (a round trip held up by another statement).
  const late = {
    ...docs,
    insertStamped: async (...args: Parameters<typeof docs.insertStamped>) => {
      const stored = await docs.insertStamped(...args);
      clock += 25_000;
      return stored;
    },
  };
  const requests = createRequestLog(late, () => clock);
  expect(await requests.create(record('T1:L1'), 'w1', 60_000)).toBe(true);
  // 25 s since the insert was sent is more than a third of the 60 s lease: the worker leases it anew.
  expect(requests.takeFresh?.('T1:L1', 'w1')).toBeNull();
  const prompt = createRequestLog(docs, () => clock);
  expect(await prompt.create(record('T1:L2'), 'w1', 60_000)).toBe(true);
  expect(prompt.takeFresh?.('T1:L2', 'w1')).toMatchObject({ id: 'T1:L2', state: 'pending' });
});
