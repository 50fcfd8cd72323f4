/**
 * A fake Slack Web API on loopback. The bot's real WebClient talks to it through `slackApiUrl`.
 * It records every call (method, token, decoded arguments), answers like Slack does, and can be told
 * to fail a method once (`not_in_channel`, `expired_trigger_id`, HTTP 500, 429 with Retry-After).
 * Like Slack, it refuses a view or message that breaks Block Kit's size limits (support/slack-limits.ts):
 * `invalid_arguments` for views, `invalid_blocks` / `msg_too_long` for messages, HTTP 400 at a response_url.
 *
 * It keeps the messages posted through it (and those a test puts in a channel, `addMessage`), so that
 * `chat.update` and threads behave as in Slack: `chat.update` edits a message the bot posted
 * (`message_not_found` for none, `cant_update_message` for someone else's); a `thread_ts` on
 * `chat.postMessage` or `chat.scheduleMessage` must name a message of that conversation that is not
 * itself a reply (`invalid_thread_ts`, as Slack answers), and `reply_broadcast` is kept with the reply.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type SlackRefusal, slackRefusal } from '../slack-limits.js';

export interface SlackCall {
  method: string;
  token: string | null;
  args: Record<string, unknown>;
  /** The raw request body as sent, for secret scans. */
  raw: string;
  /** Set when the fake refused the call for breaking Slack's limits, as Slack would. */
  refused?: SlackRefusal;
}

export interface FakeSlackUser {
  tz?: string;
  is_admin?: boolean;
  is_owner?: boolean;
  /** Guests, people from other organizations (default: a member of FAKE_TEAM_ID). */
  team_id?: string;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  is_stranger?: boolean;
}

/** A message as the fake keeps it (posted by the bot, or put there by a test). */
export interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown;
  attachments?: unknown;
  /** The bot (FAKE_BOT_USER_ID) or a person. */
  user: string;
  /** Set on a reply: its thread's parent. */
  thread_ts?: string;
  reply_broadcast?: boolean;
  /** How many times `chat.update` changed it. */
  edits: number;
}

export type SlackFailure = string | { status: number; body?: unknown; headers?: Record<string, string> };

export interface FakeSlack {
  /** Base URL for `SLACK_API_URL`, ending in `/api/`. */
  readonly apiUrl: string;
  /** A response_url the fake accepts; calls to it are recorded as method `response_url`. */
  responseUrl(id?: string): string;
  readonly calls: SlackCall[];
  readonly users: Map<string, FakeSlackUser>;
  /** User groups by ID: handle and member user IDs. */
  readonly groups: Map<string, { handle: string; users: string[] }>;
  /** The workspace `auth.test` reports and users belong to (default FAKE_TEAM_ID). */
  teamId: string;
  /** Set: `auth.test` reports an org-wide install of this enterprise (Enterprise Grid). */
  enterpriseId: string | null;
  /** The bot token `oauth.v2.access` hands out for an install in `team` (default `xoxb-installed-<team>-secret`). */
  botTokenFor(team: string): string;
  /** The next call(s) to `method` fail with this Slack error code or HTTP answer. */
  fail(method: string, ...failures: SlackFailure[]): void;
  /** Delay (ms) added before answering `method`. */
  delay(method: string, ms: number): void;
  /**
   * Calls to `method` are recorded at once but answered only when the returned function is called
   * (then also every later call answers at once): the test decides how long Slack takes.
   */
  hold(method: string): () => void;
  callsTo(method: string): SlackCall[];
  /** Messages the conversation holds now (kept across `reset`, as Slack keeps them), by `<channel> <ts>`. */
  readonly messages: Map<string, FakeMessage>;
  /** The message at `ts` in `channel`, as it reads now (after any `chat.update`). */
  messageAt(channel: string, ts: string): FakeMessage | undefined;
  /** Puts a person's message in a channel (the source of a message shortcut); returns it. */
  addMessage(input: Omit<FakeMessage, 'ts' | 'edits' | 'user'> & { ts?: string; user?: string }): FakeMessage;
  /** Top-level messages the bot posted in `channel` (thread replies left out, broadcast or not). */
  topLevel(channel: string): FakeMessage[];
  /** Replies in the thread of `threadTs` in `channel`, oldest first. */
  replies(channel: string, threadTs: string): FakeMessage[];
  /** Calls refused for breaking Slack's limits (a test that expects none can assert this is empty). */
  refusals(): SlackCall[];
  /**
   * Resolves once `count` calls were made to `method`, or that match the predicate (rejects after
   * `timeoutMs`, default 10 s: generous, as waiting costs nothing once the call is made), with every
   * such call so far.
   */
  waitFor(
    method: string | ((call: SlackCall) => boolean),
    count?: number,
    timeoutMs?: number,
  ): Promise<SlackCall[]>;
  reset(): void;
  close(): Promise<void>;
  // Workflow Builder steps (issue 21, item 4).
  /** Function executions by `function_execution_id`: what Slack knows of each, and its completion. */
  readonly executions: Map<string, FakeExecution>;
  /** A workflow ran the step: Slack now knows the execution and accepts its token until it completes. */
  startExecution(id: string, token: string): void;
}

