/**
 * `npm start`: builds dist/ only when the sources changed since the last build (`npm run build`,
 * which records them: scripts/start-stamp.mjs), then runs the bot, dist/main.js, in this process.
 *
 * Where TypeScript is not installed (`npm prune --omit=dev` on a built tree) nothing is built: the
 * existing build starts, with a warning when the sources changed since it was made. With neither a
 * build nor TypeScript it says what to run instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtHash, ROOT, sourcesHash } from './start-stamp.mjs';

const say = (line) => process.stderr.write(`katapult-chatops: ${line}\n`);
const main = path.join(ROOT, 'dist', 'main.js');
const built = existsSync(main);
const current = sourcesHash();
const stale = !built || (current !== null && current !== builtHash());

if (stale) {
  if (existsSync(path.join(ROOT, 'node_modules', 'typescript', 'package.json'))) {
    say(built ? 'the sources changed since the last build: building' : 'building dist/');
    // npm's own path when started by npm (no second lookup on PATH), else `npm` on PATH.
    const npm = process.env.npm_execpath;
    const { status, error } = npm
      ? spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
      : spawnSync('npm', ['run', 'build', '--silent'], {
          cwd: ROOT,
          stdio: 'inherit',
          shell: process.platform === 'win32',
        });
    if (status !== 0) {
      say(`the build failed${error ? ` (${error.message})` : ''}: not starting`);
      process.exit(status || 1);
    }
  } else if (built) {
    say(
      'the sources changed since dist/ was built, and TypeScript is not installed: starting the existing build',
    );
  } else {
    say('no build in dist/ and TypeScript is not installed: run `npm install`, then `npm start`');
    process.exit(1);
  }
}

await import(pathToFileURL(main).href);
