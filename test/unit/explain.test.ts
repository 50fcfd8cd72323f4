import {
  KatapultApiError,
  KatapultNetworkError,
  KatapultResponseError,
  KatapultTimeoutError,
} from '../../src/katapult/errors.js';
import { explain, type Failure } from '../../src/messages/explain.js';
import {
  type ErrorFixtureCode,
  errorFixture,
  errorFixtureCodes,
} from '../../support/fixtures/katapult/index.js';

const ctx = { command: '/katapult', operation: 'schedule' } as const;

function apiError(code: ErrorFixtureCode): KatapultApiError {
  const fixture = errorFixture(code);
  const body = fixture.body as {
    error: { code: string; description: string; detail: Record<string, unknown> };
  };
  return new KatapultApiError(
    fixture.status,
    body.error.code,
    body.error.description,
    body.error.detail,
    'req-123',
    1,
  );
}

test.each(errorFixtureCodes.filter((c) => c !== 'no_user_associated_with_identity'))(
  '%s has its own explanation with a next step and the request ID',
  (code) => {
    const e = explain(apiError(code), ctx);
    expect(e.summary.length).toBeGreaterThan(20);
    expect(e.next.length).toBeGreaterThan(10);
    expect(e.requestId).toBe('req-123');
    // The generic fallback names the raw code; every documented code gets its own words instead.
    expect(e.summary).not.toContain(`\`${code}\``);
  },
);

test('details from the API are used: IP, scopes, purge time, rate limit', () => {
  expect(explain(apiError('unauthorized_network_for_api_token'), ctx).summary).toMatch(
    /`\d+\.\d+\.\d+\.\d+`|`[0-9a-f:]+`/,
  );
  const scopes = explain(apiError('scope_not_granted'), ctx).summary;
  expect(scopes).toContain('disk_backup_policies');
  expect(explain(apiError('object_in_trash'), ctx).summary).toMatch(/<!date\^\d+\^/);
  expect(explain(apiError('rate_limit_reached'), ctx).summary).toMatch(/\d+ requests a minute/);
});

test('an unknown code falls back to naming it, escaped', () => {
  const e = explain(new KatapultApiError(418, '<!here>', '<b>teapot</b>', {}, null, 1), ctx);
  expect(e.summary).toContain('&lt;!here&gt;');
  expect(e.summary).not.toContain('<!here>');
  expect(e.summary).not.toContain('<b>');
});

test.each<[string, Failure, RegExp]>([
  ['timeout', new KatapultTimeoutError(10_000, 4), /10 seconds.*cannot tell/],
  ['network', new KatapultNetworkError('ECONNREFUSED', 4), /could not reach Katapult \(4 attempts\)/],
  ['bad response', new KatapultResponseError(502, 'not JSON (text/html)', null), /HTTP 502, not JSON/],
  ['no token', { kind: 'no_token' }, /no Katapult API token/],
  ['store', { kind: 'store_unavailable' }, /storage/],
  ['format', { kind: 'invalid_format' }, /does not look like a Katapult API token/],
])('%s is explained', (_name, failure, pattern) => {
  expect(explain(failure, ctx).summary).toMatch(pattern);
});

test('for the token check, bad-token errors ask to paste again rather than to ask an admin', () => {
  expect(explain(apiError('invalid_api_token'), { ...ctx, operation: 'token' }).next).toContain(
    'paste it again',
  );
  expect(explain(apiError('invalid_api_token'), ctx).next).toContain('/katapult token');
});

test.each<[string, string, Record<string, unknown>, RegExp, RegExp | null]>([
  [
    'scopes of other types are left out',
    'scope_not_granted',
    { scopes: [5, 'trash_objects:restore'] },
    /lacks the scope `trash_objects:restore`\./,
    null,
  ],
  [
    'no usable scope',
    'scope_not_granted',
    { scopes: 'all' },
    /lacks the scope a scope this action needs/,
    null,
  ],
  [
    'an IP address that is not text',
    'unauthorized_network_for_api_token',
    { ip_address: 7 },
    /bot's network\./,
    /IP address/,
  ],
  ['an empty details text', 'invalid_api_token', { details: '' }, /have expired\./, /\(\)/],
  [
    'a keep_until that is not a number',
    'object_in_trash',
    { trash_object: { keep_until: 'soon' } },
    /already in the trash\./,
    /purged/,
  ],
  [
    'a keep_until past what a date holds',
    'object_in_trash',
    { trash_object: { keep_until: 1e13 } },
    /already in the trash\./,
    /purged/,
  ],
  [
    'an argument error falls back to the description',
    'missing_required_argument',
    {},
    /malformed: Bad thing/,
    null,
  ],
])('odd details read as absent: %s', (_label, code, detail, pattern, absent) => {
  const summary = explain(new KatapultApiError(400, code, 'Bad thing', detail, null, 1), ctx).summary;
  expect(summary).toMatch(pattern);
  if (absent) expect(summary).not.toMatch(absent);
});