/** One execution of a custom step, as Slack holds it. */
export interface FakeExecution {
  token: string;
  /** Slack no longer accepts the token (`token_expired`): the workflow stopped waiting. */
  revoked: boolean;
  /** The completion Slack accepted (at most one), with its arguments. */
  completed: { method: string; args: Record<string, unknown> } | null;
}

/**
 * `functions.completeSuccess` / `functions.completeError` as Slack answers them: `invalid_arguments`
 * without an execution ID, outputs (an object) or an error text; `invalid_auth` for a token that is
 * not the execution's, `token_expired` once revoked; `function_execution_not_found` for an execution
 * Slack does not know; `execution_not_in_running_state` once it was completed.
 */
function completeFunction(
  executions: Map<string, FakeExecution>,
  method: string,
  args: Record<string, unknown>,
  token: string | null,
): unknown {
  const id = args.function_execution_id;
  const execution = typeof id === 'string' ? executions.get(id) : undefined;
  const success = method === 'functions.completeSuccess';
  const outputs = args.outputs;
  const valid = success
    ? typeof outputs === 'object' && outputs !== null && !Array.isArray(outputs)
    : typeof args.error === 'string' && args.error.trim() !== '';
  if (typeof id !== 'string' || id === '' || !valid) return { ok: false, error: 'invalid_arguments' };
  if (!execution) return { ok: false, error: 'function_execution_not_found' };
  if (token !== execution.token) return { ok: false, error: 'invalid_auth' };
  if (execution.revoked) return { ok: false, error: 'token_expired' };
  if (execution.completed) return { ok: false, error: 'execution_not_in_running_state' };
  execution.completed = { method, args };
  return { ok: true };
}

export const FAKE_BOT_USER_ID = 'UBOT00001';
export const FAKE_TEAM_ID = 'T0FAKE001';

