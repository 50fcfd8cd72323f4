import type { Harness } from '../../support/harness.js';

/**
 * Every place a secret must never reach: each recorded Slack Web API call and each log line. The
 * bot token and the OAuth client secret are credentials Slack must receive, so the calls' own
 * `token` and `client_secret` fields are left out.
 */
export function leaksOf(h: Harness, secrets: string[]): string[] {
  const content = (args: Record<string, unknown>) =>
    JSON.stringify({ ...args, token: undefined, client_secret: undefined });
  const haystacks = [
    ...h.slack.calls.map((c) => `slack ${c.method}: ${content(c.args)}`),
    ...h.logs.map((l) => `log: ${l}`),
  ];
  const leaks: string[] = [];
  for (const secret of secrets) {
    for (const text of haystacks)
      if (text.includes(secret)) leaks.push(`${secret.slice(0, 6)}… in ${text.slice(0, 120)}`);
  }
  return leaks;
}
