/**
 * How many store statements one single-policy submission costs, end to end on SQLite: every
 * statement sqlite3 runs is counted from the submission to the end of its run. A change that adds
 * a read or a write to the request path fails here (raise the bound only with a reason).
 */
import sqlite3 from 'sqlite3';
import { type Harness, inMinutes, setWorkspaceToken, startHarness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Every statement sqlite3 runs while `recording` is on (the SQL text, whitespace folded). */
const seen: string[] = [];
let recording = false;
const proto = sqlite3.Database.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const method of ['all', 'run', 'get', 'each', 'exec', 'prepare']) {
  const original = proto[method] as (...args: unknown[]) => unknown;
  proto[method] = function (this: unknown, sql: unknown, ...rest: unknown[]) {
    if (recording) seen.push(String(sql).replace(/\s+/g, ' ').trim());
    return original.call(this, sql, ...rest);
  };
}

/** The statements by kind: the verb and the table or collection they touch. */
function kinds(statements: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of statements) {
    const verb = s.split(' ')[0] ?? '';
    const table = /\b(?:FROM|INTO|UPDATE)\s+(\w+)/.exec(s)?.[1] ?? '?';
    const k = `${verb} ${table}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

test('one single-policy submission runs at most N store statements on SQLite', async () => {
  h = await startHarness();
  await setWorkspaceToken(h);
  // A first submission warms the caches every later one has (the user's profile, the token).
  await h.submitSchedule({ policyId: 'dbp_warm', at: inMinutes(300) });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();

  seen.length = 0;
  recording = true;
  const res = await h.submitSchedule({ policyId: 'dbp_count', at: inMinutes(300) });
  expect(res.status).toBe(200);
  await h.slack.waitFor('chat.postMessage', 2);
  await h.bot.idle();
  recording = false;

  const counted = [...seen];
  console.log(JSON.stringify({ total: counted.length, kinds: kinds(counted), statements: counted }, null, 2));
  expect(h.slack.callsTo('chat.scheduleMessage').length).toBeGreaterThan(0);
  expect(counted.length).toBeLessThanOrEqual(12);
});
