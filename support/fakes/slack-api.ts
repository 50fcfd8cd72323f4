/**
 * A fake Slack Web API on loopback. The bot's real WebClient talks to it through `slackApiUrl`.
 * It records every call (method, token, decoded arguments), answers like Slack does, and can be told
 * to fail a method once (`not_in_channel`, `expired_trigger_id`, HTTP 500, 429 with Retry-After).
 * Like Slack, it refuses a view or message that breaks Block Kit's size limits (support/slack-limits.ts):
 * `invalid_arguments` for views, `invalid_blocks` / `msg_too_long` for messages, HTTP 400 at a response_url.
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
      case 'chat.scheduleMessage':
        return {
          ok: true,
          channel: args.channel,
          scheduled_message_id: `Q${String(++tsCounter).padStart(8, '0')}`,
          post_at: Number(args.post_at),
        };
      case 'chat.postMessage':
      case 'chat.postEphemeral':
        return {
          ok: true,
          channel: args.channel,
          ts: `1700000000.${String(++tsCounter).padStart(6, '0')}`,
          message: { text: args.text },
        };
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
