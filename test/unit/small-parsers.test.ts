import { Redactor } from '../../src/log.js';
import { checkPolicyId } from '../../src/scheduling/policy-id.js';
import { parseCommandText } from '../../src/slack/listeners/commands/command-text.js';

test.each([
  ['', { kind: 'schedule', policyId: null, when: null }],
  ['  help ', { kind: 'help' }],
  ['HELP', { kind: 'help' }],
  ['token', { kind: 'token' }],
  ['dbp_1', { kind: 'schedule', policyId: 'dbp_1', when: null }],
  ['dbp_1   tomorrow   09:00', { kind: 'schedule', policyId: 'dbp_1', when: 'tomorrow 09:00' }],
])('command text %j', (text, intent) => {
  expect(parseCommandText(text)).toEqual(intent);
});

test.each([
  ['dbp_1kpkjQeMEI43tztr', true],
  ['  dbp_1  ', true],
  ['', false],
  ['<!channel>', false],
  ['dbp 1', false],
  ['_leading', false],
  ['x'.repeat(64), true],
  ['x'.repeat(65), false],
])('policy ID %j valid=%s', (raw, ok) => {
  expect(checkPolicyId(raw).ok).toBe(ok);
});

test('the redactor removes Slack tokens by shape, bearer values and registered secrets', () => {
  const r = new Redactor();
  r.add('kt-registered-secret');
  r.add('short');
  const out = r.apply('xoxb-123-abc xapp-1-A Bearer abc.def kt-registered-secret short');
  expect(out).toBe('[redacted] [redacted] Bearer [redacted] [redacted] short');
});
