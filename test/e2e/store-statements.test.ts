/**
 * How many round trips to the store one single-policy submission costs, end to end, on SQLite,
 * PostgreSQL and Redis: every round trip the store sends (`Store.onRoundTrip`: a SQLite transaction
 * or lone statement, a PostgreSQL pipeline or lone statement, one write of Redis commands) from the
 * submission to the end of its run. A change that adds a stage's worth of reads or writes fails
 * here (raise the bound only with a reason).
 *
 * Per submission, one round trip per stage: the intake (the request record's insert, before the
 * ack, with the submission gate's read of the emergency stop: the record is removed again when the
 * gate refuses) and, from the run that starts with it, the policy's lock with the index read, the
 * emergency stop and the Katapult token; after the call, the index write with the post's `sending`
 * mark; at the end, the index write with the held messages, the audit row, the record's end and the
 * lock's release (on PostgreSQL Keyv's reads of one round trip are one statement: 10 in all). Before
 * this was counted in round trips there were 12 statements, each its own; then 5 round trips (the
 * gate's read went alone), then 4 (the run's reads went after the intake). The access policy is
 * cached for 5 seconds, so whether its read reaches the store depends on the clock: a round trip
 * that holds nothing else is not counted.
 */
import { randomBytes } from 'node:crypto';
import { type Harness, inMinutes, setWorkspaceToken, startHarness } from '../../support/harness.js';
import { type Kind, privateStore } from '../helpers/private-store.js';
import { describeWithService } from '../helpers/services.js';

const BOUND = Number(process.env.RT_BOUND ?? 3);
/** Policies of this run only: Redis's databases and PostgreSQL's are shared with other runs. */
const RUN = randomBytes(4).toString('hex');

/** A statement's kind, for the failure message: verb, table or command, and a Keyv key's kind. */
function kindOf(sql: string, values: readonly unknown[]): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = text.split(' ')[0] ?? '';
  const table = /\b(?:FROM|INTO|UPDATE)\s+([\w.]+)/.exec(text)?.[1]?.split('.').at(-1) ?? '';
  const strings = values.flat().filter((v): v is string => typeof v === 'string');
  // Several on PostgreSQL, where Keyv's reads of one turn are one statement.
  const kv = strings
    .map((v) => /^katapult-chatops:{1,2}([a-z-]+):/.exec(v)?.[1])
    .filter(Boolean)
    .join('+');
  const coll = strings.find((v) => /^(request|upcoming|lock|upcoming-checked|daily)$/.test(v));
  return [verb, table, kv || coll].filter(Boolean).join(' ');
}

/** Null within the bound; else every round trip, so the failure shows what each held. */
const overBound = (trips: string[][]) => (trips.length <= BOUND ? null : { count: trips.length, trips });

const onlyAccess = (trip: string[]) => trip.every((kind) => / access$/.test(kind));

async function countSubmission(h: Harness, policyId: string, posts: number): Promise<string[][]> {
  const trips: string[][] = [];
  h.bot.store.onRoundTrip((statements) => trips.push(statements.map((s) => kindOf(s.sql, s.values))));
  try {
    const res = await h.submitSchedule({ policyId, at: inMinutes(300 + posts) });
    expect(res.status).toBe(200);
    await h.slack.waitFor('chat.postMessage', posts);
    await h.bot.idle();
    // The last turn's round trip is reported when it is sent.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    h.bot.store.onRoundTrip(null);
  }
  return trips.filter((trip) => !onlyAccess(trip));
}

function suite(kind: Kind): void {
  let h: Harness | undefined;
  let store: Awaited<ReturnType<typeof privateStore>> | undefined;
  afterEach(async () => {
    await h?.stop();
    await store?.drop();
    h = store = undefined;
  });

  test(`one single-policy submission takes at most ${BOUND} round trips to the store, a reschedule too`, async () => {
    if (kind !== 'sqlite') store = await privateStore(kind, '');
    h = await startHarness(store ? { env: { STORE_URL: store.url } } : {});
    await setWorkspaceToken(h);
    // A first submission warms what every later one has (the user's profile, Bolt's clients).
    await h.submitSchedule({ policyId: `dbp_warm${RUN}`, at: inMinutes(300) });
    await h.slack.waitFor('chat.postMessage');
    await h.bot.idle();

    const first = await countSubmission(h, `dbp_count${RUN}`, 2);
    expect(h.slack.callsTo('chat.scheduleMessage')).toHaveLength(4); // the follow-ups were held
    expect(overBound(first)).toBeNull();
    // PostgreSQL: the Keyv reads of one turn are one statement (postgres-store.ts).
    if (kind === 'postgres') expect(first.flat().length).toBeLessThanOrEqual(10);

    // The same policy again: the old held messages go, the lock is taken again.
    const again = await countSubmission(h, `dbp_count${RUN}`, 3);
    expect(h.slack.callsTo('chat.deleteScheduledMessage')).toHaveLength(2);
    expect(overBound(again)).toBeNull();
  });
}

describe('SQLite', () => suite('sqlite'));
describeWithService('postgres', 'PostgreSQL', () => suite('postgres'));
describeWithService('redis', 'Redis', () => suite('redis'));
