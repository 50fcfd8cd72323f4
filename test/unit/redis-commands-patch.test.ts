/**
 * @redis/client 5.12.1 puts its ~760 command methods on a new class's prototype one at a time,
 * which V8 makes quadratic (each addition copies the prototype's list of properties): ~50 ms of
 * CPU at each start on Redis. scripts/patch-dependencies.mjs switches that prototype to dictionary
 * mode first. The patch applies once to the file as published and leaves another version alone;
 * the patched function makes the same methods, on a prototype in dictionary mode while it is filled
 * (asked of V8 itself, in a child process with --allow-natives-syntax). Without the patch the last
 * test fails.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error: a plain script, without types
import { PATCHES, patchDependencies } from '../../scripts/patch-dependencies.mjs';

const NAME = 'Redis client commands attached to a prototype in dictionary mode';
const require = createRequire(import.meta.url);
const installed = readFileSync(require.resolve('@redis/client/dist/lib/commander.js'), 'utf8');
/** The file as published: the installed one, without the lines the patch adds (if it was applied). */
const published = installed.replace(
  /^ {4}\/\/ katapult-chatops patch:.*\n(?: {4}.*Class\.prototype\.__\w+.*\n)+/m,
  '',
);

let root: string;
let file: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'katapult-redis-patch-'));
  const dir = path.join(root, 'node_modules', '@redis', 'client');
  file = path.join(dir, 'dist', 'lib', 'commander.js');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, published);
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ version: '5.12.1' }));
  await writeFile(path.join(root, 'published.js'), published);
  const patch = PATCHES.find((p: { name: string }) => p.name === NAME);
  await writeFile(path.join(root, 'patched.js'), patch.apply(published));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

test('the patch applies once to the file as published, and leaves another version alone', async () => {
  expect(patchDependencies(root)).toContain(`applied: ${NAME}`);
  const patched = readFileSync(file, 'utf8');
  expect(patched).not.toBe(published);
  // Lines added, none changed.
  expect(patched.split('\n').filter((line) => !published.includes(line))).toHaveLength(5);
  expect(patchDependencies(root)).toContain(`already applied: ${NAME}`);
  await writeFile(
    path.join(path.dirname(file), '..', '..', 'package.json'),
    JSON.stringify({ version: '5.13.0' }),
  );
  expect(patchDependencies(root).find((line: string) => line.includes(NAME))).toMatch(
    /^warning: not applied \(@redis\/client is 5\.13\.0/,
  );
});

/** In a child: attachConfig of `module` with 800 commands; whether the prototype it filled is in fast mode, and its methods. */
function attach(module: string): { fast: boolean; names: string[]; answer: unknown } {
  const script = `
    const { attachConfig } = require(${JSON.stringify(module)});
    const commands = {};
    for (let i = 0; i < 800; i++) commands['CMD' + i] = { i };
    const Class = attachConfig({
      BaseClass: class {},
      commands,
      createCommand: (command) => function () { return command.i; },
      config: undefined,
    });
    const fast = %HasFastProperties(Class.prototype);
    const names = Object.getOwnPropertyNames(Class.prototype);
    console.log(JSON.stringify({ fast, names, answer: new Class().CMD799() }));
  `;
  const child = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout);
}

test('patched, the prototype is filled in dictionary mode, with the same methods', () => {
  const before = attach(path.join(root, 'published.js'));
  const after = attach(path.join(root, 'patched.js'));
  // As published, it stays in fast mode while filled: the quadratic path.
  expect(before.fast).toBe(true);
  expect(after.fast).toBe(false);
  expect(after.names).toEqual(before.names);
  expect(after.names).toHaveLength(801); // the commands and the constructor
  expect(after.answer).toBe(799);
});