function decode(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw || '{}');
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if (/^[[{]/.test(value)) {
      try {
        args[key] = JSON.parse(value);
        continue;
      } catch {
        // not JSON after all: keep the string
      }
    }
    args[key] = value;
  }
  return args;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const users = new Map<string, FakeSlackUser>();
  const groups = new Map<string, { handle: string; users: string[] }>();
  const failures = new Map<string, SlackFailure[]>();
  const delays = new Map<string, number>();
  const holds = new Map<string, Promise<void>>();
  const waiters: { match: (call: SlackCall) => boolean; count: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  const executions = new Map<string, FakeExecution>();
  let viewCounter = 0;
  let tsCounter = 0;
  const messages = new Map<string, FakeMessage>();
  const at = (channel: unknown, ts: unknown) => messages.get(`${String(channel)} ${String(ts)}`);
  const nextTs = () => `1700000000.${String(++tsCounter).padStart(6, '0')}`;
  /** Slack's answer to a `thread_ts` that names no parent message in the conversation. */
  const badThread = (args: Record<string, unknown>): string | null => {
    if (args.thread_ts === undefined || args.thread_ts === '') return null;
    const parent = at(args.channel, args.thread_ts);
    return parent && !parent.thread_ts ? null : 'invalid_thread_ts';
  };
  const keep = (args: Record<string, unknown>, ts: string): FakeMessage => {
    const m: FakeMessage = {
      channel: String(args.channel),
      ts,
      text: typeof args.text === 'string' ? args.text : '',
      ...(args.blocks !== undefined ? { blocks: args.blocks } : {}),
      ...(args.attachments !== undefined ? { attachments: args.attachments } : {}),
      user: FAKE_BOT_USER_ID,
      ...(typeof args.thread_ts === 'string' && args.thread_ts ? { thread_ts: args.thread_ts } : {}),
      ...(args.reply_broadcast === true || args.reply_broadcast === 'true' ? { reply_broadcast: true } : {}),
      edits: 0,
    };
    messages.set(`${m.channel} ${ts}`, m);
    return m;
  };

  const answer = (method: string, args: Record<string, unknown>, token: string | null): unknown => {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.com/',
          team: 'Fake Team',
          user: 'katapult',
          team_id: fake.teamId,
          user_id: FAKE_BOT_USER_ID,
          bot_id: 'BFAKE0001',
          ...(fake.enterpriseId ? { enterprise_id: fake.enterpriseId } : {}),
          is_enterprise_install: fake.enterpriseId !== null,
        };
      case 'oauth.v2.access': {
        const team = String(args.code ?? '').startsWith('code-') ? String(args.code).slice(5) : 'T0NEW0001';
        return {
          ok: true,
          app_id: 'A0FAKE001',
          authed_user: { id: 'U0INSTALL' },
          scope: 'commands,chat:write,chat:write.public,users:read,usergroups:read',
          token_type: 'bot',
          access_token: fake.botTokenFor(team),
          bot_user_id: FAKE_BOT_USER_ID,
          team: { id: team, name: `Team ${team}` },
          enterprise: null,
          is_enterprise_install: false,
        };
      }
      case 'users.info': {
        const id = String(args.user ?? '');
        const user = users.get(id);
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id,
            name: id.toLowerCase(),
            ...user,
            // A token from an OAuth install (`xoxb-installed-<team>-secret`) speaks for that team.
            team_id: user.team_id ?? /^xoxb-installed-(\w+)-secret$/.exec(token ?? '')?.[1] ?? fake.teamId,
            tz: user.tz ?? 'Europe/London',
            is_admin: user.is_admin ?? false,
            is_owner: user.is_owner ?? false,
          },
        };
      }
      case 'usergroups.list':
        return {
          ok: true,
          usergroups: [...groups].map(([id, g]) => ({
            id,
            team_id: FAKE_TEAM_ID,
            handle: g.handle,
            name: g.handle,
          })),
        };
      case 'usergroups.users.list': {
        const group = groups.get(String(args.usergroup ?? ''));
        return group ? { ok: true, users: group.users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'views.open':
      case 'views.update':
      case 'views.push': {
        const view = (args.view ?? {}) as Record<string, unknown>;
        const id = method === 'views.update' ? String(args.view_id ?? '') : `VFAKE${++viewCounter}`;
        return {
          ok: true,
          view: { ...view, id, hash: `${Date.now()}.hash${viewCounter}`, team_id: FAKE_TEAM_ID },
        };
      }
      case 'chat.scheduleMessage': {
        const bad = badThread(args);
        if (bad) return { ok: false, error: bad };
        return {
          ok: true,
          channel: args.channel,
          scheduled_message_id: `Q${String(++tsCounter).padStart(8, '0')}`,
          post_at: Number(args.post_at),
        };
      }
      case 'chat.postMessage': {
        const bad = badThread(args);
        if (bad) return { ok: false, error: bad };
        const ts = nextTs();
        keep(args, ts);
        return { ok: true, channel: args.channel, ts, message: { text: args.text } };
      }
      case 'chat.postEphemeral':
        return { ok: true, channel: args.channel, ts: nextTs(), message: { text: args.text } };
      case 'chat.update': {
        const m = at(args.channel, args.ts);
        if (!m) return { ok: false, error: 'message_not_found' };
        if (m.user !== FAKE_BOT_USER_ID) return { ok: false, error: 'cant_update_message' };
        m.text = typeof args.text === 'string' ? args.text : m.text;
        if (args.blocks !== undefined) m.blocks = args.blocks;
        m.edits++;
        return { ok: true, channel: m.channel, ts: m.ts, text: m.text };
      }
      case 'functions.completeSuccess':
      case 'functions.completeError':
        return completeFunction(executions, method, args, token);
      default:
        return { ok: true };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const isResponseUrl = url.pathname.startsWith('/response/');
    const method = isResponseUrl ? 'response_url' : url.pathname.replace(/^\/api\//, '');
    const auth = req.headers.authorization;
    const args = decode(raw, req.headers['content-type']);
    const token = auth?.startsWith('Bearer ')
      ? auth.slice(7)
      : typeof args.token === 'string'
        ? args.token
        : null;
    const call: SlackCall = { method, token, args, raw };
    calls.push(call);
    for (const w of [...waiters]) {
      if (w.match(call) && calls.filter(w.match).length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    const wait = delays.get(method);
    if (wait) await new Promise((r) => setTimeout(r, wait));
    await holds.get(method);
    const failure = failures.get(method)?.shift();
    if (failure !== undefined) {
      if (typeof failure === 'string') {
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ ok: false, error: failure }));
      } else {
        res.writeHead(failure.status, { 'Content-Type': 'application/json', ...failure.headers });
        res.end(failure.body === undefined ? '' : JSON.stringify(failure.body));
      }
      return;
    }
    const refused = slackRefusal(method, args);
    if (refused) {
      call.refused = refused;
      res.writeHead(isResponseUrl ? 400 : 200, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          ok: false,
          error: refused.error,
          response_metadata: { messages: refused.messages },
        }),
      );
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify(isResponseUrl ? { ok: true } : answer(method, args, token)));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeSlack = {
    teamId: FAKE_TEAM_ID,
    enterpriseId: null,
    botTokenFor: (team) => `xoxb-installed-${team}-secret`,
    apiUrl: `${base}/api/`,
    responseUrl: (id = 'cmd') => `${base}/response/${id}`,
    calls,
    users,
    groups,
    executions,
    startExecution: (id, token) => executions.set(id, { token, revoked: false, completed: null }),
    fail: (method, ...f) => failures.set(method, [...(failures.get(method) ?? []), ...f]),
    delay: (method, ms) => delays.set(method, ms),
    hold(method) {
      let release: () => void = () => undefined;
      holds.set(
        method,
        new Promise<void>((resolve) => {
          release = resolve;
        }),
      );
      return () => {
        holds.delete(method);
        release();
      };
    },
    callsTo: (method) => calls.filter((c) => c.method === method),
    messages,
    messageAt: (channel, ts) => at(channel, ts),
    addMessage(input) {
      const m: FakeMessage = { user: 'U0SOMEONE', ...input, ts: input.ts ?? nextTs(), edits: 0 };
      messages.set(`${m.channel} ${m.ts}`, m);
      return m;
    },
    topLevel: (channel) =>
      [...messages.values()].filter(
        (m) => m.channel === channel && !m.thread_ts && m.user === FAKE_BOT_USER_ID,
      ),
    replies: (channel, threadTs) =>
      [...messages.values()].filter((m) => m.channel === channel && m.thread_ts === threadTs),
    refusals: () => calls.filter((c) => c.refused),
    waitFor(method, count = 1, timeoutMs = 10_000) {
      const match = typeof method === 'string' ? (c: SlackCall) => c.method === method : method;
      const what = typeof method === 'string' ? method : 'matching';
      const done = () => calls.filter(match);
      if (done().length >= count) return Promise.resolve(done());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`fake Slack: expected ${count} ${what} call(s), saw ${done().length}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(done());
          },
        });
      });
    },
    reset() {
      calls.length = 0;
      failures.clear();
      delays.clear();
      holds.clear();
      executions.clear();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
