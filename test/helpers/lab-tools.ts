import { spawn, type ChildProcess } from 'node:child_process';
import { runInNamespace } from '../../src/lab/exec';
import type { PcapPacket } from '../../src/lab/pcap';
import { summarizeNd } from '../../src/lab/nd-summary';
import { CLI } from './daemon-process';

/** True when the tests may create network namespaces. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** tcpdump filter for Neighbour Solicitations and Advertisements (no extension headers). */
export { ND_CAPTURE_FILTER as ICMP_ND_FILTER } from '../../src/lab/nd-summary';

/** A captured ND packet with the fields tests look at first. */
export interface NdPacket {
  readonly type: number;
  readonly timestampNs: bigint;
  readonly ipv6Source: string;
  readonly ipv6Destination: string;
  readonly data: Uint8Array;
}

/** Reduce captured frames to ND packets (NS/NA directly after the IPv6 header), via the lab's own decoder. */
export function ndPackets(packets: readonly PcapPacket[]): NdPacket[] {
  return packets.flatMap((p) => {
    const nd = summarizeNd(p.data);
    if (nd === undefined) return [];
    return [{ type: nd.kind === 'NS' ? 135 : 136, timestampNs: p.timestampNs, ipv6Source: nd.source, ipv6Destination: nd.destination, data: p.data }];
  });
}

/** One ping with a 1 s deadline; true when answered. */
export async function pingOnce(namespace: string, address: string, waitSeconds = 1): Promise<boolean> {
  try {
    await runInNamespace(namespace, 'ping', ['-6', '-n', '-c', '1', '-W', String(waitSeconds), address]);
    return true;
  } catch {
    return false;
  }
}

/** Ping until answered or `deadlineMs` passes; resolves with the time it took, or undefined. */
export async function pingUntil(namespace: string, address: string, deadlineMs: number): Promise<number | undefined> {
  const begin = Date.now();
  while (Date.now() - begin < deadlineMs) {
    if (await pingOnce(namespace, address, 1)) return Date.now() - begin;
  }
  return undefined;
}

/** Options for {@link runCli}. */
export interface RunCliOptions {
  /** Command words before node, e.g. `ip netns exec NS` or a `setpriv ...` sandbox. */
  readonly prefix?: string[];
  /** SIGKILL after this long; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Called with each complete stdout line as it arrives, while the command still runs. */
  readonly onLine?: (line: string, child: ChildProcess) => void;
  /** The command's environment; default this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Start it as the leader of its own process group, so a test can signal the group as a terminal's Ctrl-C does. */
  readonly processGroup?: boolean;
}

/** Run the CLI to completion and return its exit code and output. */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [command, ...prefixArgs] = options.prefix ?? [process.execPath];
  const argv = options.prefix === undefined ? [CLI, ...args] : [...prefixArgs, process.execPath, CLI, ...args];
  return new Promise((resolve) => {
    const child = spawn(command!, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, detached: options.processGroup === true });
    let stdout = '';
    let stderr = '';
    let lineStart = 0;
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      for (let end = stdout.indexOf('\n', lineStart); end >= 0; end = stdout.indexOf('\n', lineStart)) {
        options.onLine?.(stdout.slice(lineStart, end), child);
        lineStart = end + 1;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 10_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
