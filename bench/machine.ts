/** Facts about the machine and the checkout a run is measured on, and how busy the machine was. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Machine } from './report.js';
import { round } from './stats.js';

const loadAvg = () => os.loadavg().map((v) => round(v, 2) ?? 0);

function boltVersion(root: string): string | null {
  try {
    const file = path.join(root, 'node_modules/@slack/bolt/package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/** The short commit, and whether src/ has uncommitted changes. */
function commitOf(root: string): string | null {
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git(['rev-parse', '--short', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--', 'src']);
    return `${head}${dirty ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    return null;
  }
}

/** The machine at the start of a run (the end-of-run fields are filled in by `finishMachine`). */
export function machine(root: string): Machine {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGB: os.totalmem() / 1024 ** 3,
    node: process.version,
    bolt: boltVersion(root),
    commit: commitOf(root),
    loadAvgAtStart: loadAvg(),
    loadAvgAtEnd: [],
    otherCpuShare: 0,
  };
}

/** CPU time (ms) the whole machine has spent busy, all cores. */
export function machineBusyMs(): number {
  return os.cpus().reduce((n, c) => n + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

/**
 * Share of the machine's CPU time that other processes used: machine busy time minus this process
 * and the targets (the short-lived cold-start instances are not counted, so this slightly
 * overstates it). Pure.
 */
export function otherCpuShare(input: {
  busyMs: number;
  ownCpuMs: number;
  targetsCpuMs: number;
  wallMs: number;
  cores: number;
}): number {
  const other = input.busyMs - input.ownCpuMs - input.targetsCpuMs;
  return Math.max(0, other / (input.wallMs * input.cores));
}

/** Tracks the machine from the start of a run to its end. */
export function machineMeter(root: string) {
  const host = machine(root);
  const busyAtStart = machineBusyMs();
  const ownAtStart = process.cpuUsage();
  return {
    host,
    /** The machine at the end, given the CPU time (ms) the targets used and the wall time of the run. */
    finish(targetsCpuMs: number, wallMs: number): Machine {
      const own = process.cpuUsage(ownAtStart);
      const share = otherCpuShare({
        busyMs: machineBusyMs() - busyAtStart,
        ownCpuMs: (own.user + own.system) / 1000,
        targetsCpuMs,
        wallMs,
        cores: host.cores,
      });
      return { ...host, loadAvgAtEnd: loadAvg(), otherCpuShare: round(share, 3) ?? 0 };
    },
  };
}
