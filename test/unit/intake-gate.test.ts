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

test('a removal the store does not answer holds the refusal no longer than the intake’s own time', async () => {
  let removed = false;
  let finishRemoval: () => void = () => undefined;
  const intake = createRequestIntake({
    requests: {
      create: async () => true,
      lease: async () => null,
      save: async () => true,
      withdraw: () =>
        new Promise<void>((resolve) => {
          finishRemoval = () => {
            removed = true;
            resolve();
          };
        }),
    },
    owner: 'w1',
    leaseMs: 60_000,
    timeoutMs: 300,
    kick: () => undefined,
  });
  const started = Date.now();
  await expect(intake.accept(record('T1:V3'), { gate: Promise.resolve(false) })).resolves.toBe('refused');
  const took = Date.now() - started;
  expect(took).toBeGreaterThanOrEqual(250);
  expect(took).toBeLessThan(2_000);
  // It goes on: the record is removed once the store answers.
  finishRemoval();
  await new Promise((resolve) => setImmediate(resolve));
  expect(removed).toBe(true);
});
