/** `readErrorDetail`: an error's `detail` read as the shape documented for its code, never failing. */
import { KatapultApiError, readErrorDetail } from '../../../src/katapult/errors.js';
import { errorFixture } from '../../../support/fixtures/katapult/index.js';

const apiError = (code: string, detail: Record<string, unknown>) =>
  new KatapultApiError(400, code, null, detail, null, 1);

it.each([
  'unauthorized_network_for_api_token',
  'invalid_api_token',
  'permission_denied',
  'scope_not_granted',
  'object_in_trash',
  'rate_limit_reached',
  'invalid_argument',
  'missing_required_argument',
] as const)('the %s fixture reads back with its documented fields', (code) => {
  const fixture = errorFixture(code).body.error;
  const read = readErrorDetail(apiError(code, fixture.detail), code);
  expect(fixture.detail).toMatchObject(read);
  expect(Object.keys(read).length).toBeGreaterThan(0);
});

it.each<[string, () => unknown, unknown]>([
  [
    'scopes keep only their strings',
    () =>
      readErrorDetail(apiError('scope_not_granted', { scopes: ['a', 5, null, 'b'] }), 'scope_not_granted'),
    { scopes: ['a', 'b'] },
  ],
  [
    'scopes that are not a list read as absent',
    () => readErrorDetail(apiError('scope_not_granted', { scopes: 'a' }), 'scope_not_granted'),
    { scopes: undefined },
  ],
  [
    'an IP address of another type reads as absent',
    () =>
      readErrorDetail(
        apiError('unauthorized_network_for_api_token', { ip_address: 1234 }),
        'unauthorized_network_for_api_token',
      ),
    { ip_address: undefined },
  ],
  [
    'a trash object that is not an object reads as absent',
    () => readErrorDetail(apiError('object_in_trash', { trash_object: 'trsh_1' }), 'object_in_trash'),
    { trash_object: undefined },
  ],
  [
    'a keep_until that is not a number reads as absent, the rest is kept',
    () =>
      readErrorDetail(
        apiError('object_in_trash', { trash_object: { id: 'trsh_1', keep_until: 'soon' } }),
        'object_in_trash',
      ),
    { trash_object: { id: 'trsh_1', keep_until: undefined } },
  ],
  [
    'a null trash object stays null',
    () => readErrorDetail(apiError('object_in_trash', { trash_object: null }), 'object_in_trash'),
    { trash_object: null },
  ],
  [
    'an empty detail gives no field',
    () => readErrorDetail(apiError('rate_limit_reached', {}), 'rate_limit_reached'),
    {},
  ],
])('%s', (_label, read, expected) => {
  expect(read()).toEqual(expected);
});
