#!/usr/bin/env node
/**
 * Patches to dependencies, applied after every install: package.json's `postinstall` (`npm install`,
 * `npm ci`), and by name where scripts are skipped (`.ci/run` and the Dockerfile install with
 * `--ignore-scripts`). Each patch names the version it was written for: another version is left
 * alone with a warning, and test/unit/dependency-patches.test.ts fails until the patch is
 * reviewed. Running it twice changes nothing.
 *
 * @slack/web-api 8.2.0: the Web client builds the text of its debug lines before it calls
 * `logger.debug` (the JSON of each request's body and headers and of each answer, copied with their
 * tokens masked: about a tenth of a millisecond of CPU per call), whatever the level, and no option
 * turns that off. Each `this.logger.debug(…)` statement is made to run only when the logger's level
 * is debug (or when the logger cannot say its level). Upstream it is still so in 8.2.0.
 *
 * @redis/client 5.12.1: `createClient` puts its ~760 command methods (each command under two
 * names) on a new class's prototype one at a time. V8 copies a prototype's list of properties at
 * each one added, so that costs ~50 ms of CPU and ~10 MB of garbage at each start on Redis (100 ms
 * and more on a busy machine). The prototype is switched to dictionary mode first (two properties
 * added, then deleted), where an addition costs nothing more; V8 makes it fast again when it is
 * first used, so calls cost the same. The methods are the same.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GUARD = "if ((this.logger.getLevel?.() ?? 'debug') === 'debug') ";
/** Where @redis/client's `attachConfig` makes the class it fills, and what is put after it. */
const REDIS_CLASS = '    const RESP = config?.RESP ?? 2, Class = class extends BaseClass {\n    };\n';
/** Deleting a property other than the last one added is what switches an object to dictionary mode. */
const REDIS_DICTIONARY =
  '    // katapult-chatops patch: dictionary mode, so that each command added is not a copy of all the others.\n' +
  '    Class.prototype.__first = 0;\n' +
  '    Class.prototype.__second = 0;\n' +
  '    delete Class.prototype.__first;\n' +
  '    delete Class.prototype.__second;\n';

export const PATCHES = [
  {
    name: 'Web client debug lines built only at debug',
    package: '@slack/web-api',
    version: '8.2.0',
    file: 'dist/WebClient.js',
    /** Statements that start with `this.logger.debug(`, not yet guarded. */
    apply: (text) => text.replace(/^(\s*)this\.logger\.debug\(/gm, `$1${GUARD}this.logger.debug(`),
    applied: (text) => !/^\s*this\.logger\.debug\(/m.test(text) && text.includes(GUARD),
  },
  {
    name: 'Redis client commands attached to a prototype in dictionary mode',
    package: '@redis/client',
    version: '5.12.1',
    file: 'dist/lib/commander.js',
    apply: (text) => text.replace(REDIS_CLASS, `${REDIS_CLASS}${REDIS_DICTIONARY}`),
    applied: (text) => text.includes(`${REDIS_CLASS}${REDIS_DICTIONARY}`),
  },
];

/** Applies every patch under `root`'s node_modules; returns what happened to each, one line each. */
export function patchDependencies(root = ROOT) {
  return PATCHES.map((patch) => {
    const dir = path.join(root, 'node_modules', patch.package);
    let version;
    try {
      version = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
    } catch {
      return `skipped (${patch.package} is not installed): ${patch.name}`;
    }
    if (version !== patch.version)
      return `warning: not applied (${patch.package} is ${version}, the patch is for ${patch.version}): ${patch.name}`;
    const file = path.join(dir, patch.file);
    const text = readFileSync(file, 'utf8');
    if (patch.applied(text)) return `already applied: ${patch.name}`;
    const next = patch.apply(text);
    if (!patch.applied(next)) return `warning: not applied (the file is not as expected): ${patch.name}`;
    writeFileSync(file, next);
    return `applied: ${patch.name}`;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const line of patchDependencies()) {
    if (line.startsWith('warning')) process.stderr.write(`patch-dependencies: ${line}\n`);
  }
}
