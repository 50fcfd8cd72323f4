/**
 * Smoke run of the workspaces benchmark (bench/workspaces.ts): the bot in OAuth mode, from its
 * sources, with 5 installations seeded in its store against one, a few requests each. No timing
 * is asserted: it checks that the seeded installations are read as real ones (every request from
 * every workspace answered 200 and followed by its Slack call) and that the report is complete.
 */
import { liveChildren } from '../../bench/processes.js';
import { parseOptions } from '../../bench/run.js';
import { runWorkspaces } from '../../bench/workspaces.js';

let result: Awaited<ReturnType<typeof runWorkspaces>>;

beforeAll(async () => {
  const flags = [
    '--workspaces',
    '5',
    '--requests',
    '10',
    '--rounds',
    '1',
    '--concurrency',
    '2',
    '--warmup',
    '0',
  ];
  const options = parseOptions([...flags, '--bot', 'src', '--deadline', '45']);
  if (!options) throw new Error('no options');
  result = await runWorkspaces({ ...options, redactorLines: 200 }, { log: () => undefined });
}, 50_000);

afterAll(() => {
  expect(liveChildren()).toBe(0);
});

test('every request from every workspace answered and followed up; both targets and the redactor reported', () => {
  expect(result.problems).toEqual([]);
  expect(result.targets.map((t) => typeof t.met)).toEqual(['boolean', 'boolean']);
  expect(result.callsPerRequest.many?.some((c) => c.stage === 'measure')).toBe(true);
  expect(result.redactor.secrets.perWorkspace).toBe(10);
  expect(result.memory.many?.map((m) => m.stage)).toEqual([
    'started',
    'touched 5',
    'end',
    'end, memory-reducing GC',
  ]);
  expect(typeof result.rssGrowthAfterOrdinaryGcMB).toBe('number');
  // The bots saw no workspace as unknown: the seeded installations are read as real ones.
  for (const side of ['one', 'many'] as const) {
    expect(result.logEvents[side]?.stderr.workspace_refused ?? 0).toBe(0);
  }
});
