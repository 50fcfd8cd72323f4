/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): self time by function and by
 * package/file, and inclusive time of the project's own functions.
 *
 *   node bench/profile-summary.mjs bench/results/profiles/bot-….cpuprofile [top=25] [callers-of-regex]
 *
 * With a third argument, also prints the heaviest call stacks (bottom-up) leading to functions whose
 * "name file:line" matches that regular expression.
 *
 * `--busiest`: only the longest stretch in which the process was busy more than half of every
 * 100 ms (in a benchmark profile, the measured phase: start-up and idle waits left out), idle
 * samples excluded; `--per N` also prints each figure divided by N (e.g. ms per request).
 */
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  if (i < 0) return null;
  const [, value] = argv.splice(i, name === '--per' ? 2 : 1);
  return value ?? true;
};
const busiest = flag('--busiest') !== null;
const per = Number(flag('--per') ?? 0);
const [file, topArg, callersOf] = argv;
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample times (microseconds from the start); with --busiest, the window of the busiest stretch.
const isIdle = (id) => nodes.get(id).callFrame.functionName === '(idle)';
let clock = 0;
const at = profile.samples.map((_, i) => {
  clock += profile.timeDeltas[i] ?? 0;
  return clock;
});
let window = [0, Number.POSITIVE_INFINITY];
if (busiest) {
  const bucketUs = 100_000;
  const busy = new Float64Array(Math.ceil(clock / bucketUs) + 1);
  profile.samples.forEach((id, i) => {
    if (!isIdle(id)) busy[Math.floor(at[i] / bucketUs)] += profile.timeDeltas[i + 1] ?? 0;
  });
  let best = [0, -1];
  let start = null;
  busy.forEach((b, k) => {
    if (b > bucketUs / 2) {
      start ??= k;
      if (k - start > best[1] - best[0]) best = [start, k];
    } else start = null;
  });
  window = [best[0] * bucketUs, (best[1] + 1) * bucketUs];
}

// Self time per node from the samples and their time deltas (microseconds).
const self = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  if (busiest && (isIdle(id) || at[i] < window[0] || at[i] >= window[1])) return;
  const dt = profile.timeDeltas[i + (busiest ? 1 : 0)] ?? 0;
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
});

const where = (cf) => {
  const url = cf.url || '(native)';
  const short = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'node_modules/')
    .replace(/^.*\/(dist|src|bench)\//, '$1/');
  return `${short}:${cf.lineNumber + 1}`;
};
const group = (cf) => {
  const url = cf.url || '';
  if (!url) return cf.functionName.startsWith('(') ? cf.functionName : '(native/builtin)';
  if (url.startsWith('node:')) return url.split('/')[0].replace(/:.*$/, ':') + url.slice(5).split('/')[0];
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const own = /\/(dist|src)\/(.*)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
};

const byFunction = new Map();
const byGroup = new Map();
const inclusiveOwn = new Map();
for (const [id, t] of self) {
  const n = nodes.get(id);
  const cf = n.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${where(cf)}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + t);
  const g = group(cf);
  byGroup.set(g, (byGroup.get(g) ?? 0) + t);
  // Inclusive time for our own (dist/ or src/) frames: charge each distinct own frame on the stack once.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const f = nodes.get(cur).callFrame;
    if (/\/(dist|src)\//.test(f.url) && !f.url.includes('node_modules')) {
      const k = `${f.functionName || '(anonymous)'} ${where(f)}`;
      if (!seen.has(k)) {
        seen.add(k);
        inclusiveOwn.set(k, (inclusiveOwn.get(k) ?? 0) + t);
      }
    }
  }
}

const pct = (t) =>
  `${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms` +
  (per > 0 ? `  ${(t / 1000 / per).toFixed(3).padStart(7)} ms/req` : '');
const print = (title, map, n) => {
  process.stdout.write(`\n## ${title}\n`);
  for (const [k, t] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n))
    process.stdout.write(`${pct(t)}  ${k}\n`);
};
process.stdout.write(
  `${file}: ${(total / 1000).toFixed(0)} ms sampled` +
    (busiest ? ` (busiest stretch ${((window[1] - window[0]) / 1e6).toFixed(1)} s, idle excluded)` : '') +
    '\n',
);
print('self time by package / file', byGroup, top);
print('self time by function', byFunction, top);
print('inclusive time of own functions (dist/ or src/)', inclusiveOwn, top);

if (callersOf) {
  const re = new RegExp(callersOf);
  const stacks = new Map();
  for (const [id, t] of self) {
    const cf = nodes.get(id).callFrame;
    if (!re.test(`${cf.functionName || '(anonymous)'} ${where(cf)}`)) continue;
    const frames = [];
    for (let cur = id; cur !== undefined && frames.length < 14; cur = parent.get(cur)) {
      const f = nodes.get(cur).callFrame;
      if (f.functionName === '(root)') break;
      frames.push(`${f.functionName || '(anonymous)'} ${where(f)}`);
    }
    const key = frames.join('\n      <- ');
    stacks.set(key, (stacks.get(key) ?? 0) + t);
  }
  print(`heaviest stacks into /${callersOf}/`, stacks, 8);
}
