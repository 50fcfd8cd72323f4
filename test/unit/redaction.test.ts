/**
 * Log redaction that cannot be blinded or poisoned: deployment secrets are never dropped, a token
 * joins the lasting set only once Katapult accepted it (and leaves when replaced), a token being
 * checked is redacted from that work's own lines, and a line costs the same with 10 or 10,000 tokens.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { KatapultIdentity } from '../../src/katapult/client.js';
import { KatapultApiError } from '../../src/katapult/errors.js';
import { createLogger, Redactor } from '../../src/log.js';
import type { StoredToken, TokenStore } from '../../src/store/token-store.js';
import { createWorkspaceTokens } from '../../src/tokens/workspace-tokens.js';

const SIGNING_SECRET = 'signing-secret-5f2a9c7e1b3d';
const randomToken = () => `kt-${randomBytes(18).toString('base64url')}`;

function memoryTokenStore(): TokenStore {
  const tokens = new Map<string, StoredToken>();
  return {
    get: async (w) => tokens.get(w) ?? null,
    status: async (w) => {
      const t = tokens.get(w);
      return t ? { last4: t.token.slice(-4), setBy: t.setBy, setAt: t.setAt, organizationName: null } : null;
    },
    set: async (w, t) => {
      tokens.set(w, t);
    },
    remove: async (w) => tokens.delete(w),
  };
}

function setup(identify: (token: string) => Promise<KatapultIdentity>) {
  const redactor = new Redactor();
  redactor.add(SIGNING_SECRET);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', redactor, sink: (line) => lines.push(line) });
  const tokens = createWorkspaceTokens({
    store: memoryTokenStore(),
    katapult: { identify },
    fallbackToken: null,
    redactor,
    onStoreError: () => undefined,
  });
  return { redactor, lines, logger, tokens };
}

const accepted: KatapultIdentity = {
  organizations: [{ id: 'org_1', name: 'Acme', subDomain: null }],
  userName: null,
};
const refused = () =>
  new KatapultApiError(403, 'invalid_api_token', 'The API token provided was not valid.', {}, null, 1);

test('a token Katapult refuses is redacted while it is checked, and never joins the redactor', async () => {
  const token = randomToken();
  const { redactor, lines, logger, tokens } = setup(async (t) => {
    logger.event('debug', 'katapult_call', { authorization: `token ${t}` });
    throw refused();
  });
  const result = await tokens.set('T1', token, 'U1', 0);
  expect(result.ok).toBe(false);
  expect(lines[0]).toContain('[redacted]');
  expect(lines[0]).not.toContain(token);
  expect(redactor.has(token)).toBe(false);
  // Outside that request, the text is ordinary text again: typing a user ID cannot blank it out.
  logger.event('info', 'later', { text: `about ${token}` });
  expect(lines.at(-1)).toContain(token);
});

test('an accepted token is redacted everywhere until it is replaced or removed', async () => {
  const { redactor, tokens } = setup(async () => accepted);
  const first = randomToken();
  const second = randomToken();
  expect((await tokens.set('T1', first, 'U1', 0)).ok).toBe(true);
  expect(redactor.has(first)).toBe(true);
  await tokens.set('T1', second, 'U1', 0);
  expect(redactor.has(first)).toBe(false);
  expect(redactor.has(second)).toBe(true);
  await tokens.remove('T1');
  expect(redactor.has(second)).toBe(false);
});

test('a token shared by two workspaces stays redacted until both let it go', () => {
  const r = new Redactor();
  const token = randomToken();
  r.remember('katapult:T1', token);
  r.remember('katapult:T2', token);
  r.forget('katapult:T1');
  expect(r.apply(`x ${token} y`)).toBe('x [redacted] y');
  r.forget('katapult:T2');
  expect(r.apply(`x ${token} y`)).toBe(`x ${token} y`);
});

test('after 3,000 token changes the signing secret and the live tokens are still redacted', async () => {
  const { redactor, lines, logger, tokens } = setup(async () => accepted);
  const live = new Map<string, string>();
  for (let i = 0; i < 3000; i++) {
    const workspace = `T${i % 40}`;
    const token = randomToken();
    await tokens.set(workspace, token, 'U1', 0);
    live.set(workspace, token);
  }
  logger.event('info', 'check', { a: SIGNING_SECRET, b: [...live.values()].join(' ') });
  const line = lines.at(-1) ?? '';
  expect(line).not.toContain(SIGNING_SECRET);
  for (const token of live.values()) expect(line).not.toContain(token);
  expect(redactor.has(SIGNING_SECRET)).toBe(true);
});

test('typing `,"level":"` as a token is refused, and cannot break JSON lines even as a secret', async () => {
  const poison = ',"level":"';
  let asked = false;
  const { redactor, lines, logger, tokens } = setup(async () => {
    asked = true;
    return accepted;
  });
  expect(await tokens.set('T1', poison, 'U1', 0)).toEqual({ ok: false, failure: { kind: 'invalid_format' } });
  expect(asked).toBe(false);
  // Even registered directly, it is matched only as it appears inside a JSON string.
  redactor.add(poison);
  redactor.remember('katapult:T2', poison);
  logger.event('info', 'after', { text: `a${poison}b` });
  logger.info('plain line');
  for (const line of lines) {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed.level).toBe('info');
  }
  expect(lines[0]).toContain('[redacted]');
});

test('a line costs the same order with 10 and with 10,000 workspace tokens', () => {
  const line = JSON.stringify({
    time: '2026-11-27T10:00:00.000Z',
    level: 'info',
    event: 'audit_schedule',
    workspace: 'T0FAKE001',
    user: 'U0ALICE01',
    policy_id: 'dbp_1kpkjQeMEI43tztr',
    msg: 'scheduled disk backup policy for virtual machine vm_abcdef in channel C0OPS0001',
  });
  const cost = (count: number) => {
    const r = new Redactor();
    for (let i = 0; i < count; i++) r.remember(`katapult:T${i}`, randomToken());
    const runs: number[] = [];
    for (let run = 0; run < 7; run++) {
      const start = performance.now();
      for (let i = 0; i < 500; i++) r.apply(line);
      runs.push(performance.now() - start);
    }
    return Math.min(...runs);
  };
  cost(10); // warm up
  const few = cost(10);
  const many = cost(10_000);
  // Same order of cost; the benchmark reports the absolute figure.
  expect(many / few).toBeLessThan(4);
});

test('secrets that share their first characters are redacted whole, the longest first, in any order', () => {
  const r = new Redactor();
  const shared = 'katapult-shared-'; // not Slack's shape, which is redacted whatever the redactor knows
  // Added shortest, longest, then between: each must come out whole, not as a shorter one plus a tail.
  for (const secret of [`${shared}T1`, `${shared}T1-secret-long`, `${shared}T1-secret`])
    r.remember(secret, secret);
  const line = (s: string) => `{"leak":"${s}"}`;
  for (const secret of [`${shared}T1`, `${shared}T1-secret`, `${shared}T1-secret-long`])
    expect(r.apply(line(secret))).toBe('{"leak":"[redacted]"}');
  r.forget(`${shared}T1-secret-long`);
  expect(r.apply(line(`${shared}T1-secret-long`))).toBe('{"leak":"[redacted]-long"}');
  r.forget(`${shared}T1-secret`);
  expect(r.apply(line(`${shared}T1-secret-long`))).toBe('{"leak":"[redacted]-secret-long"}');
});

test('remembering 10,000 secrets with the same first characters costs the order of 10,000 unlike ones', () => {
  // Installations' bot tokens all start `xoxb-` and the digits of their team: one index bucket.
  const time = (secretOf: (i: number) => string) => {
    const r = new Redactor();
    const start = performance.now();
    for (let i = 0; i < 10_000; i++) r.remember(`installation:T${i}`, secretOf(i));
    return performance.now() - start;
  };
  time(() => randomToken()); // warm up
  const unlike = time(() => randomToken());
  const alike = time((i) => `xoxb-1234-${i}-${randomBytes(9).toString('hex')}`);
  expect(alike / unlike).toBeLessThan(5);
});
