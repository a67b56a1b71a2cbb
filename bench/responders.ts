/** The responders the harness compares: how each is started in the lab and measured. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableKernelProxy } from '../src/lab/neighbours';
import type { Scenario } from '../src/lab/topology';

/** Where ndppd lives when the Debian package is installed. */
export const NDPPD = '/usr/sbin/ndppd';
/** The launcher of this checkout. */
export const CLI = join(__dirname, '..', '..', 'bin', 'ndp-responder.js');

/** A running responder: its process (none for the kernel) and how to stop it. */
export interface RunningResponder {
  pid?: number;
  /** ndp-responder's answer path as its `started` line says (`bpf-tcx`, `bpf-xdp-generic`, `socket`). */
  fastPath?: string;
  stop(): Promise<void>;
}

/** What a responder serves: a prefix routed to the bridge, and the addresses in it that are solicited. */
export interface Served {
  readonly prefix: string;
  readonly addresses: readonly string[];
}

/** The scenario's container subnet, with its container. */
export function containerServed(lab: Scenario): Served {
  return { prefix: lab.container.subnet, addresses: [lab.container.address] };
}

/** One responder kind of the comparison. */
export interface ResponderKind {
  name: string;
  /** Short name for `npm run bench -- --responders KEY,...`. */
  key: string;
  /** Flags beyond `run --interface eth0 --via br0 --target PREFIX`; undefined for other responders. */
  flags?: readonly string[];
  available(): boolean;
  /**
   * Starts answering for `served` (default: the container's subnet and address). ndp-responder
   * and ndppd get its prefix, proxy_ndp its addresses (the kernel proxies single addresses only);
   * `ndpArgs` replace ndp-responder's --target flags (e.g. --config).
   */
  start(lab: Scenario, served?: Served, ndpArgs?: string[]): Promise<RunningResponder>;
}

/** CPU seconds (utime + stime) a process has used so far; undefined when it is gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ
  } catch {
    return undefined;
  }
}

/** Resident memory in MiB (VmRSS); undefined for the kernel or a gone process. */
export function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Math.round((Number(match[1]) / 1024) * 10) / 10;
  } catch {
    return undefined;
  }
}

/** Resolves with the output's tail when `child` prints a line matching `pattern` (rejects on exit or after `timeoutMs`). */
function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${seen.slice(-300)}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen = (seen + chunk.toString()).slice(-4096); // the pipe stays drained after start, so keep only a tail
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}: ${seen.slice(-300)}`)));
  });
}

/** SIGTERM, then SIGKILL after 2 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The answer path named by ndp-responder's `started` line (JSON log), if it is in `output`. */
export function startedFastPath(output: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"started"')) continue;
    const match = /"fastPath":"([^"]+)"/.exec(line);
    if (match !== null) return match[1];
  }
  return undefined;
}

/** ndp-responder from this checkout, run as a user would plus `flags` (shown in the table). */
export function ndpResponder(name: string, key: string, flags: readonly string[]): ResponderKind {
  return {
    name,
    key,
    flags,
    available: () => true,
    // The served prefix, as a user configures a Docker network: both answer paths take prefixes.
    async start(lab, served = containerServed(lab), ndpArgs = ['--target', served.prefix]) {
      const args = ['netns', 'exec', lab.host.ns, process.execPath, CLI, 'run', '--interface', 'eth0', '--via', 'br0', ...ndpArgs, ...flags];
      args.push('--log-format', 'json');
      const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const output = await waitForOutput(child, /route gained, answering/, 60_000).catch(async (error: unknown) => {
        await stopChild(child);
        throw error;
      });
      const fastPath = startedFastPath(output);
      return { pid: child.pid, ...(fastPath === undefined ? {} : { fastPath }), stop: () => stopChild(child) };
    },
  };
}

/** Answer limits off: what the answer path itself can do. */
export const LIMITS_OFF = ['--rate-limit-per-flow', '0', '--rate-limit-per-source', '0', '--rate-limit-global', '0'];
/** The in-kernel answer path, whatever the default of --fast-path is. */
export const FAST_PATH = ['--fast-path', 'bpf'];
/** The packet-socket answer path, whatever the default of --fast-path is. */
export const SOCKET_PATH = ['--fast-path', 'socket'];

/** The kernel's own proxy_ndp with `delay` ticks of proxy_delay (80 is the kernel default). */
function kernelProxy(name: string, key: string, delay: number): ResponderKind {
  return {
    name,
    key,
    available: () => true,
    async start(lab, served = containerServed(lab)) {
      // all.proxy_ndp=1 as well: without it the kernel ignores unicast NS for proxied addresses.
      const undo = await enableKernelProxy(lab.host.ns, 'eth0', served.addresses, { proxyDelay: delay, all: true });
      return { stop: undo };
    },
  };
}

/** ndppd (Debian package), with a static rule for the container subnet. */
const ndppd: ResponderKind = {
  name: 'ndppd',
  key: 'ndppd',
  available: () => existsSync(NDPPD),
  async start(lab, served = containerServed(lab)) {
    const dir = mkdtempSync(join(tmpdir(), 'ndp-bench-'));
    const conf = join(dir, 'ndppd.conf');
    writeFileSync(conf, `proxy eth0 {\n  rule ${served.prefix} {\n    static\n  }\n}\n`);
    const child = spawn('ip', ['netns', 'exec', lab.host.ns, NDPPD, '-c', conf, '-p', join(dir, 'ndppd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // ndppd prints nothing reliable when ready
    if (child.exitCode !== null) throw new Error(`ndppd exited with ${child.exitCode}`);
    return {
      pid: child.pid,
      stop: async () => {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** ndp-responder on the packet socket with its limits off: today's answer path, and the configured-targets case's. */
export const SOCKET_LIMITS_OFF = ndpResponder('ndp-responder, socket path, limits off', 'socket', [...SOCKET_PATH, ...LIMITS_OFF]);

/**
 * Every responder the harness knows, in table order. The first column is ndp-responder with no
 * extra flags: whatever its defaults are at this commit (its `started` line says which path).
 */
export const RESPONDERS: readonly ResponderKind[] = [
  ndpResponder('ndp-responder', 'defaults', []),
  ndpResponder('ndp-responder, fast path, limits off', 'bpf', [...FAST_PATH, ...LIMITS_OFF]),
  SOCKET_LIMITS_OFF,
  kernelProxy('kernel proxy_ndp, delay 0', 'kernel0', 0), kernelProxy('kernel proxy_ndp, default delay', 'kernel', 80),
  ndppd,
];
/** ndp-responder for the configured-targets case (it measures lookup cost on the socket path, as before). */
export const NDP_RESPONDER = SOCKET_LIMITS_OFF;
