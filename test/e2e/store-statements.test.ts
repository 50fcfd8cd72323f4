/**
 * How many store statements one single-policy submission costs, end to end on SQLite: every
 * statement sqlite3 runs is counted from the submission to the end of its run. A change that adds
 * a read or a write to the request path fails here (raise the bound only with a reason).
 *
 * Per submission: the freeze, read by the submission gate and again by the worker; the request
 * record's insert (before the ack), its `sending` save and its final save; the policy's lock (one
 * insert, one delete) around the index read, the Katapult token read, the index write after the
 * call and the one with the held messages; the audit row. The access policy's reads are left out:
 * it is cached for 5 seconds, so whether they reach the store depends on the clock.
 */
import sqlite3 from 'sqlite3';
import { type Harness, inMinutes, setWorkspaceToken, startHarness } from '../../support/harness.js';

const BOUND = 12;

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/**
 * Every statement sqlite3 runs while `recording` is on: its kind (verb, table; a Keyv key's kind).
 * Whether run on the connection (Keyv's adapter: `Database#all` makes a statement and runs it) or
 * through a statement prepared once (our tables), each run is one `Statement` call; preparing one is
 * not running it.
 */
const seen: string[] = [];
let recording = false;
const statement = sqlite3.Statement.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const method of ['all', 'run', 'get', 'each']) {
  const original = statement[method] as (...args: unknown[]) => unknown;
  statement[method] = function (this: { sql: string }, ...args: unknown[]) {
    if (recording) seen.push(kindOf(this.sql, args.flat()));
    return original.apply(this, args);
  };
}

function kindOf(sql: string, values: unknown[]): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = text.split(' ')[0] ?? '';
  const table = /\b(?:FROM|INTO|UPDATE)\s+(\w+)/.exec(text)?.[1] ?? '?';
  // Keyv's keys are `<namespace>:<kind>:<workspace>`; a docs statement names its collection (a word).
  const strings = values.filter((v): v is string => typeof v === 'string');
  const detail =
    table === 'keyv'
      ? strings[0]?.split(':')[1]
      : table === 'docs'
        ? strings.find((v) => /^[a-z][a-z-]*$/.test(v))
        : undefined;
  return [verb, table, detail].filter(Boolean).join(' ');
}

async function countSubmission(bot: Harness, policyId: string, posts: number): Promise<string[]> {
  seen.length = 0;
  recording = true;
  try {
    const res = await bot.submitSchedule({ policyId, at: inMinutes(300 + posts) });
    expect(res.status).toBe(200);
    await bot.slack.waitFor('chat.postMessage', posts);
    await bot.bot.idle();
  } finally {
    recording = false;
  }
  return seen.filter((kind) => kind !== 'SELECT keyv access');
}

const tally = (kinds: string[]) => {
  const out: Record<string, number> = {};
  for (const k of kinds) out[k] = (out[k] ?? 0) + 1;
  return out;
};

test(`one single-policy submission runs at most ${BOUND} store statements on SQLite, a reschedule too`, async () => {
  h = await startHarness();
  await setWorkspaceToken(h);
  // A first submission warms what every later one has (the user's profile, Bolt's clients).
  await h.submitSchedule({ policyId: 'dbp_warm', at: inMinutes(300) });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();

  const first = await countSubmission(h, 'dbp_count', 2);
  expect(h.slack.callsTo('chat.scheduleMessage')).toHaveLength(4); // the follow-ups were held
  expect(tally(first)).toEqual({
    'SELECT keyv freeze': 2,
    'SELECT keyv token': 1,
    'INSERT docs request': 1,
    'UPDATE docs request': 2,
    'INSERT docs lock': 1,
    'DELETE docs lock': 1,
    'SELECT docs upcoming': 1,
    'INSERT docs upcoming': 2,
    'INSERT audit_log': 1,
  });
  expect(first.length).toBeLessThanOrEqual(BOUND);

  // The same policy again: its lock is taken with one statement again, the old held messages go.
  const again = await countSubmission(h, 'dbp_count', 3);
  expect(h.slack.callsTo('chat.deleteScheduledMessage')).toHaveLength(2);
  expect(again.length).toBeLessThanOrEqual(BOUND);
});
