/** The runner's options: defaults, flags, and the scenarios' own defaults. */
import { DEFAULT_OPTIONS, parseOptions, SMOKE_OPTIONS, UsageError } from '../../../bench/run.js';

test('flags override the defaults; the smoke run and the scenarios bring their own', () => {
  expect(parseOptions([])).toEqual(DEFAULT_OPTIONS);
  expect(parseOptions(['-h'])).toBeNull();
  expect(SMOKE_OPTIONS).toMatchObject({
    smoke: true,
    requests: 150,
    concurrency: [8],
    rounds: 1,
    bot: 'src',
    stores: ['sqlite'],
    out: 'bench/results/smoke.json',
    docs: null,
    deadlineMs: 50_000,
    followTimeoutMs: 10_000,
  });
  // Given flags win over the smoke run's own.
  expect(parseOptions(['--smoke', '--docs', 'x.md', '--requests', '40'])).toMatchObject({
    docs: 'x.md',
    requests: 40,
  });
  const flags = [
    '--requests',
    '600',
    '--concurrency',
    '1,16,16',
    '--store',
    'sqlite',
    '--no-docs',
    '--cpu-prof',
  ];
  expect(parseOptions(flags)).toMatchObject({
    requests: 600,
    concurrency: [1, 16],
    stores: ['sqlite'],
    docs: null,
    cpuProfDir: 'bench/results/profiles',
  });
  expect(parseOptions(['--deadline', '30'])?.deadlineMs).toBe(30_000);
  expect(parseOptions(['--workspaces', '5', '--no-touch'])).toMatchObject({
    workspaces: 5,
    touch: false,
    requests: 1200,
    rounds: 4,
    concurrency: [8],
    stores: ['sqlite'],
  });
  expect(parseOptions(['--burst', '50', '--target', 'baseline'])).toMatchObject({
    burst: 50,
    target: 'baseline',
    stores: ['sqlite'],
  });
});

test('bad values are usage errors', () => {
  expect(() => parseOptions(['--requests', '0'])).toThrow(UsageError);
  expect(() => parseOptions(['--store', 'mysql'])).toThrow(/--store: expected sqlite or postgres or redis/);
  expect(parseOptions(['--store', 'redis'])?.stores).toEqual(['redis']);
  expect(() => parseOptions(['--requests', '10', '--concurrency', '16'])).toThrow(/fewer per round/);
  expect(() => parseOptions(['--warmup', '5'])).toThrow(/--warmup/);
  expect(() => parseOptions(['--nope'])).toThrow();
});
