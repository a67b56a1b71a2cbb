/**
 * The "one router resolves everything at once" lab (issue 9): the scenario with a /112 routed
 * to the bridge and served by the daemon at default flags; the LAN namespace's own kernel is
 * the router (src/lab/resolution.ts makes it resolve many served addresses together). Helpers
 * to flood the daemon meanwhile with the shipped generator, and to measure its CPU and memory.
 */
import { run, runInNamespace } from '../../src/lab/exec';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { sleep } from '../../src/lab/wait';
import { FLOOD_TARGET, SERVED_PREFIX } from '../../src/lab/resolution';
import type { BenchResult } from '../../src/loadgen/report';
import { DaemonProcess } from './daemon-process';
import { runCli } from './lab-tools';
import { cpuMillis, processStatus } from './proc';
import { answeredTotal, receivedTotal } from './metrics';
import { seriesValue } from './prometheus';

const METRICS_PORT = 9464;

/** A scenario and the daemon serving {@link SERVED_PREFIX} in it. */
export interface RouterLab {
  readonly lab: Scenario;
  readonly daemon: DaemonProcess;
  /** Stop the daemon and delete the namespaces; never throws. */
  close(): Promise<void>;
}

/**
 * Build the lab and start the daemon at default answer limits: only `--interface --target --via`
 * and `--metrics-listen` for counters. `extraArgs` is for scratch experiments, never for the
 * committed tests.
 */
export async function startRouterLab(extraArgs: readonly string[] = []): Promise<RouterLab> {
  const lab = await createScenario();
  let daemon: DaemonProcess | undefined;
  const close = async (): Promise<void> => {
    daemon?.kill();
    await lab.destroy();
  };
  try {
    await run('ip', ['-n', lab.host.ns, '-6', 'route', 'add', SERVED_PREFIX, 'dev', 'br0']);
    daemon = new DaemonProcess(lab.host.ns, [
      '--interface', 'eth0', '--target', SERVED_PREFIX, '--via', 'br0',
      '--metrics-listen', `127.0.0.1:${METRICS_PORT}`, ...extraArgs,
    ]);
    await daemon.started();
    await daemon.waitForLog((r) => r.msg === 'route gained, answering', 5000, 'route gained');
    await daemon.waitForLog((r) => r.msg === 'metrics listening', 5000, 'metrics listening');
    return { lab, daemon, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The daemon's counters, scraped from inside the host namespace. */
export interface DaemonCounters {
  /** NS taken by either path (metrics.ts receivedTotal). */
  readonly received: number;
  /** NAs sent by either path (metrics.ts answeredTotal). */
  readonly advertised: number;
  readonly rateLimited: number;
}

/** Scrape /metrics (a node child in the host namespace, where the daemon listens on 127.0.0.1). */
export async function daemonCounters(lab: Scenario): Promise<DaemonCounters> {
  const script = `fetch('http://127.0.0.1:${METRICS_PORT}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
  const { stdout } = await runInNamespace(lab.host.ns, process.execPath, ['-e', script], { timeoutMs: 15_000 });
  const value = (series: string): number => {
    const total = seriesValue(stdout, series);
    if (total === undefined) throw new Error(`no ${series} in the daemon's metrics`);
    return total;
  };
  return {
    received: receivedTotal(value),
    advertised: answeredTotal(value),
    rateLimited: value('ndp_responder_solicitations_ignored_total{reason="rate-limited"}'),
  };
}

/** `after - before`, field by field. */
export function counterDelta(before: DaemonCounters, after: DaemonCounters): DaemonCounters {
  return { received: after.received - before.received, advertised: after.advertised - before.advertised, rateLimited: after.rateLimited - before.rateLimited };
}

/** A running `ndp-responder bench` in the LAN namespace. */
export interface Flood {
  readonly result: Promise<BenchResult>;
  /** True until the generator exits. */
  running(): boolean;
}

/**
 * Start the shipped generator on lan0: `rate` NS/s for {@link FLOOD_TARGET} from `sources`
 * (`random:PREFIX`, or `random:ADDRESS/128` for one source), bounded by `seconds` and
 * `rate * seconds` frames.
 */
export function startFlood(lab: Scenario, sources: string, rate: number, seconds: number): Flood {
  let exited = false;
  const args = ['bench', '--interface', 'lan0', '--json', '--target', FLOOD_TARGET, '--rate', String(rate), '--count', String(rate * seconds), '--duration', String(seconds), '--sources', sources];
  const result = runCli(args, { prefix: ['ip', 'netns', 'exec', lab.lan.ns], timeoutMs: (seconds + 20) * 1000 }).then((outcome) => {
    exited = true;
    if (outcome.code !== 0) throw new Error(`bench exited ${outcome.code}: ${outcome.stderr}`);
    return JSON.parse(outcome.stdout) as BenchResult;
  });
  result.catch(() => undefined); // awaited by the test; never an unhandled rejection meanwhile
  return { result, running: () => !exited };
}

/** Wait until the daemon has received `frames` more NS than at `from` (the flood has reached it). */
export async function waitForFlood(lab: Scenario, from: DaemonCounters, frames: number, boundMs: number): Promise<DaemonCounters> {
  const begin = Date.now();
  for (;;) {
    const now = await daemonCounters(lab);
    if (now.received - from.received >= frames) return now;
    if (Date.now() - begin > boundMs) throw new Error(`the flood did not reach the daemon: ${now.received - from.received} NS in ${boundMs} ms`);
    await sleep(100);
  }
}

/** CPU and peak memory of a process over a window. */
export interface ProcessUsage {
  /** (utime + stime) over the window, as % of one core. */
  readonly cpuPercent: number;
  /** Highest VmRSS seen, MiB. */
  readonly peakRssMiB: number;
  readonly windowMs: number;
}

/** Start measuring `pid`: CPU from now until `stop()`, VmRSS sampled every 100 ms. */
export function measureProcess(pid: number): { stop(): ProcessUsage } {
  const begin = Date.now();
  const cpuBegin = cpuMillis(pid);
  let peakKiB = 0;
  const sample = (): void => {
    const kib = Number.parseInt(processStatus(pid).VmRSS ?? '0', 10);
    if (kib > peakKiB) peakKiB = kib;
  };
  sample();
  const timer = setInterval(sample, 100);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      const windowMs = Date.now() - begin;
      return { cpuPercent: ((cpuMillis(pid) - cpuBegin) * 100) / windowMs, peakRssMiB: peakKiB / 1024, windowMs };
    },
  };
}
