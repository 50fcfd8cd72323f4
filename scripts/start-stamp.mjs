/**
 * Which sources dist/ was built from, so that `npm start` (scripts/start.mjs) builds only when they
 * changed. `npm run build` runs this file after tsc (its `postbuild`): it makes the bin executable
 * and writes dist/.sources-hash, a hash of the contents of src/ and the two tsconfig files.
 *
 * Plain JavaScript with no dependency: it runs where TypeScript is not installed too.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const STAMP = path.join(ROOT, 'dist', '.sources-hash');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

/** The hash of every input's path and contents, or null when there is no src/ (a built tree shipped without its sources). */
export function sourcesHash(root = ROOT) {
  if (!existsSync(path.join(root, 'src'))) return null;
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    const full = path.join(root, input);
    if (!existsSync(full)) continue;
    const files = input === 'src' ? readdirSync(full, { recursive: true, withFileTypes: true }) : null;
    const names = files
      ? files.filter((f) => f.isFile()).map((f) => path.relative(root, path.join(f.parentPath, f.name)))
      : [input];
    for (const name of names.sort()) {
      hash.update(`${name.split(path.sep).join('/')}\0`);
      hash.update(readFileSync(path.join(root, name)));
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}

/** The hash written by the last build, or null. */
export function builtHash(stamp = STAMP) {
  try {
    return readFileSync(stamp, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  chmodSync(path.join(ROOT, 'dist', 'cli.js'), 0o755);
  const hash = sourcesHash();
  if (hash) writeFileSync(STAMP, `${hash}\n`);
}
