/** The harness's cases, run against one responder in one throwaway lab. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RawBenchOptions } from '../src/loadgen/options';
import type { BenchResult } from '../src/loadgen/report';
import type { Scenario } from '../src/lab/topology';
import { cpuSeconds, rssMiB, type RunningResponder } from './responders';

/** One measurement: the generator's result, a reduced latency CDF, and the responder's CPU. */
export interface CaseResult {
  case: string;
  result: BenchResult;
  cdf: [number, number][];
  /** Responder CPU, % of one core over the send phase; undefined for the kernel (softirq time is not attributable). */
  cpuPercent?: number;
}

/** Everything measured for one responder. */
export interface ResponderResults {
  responder: string;
  /** ndp-responder's flags beyond `run --interface eth0 --via br0 --target SUBNET`. */
  flags?: string[];
  cases: CaseResult[];
  rssBeforeMiB?: number;
  rssAfterMiB?: number;
}

/** Offered rates of the sweep, NS/s. */
export const SWEEP_RATES = [10_000, 25_000, 50_000, 100_000, 150_000, 200_000];
/** A target no responder serves (inside the LAN /64, outside the container /125). */
export const FOREIGN_TARGET = '2001:db8::dead:1';

const WORKER = join(__dirname, 'worker.js');

/** Runs the generator in the LAN namespace; rejects with its one-line error. */
export function runWorker(lab: Scenario, options: RawBenchOptions): Promise<{ result: BenchResult; cdf: [number, number][] }> {
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
      if (code === 0) resolve(JSON.parse(out) as { result: BenchResult; cdf: [number, number][] });
      else reject(new Error(`bench worker exited ${code}: ${err.trim()}`));
    });
  });
}

/** The cases, in order: name and generator flags. */
function caseList(lab: Scenario): [string, RawBenchOptions][] {
  const target = [lab.container.address];
  const pool = 'pool:64';
  return [
    ['latency, 1 source', { target, count: '1000', rate: '500' }],
    ['latency, 64 sources', { target, count: '1000', rate: '500', sources: pool }],
    ['latency, idle (10 NS/s)', { target, count: '20', rate: '10' }],
    ...SWEEP_RATES.map((rate): [string, RawBenchOptions] => [`sweep ${rate}`, { target, count: String(rate), rate: String(rate), duration: '1', sources: pool }]),
    ['foreign-target flood', { target: [FOREIGN_TARGET], count: '200000', rate: '100000', duration: '2', sources: pool }],
    ['random-source flood', { target, count: '100000', rate: '100000', duration: '1', sources: 'random:2001:db8::/64' }],
  ];
}

/** Runs every case against a started responder, with CPU around each flood. */
export async function runCases(lab: Scenario, responder: RunningResponder, progress: (line: string) => void): Promise<ResponderResults> {
  const results: ResponderResults = { responder: '', cases: [], rssBeforeMiB: rssMiB(responder.pid) };
  for (const [name, options] of caseList(lab)) {
    const cpuBefore = cpuSeconds(responder.pid);
    const { result, cdf } = await runWorker(lab, options);
    const cpuAfter = cpuSeconds(responder.pid);
    const cpuPercent =
      cpuBefore === undefined || cpuAfter === undefined || result.sendSeconds <= 0
        ? undefined
        : Math.round(((cpuAfter - cpuBefore) / result.sendSeconds) * 1000) / 10;
    results.cases.push({ case: name, result, cdf, ...(cpuPercent === undefined ? {} : { cpuPercent }) });
    progress(`${name}: sent ${result.sent} at ${result.achievedRate}/s, answered ${(result.answeredFraction * 100).toFixed(2)} %, p50 ${result.latencyUs.p50 ?? '—'} µs${cpuPercent === undefined ? '' : `, CPU ${cpuPercent} %`}`);
  }
  results.rssAfterMiB = rssMiB(responder.pid);
  return results;
}
