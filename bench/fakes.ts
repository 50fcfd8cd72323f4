/**
 * The fakes of the tests (support/fakes), instrumented: every call is timed (hrMs) and charged to the
 * request that caused it by the id it carried (`bench<run>n<seq>`: trigger_id, view id, policy id), or
 * to the phase by the caller's bot token, or counted as stray. Calls are counted, not kept.
 */
import { type FakeKatapult, startFakeKatapult } from '../support/fakes/katapult-api.js';
import { type FakeSlack, type SlackCall, startFakeSlack } from '../support/fakes/slack-api.js';
import { hrMs } from './stats.js';

/** `bench<run>n<seq>`, the correlation id carried by each benchmark request. */
export const correlationId = (run: number, seq: number) => `bench${run}n${seq}`;
const CORRELATION = /bench(\d+)n(\d+)/i;
const FAILURE_TEXT = /could not|not\*? scheduled|refus|not allowed|only workspace admins/i;

/** Polls `done` every `stepMs` until it is true or `timeoutMs` passed. */
export async function waitFor(done: () => boolean, timeoutMs: number, signal: AbortSignal, stepMs = 10) {
  const deadline = hrMs() + timeoutMs;
  while (!done() && hrMs() < deadline) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** What the fakes saw for one phase: when each request's follow-up and Katapult call arrived (NaN: not yet)… */
export class PhaseRecorder {
  readonly followAt: Float64Array;
  readonly katapultAt: Float64Array;
  readonly oddPosts: string[] = [];
  readonly slackCalls: Record<string, number> = {};
  /** The argument names of the first call of each method (the baselines must send what the bot sends). */
  readonly slackArgs: Record<string, string> = {};
  followCount = 0;
  duplicateFollows = 0;
  katapultCalls = 0;
  oddPostCount = 0;
  lastCallAt = hrMs();

  constructor(
    readonly run: number,
    readonly size: number,
    readonly follow: 'views.open' | 'chat.postMessage',
    readonly channel: string,
    /** The target's bot token: calls without a request id are charged by it. */
    readonly token: string,
  ) {
    const nan = () => new Float64Array(size).fill(Number.NaN);
    [this.followAt, this.katapultAt] = [nan(), nan()];
  }
}

export type InstrumentedFakes = Awaited<ReturnType<typeof startInstrumentedFakes>>;

export async function startInstrumentedFakes(katapultLatencyMs: number) {
  const slack: FakeSlack = await startFakeSlack();
  const katapult: FakeKatapult = await startFakeKatapult({ latencyMs: katapultLatencyMs }).catch((error) =>
    slack.close().then(() => Promise.reject(error)),
  );
  const phases = new Map<number, PhaseRecorder>();
  /** Calls that matched no tracked phase, by method. */
  const stray: Record<string, number> = {};
  const match = (text: string) => {
    const m = CORRELATION.exec(text);
    const [recorder, seq] = [phases.get(Number(m?.[1])), Number(m?.[2])];
    return recorder && seq < recorder.size ? { recorder, seq } : null;
  };
  const countStray = (method: string) => {
    stray[method] = (stray[method] ?? 0) + 1;
  };

  const onSlackCall = ({ method, args, token }: SlackCall) => {
    const t = hrMs();
    const text = String(args.text ?? '');
    let hit =
      method === 'views.open'
        ? match(String(args.trigger_id ?? ''))
        : method === 'chat.postMessage'
          ? (match(text) ?? match(JSON.stringify(args.blocks ?? '')))
          : null;
    for (const recorder of phases.values()) if (!hit && recorder.token === token) hit = { recorder, seq: -1 };
    if (!hit) return countStray(method);
    const { recorder, seq } = hit;
    recorder.lastCallAt = t;
    recorder.slackCalls[method] = (recorder.slackCalls[method] ?? 0) + 1;
    recorder.slackArgs[method] ??= Object.keys(args).sort().join(' ');
    if (seq < 0 || method !== recorder.follow) return;
    if (Number.isFinite(recorder.followAt[seq])) return recorder.duplicateFollows++;
    recorder.followAt[seq] = t;
    recorder.followCount++;
    const odd = args.channel !== recorder.channel || FAILURE_TEXT.test(text);
    if (method === 'chat.postMessage' && odd && recorder.oddPostCount++ < 5)
      recorder.oddPosts.push(`${String(args.channel)}: ${text.slice(0, 200)}`);
  };
  const onKatapultCall = ({
    path,
    body,
  }: {
    path: string;
    body?: { disk_backup_policy?: { id?: unknown } };
  }) => {
    const id = body?.disk_backup_policy?.id;
    const hit = typeof id === 'string' ? match(id) : null;
    if (!hit) return countStray(`katapult ${path}`);
    hit.recorder.katapultCalls++;
    hit.recorder.lastCallAt = hrMs();
    if (Number.isNaN(hit.recorder.katapultAt[hit.seq]))
      hit.recorder.katapultAt[hit.seq] = hit.recorder.lastCallAt;
  };
  // The fakes push each call onto these arrays right after reading and decoding it: time it instead.
  const intercept = (calls: unknown[], on: (call: never) => unknown) => {
    const push = (...items: never[]) => {
      for (const item of items) on(item);
      return 0;
    };
    Object.defineProperty(calls, 'push', { configurable: true, value: push });
  };
  intercept(slack.calls, onSlackCall);
  intercept(katapult.requests, onKatapultCall);

  return {
    slack,
    katapult,
    stray,
    /** Attributes calls that carry run `recorder.run`'s ids (or its token) to `recorder`. */
    track: (recorder: PhaseRecorder) => phases.set(recorder.run, recorder),
    untrack: (recorder: PhaseRecorder) => phases.delete(recorder.run),
    close: () => Promise.allSettled([slack.close(), katapult.close()]),
  };
}
