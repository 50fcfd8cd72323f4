/** The manifests ask for exactly the scopes the code calls for, and name the configured command. */
import { readFileSync } from 'node:fs';
import { BOT_SCOPES } from '../../src/slack/scopes.js';

function botScopes(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const block = text.split(/^\s+bot:\s*$/m)[1]?.split(/^\S|^\s{0,2}\w+:/m)[0] ?? '';
  return [...block.matchAll(/^\s+-\s+([a-z:.]+)\s*$/gm)].map((m) => m[1] ?? '').sort();
}

test.each(['manifest.yml', 'manifest.oauth.yml'])(
  '%s lists exactly the bot scopes in src/slack/scopes.ts',
  (file) => {
    expect(botScopes(file)).toEqual([...BOT_SCOPES].sort());
    expect(readFileSync(file, 'utf8')).toContain('command: /katapult');
  },
);
