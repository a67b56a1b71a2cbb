/** The harness's cases, run against one responder in one throwaway lab. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RawBenchOptions } from '../src/loadgen/options';
import type { BenchResult } from '../src/loadgen/report';
import type { Scenario } from '../src/lab/topology';
import { perFrameMicroseconds, type MachineWindow } from './machine-cpu';
import { cpuSeconds, rssMiB, type RunningResponder } from './responders';

/** One measurement: the generator's result, a reduced latency CDF, the responder's CPU and the machine's. */
export interface CaseResult {
  case: string;
  result: BenchResult;
  cdf: [number, number][];
  /** Responder process's utime+stime, % of one core over the send phase; undefined for the kernel (no process). */
  cpuPercent?: number;
  /** Machine-wide /proc/stat and /proc/softirqs at the send phase's edges (every process and softirq on the machine). */
  machine?: MachineWindow;
}

/** Everything measured for one responder. */
export interface ResponderResults {
  responder: string;
  /** ndp-responder's flags beyond `run --interface eth0 --via br0 --target SUBNET`. */
  flags?: string[];
  /** ndp-responder's answer path as its `started` line named it (`bpf-tcx`, `socket`, ...). */
  fastPath?: string;
  cases: CaseResult[];
  /**
   * The kernel-time case with nothing answering, in the same lab: before the responder starts
   * and after it stops. Subtracted from the case's machine-wide time in the table.
   */
  baselines?: CaseResult[];
  rssBeforeMiB?: number;
  rssAfterMiB?: number;
}

/** Offered rates of the sweep, NS/s. */
export const SWEEP_RATES = [10_000, 25_000, 50_000, 100_000, 150_000, 200_000];
/** A target no responder serves (inside the LAN /64, outside the container /125). */
export const FOREIGN_TARGET = '2001:db8::dead:1';
/** The case whose machine-wide softirq and sys time the table shows, against the same flood with nothing answering. */
export const KERNEL_TIME_CASE = '100k NS/s for 3 s';

const WORKER = join(__dirname, 'worker.js');

/** Runs the generator in the LAN namespace; rejects with its one-line error. */
export function runWorker(lab: Scenario, options: RawBenchOptions): Promise<{ result: BenchResult; cdf: [number, number][]; machine?: MachineWindow }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', lab.lan.ns, process.execPath, WORKER, JSON.stringify({ interface: 'lan0', ...options })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000); // every case is bounded far below this
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as { result: BenchResult; cdf: [number, number][]; machine?: MachineWindow });
      else reject(new Error(`bench worker exited ${code}: ${err.trim()}`));
    });
  });
}

/** The kernel-time case's flood: 100k NS/s for the served target from 64 sources, 3 s (more ticks than the 1 s sweep). */
function kernelTimeFlood(lab: Scenario): RawBenchOptions {
  return { target: [lab.container.address], count: '300000', rate: '100000', duration: '3', sources: 'pool:64' };
}

/** The cases, in order: name and generator flags. */
export function caseList(lab: Scenario): [string, RawBenchOptions][] {
  const target = [lab.container.address];
  const pool = 'pool:64';
  return [
    ['latency, 1 source', { target, count: '1000', rate: '500' }],
    ['latency, 64 sources', { target, count: '1000', rate: '500', sources: pool }],
    ['latency, idle (10 NS/s)', { target, count: '20', rate: '10' }],
    ...SWEEP_RATES.map((rate): [string, RawBenchOptions] => [`sweep ${rate}`, { target, count: String(rate), rate: String(rate), duration: '1', sources: pool }]),
    ['foreign-target flood', { target: [FOREIGN_TARGET], count: '200000', rate: '100000', duration: '2', sources: pool }],
    ['random-source flood', { target, count: '100000', rate: '100000', duration: '1', sources: 'random:2001:db8::/64' }],
    [KERNEL_TIME_CASE, kernelTimeFlood(lab)],
  ];
}

/** Machine-wide softirq and sys over a case's send phase, for the progress line. */
function machineNote(machine: MachineWindow | undefined, sent: number): string {
  if (machine === undefined || sent <= 0) return '';
  const us = (field: 'softirq' | 'system'): string => perFrameMicroseconds(machine, [field], sent)?.toFixed(2) ?? '—';
  return `; machine-wide µs per NS: softirq ${us('softirq')}, sys ${us('system')}`;
}

/** Runs one case; `pid` is the responder's process whose CPU is read around it (none: not read). */
async function runCase(lab: Scenario, name: string, options: RawBenchOptions, pid: number | undefined, progress: (line: string) => void): Promise<CaseResult> {
  const cpuBefore = cpuSeconds(pid);
  const { result, cdf, machine } = await runWorker(lab, options);
  const cpuAfter = cpuSeconds(pid);
  const cpuPercent =
    cpuBefore === undefined || cpuAfter === undefined || result.sendSeconds <= 0
      ? undefined
      : Math.round(((cpuAfter - cpuBefore) / result.sendSeconds) * 1000) / 10;
  progress(`${name}: sent ${result.sent} at ${result.achievedRate}/s, answered ${(result.answeredFraction * 100).toFixed(2)} %, p50 ${result.latencyUs.p50 ?? '—'} µs${cpuPercent === undefined ? '' : `, CPU ${cpuPercent} %`}${machineNote(machine, result.sent)}`);
  return { case: name, result, cdf, ...(cpuPercent === undefined ? {} : { cpuPercent }), ...(machine === undefined ? {} : { machine }) };
}

/** Runs the selected cases against a started responder, with CPU around each flood. */
export async function runCases(lab: Scenario, responder: RunningResponder, progress: (line: string) => void, selected: (name: string) => boolean = () => true): Promise<ResponderResults> {
  const results: ResponderResults = { responder: '', cases: [], rssBeforeMiB: rssMiB(responder.pid) };
  for (const [name, options] of caseList(lab).filter(([name]) => selected(name))) {
    results.cases.push(await runCase(lab, name, options, responder.pid, progress));
  }
  results.rssAfterMiB = rssMiB(responder.pid);
  return results;
}

/** The kernel-time case's flood with nothing answering (no responder in the lab), named `label`. */
export function baselineFlood(lab: Scenario, label: string, progress: (line: string) => void): Promise<CaseResult> {
  return runCase(lab, `${KERNEL_TIME_CASE}, nothing answering, ${label}`, kernelTimeFlood(lab), undefined, progress);
}
