import { spawn } from 'node:child_process';
import { runInNamespace } from '../../src/lab/exec';
import type { PcapPacket } from '../../src/lab/pcap';
import { formatIpv6 } from '../../src/wire/address';
import { CLI } from './daemon-process';

/** True when the tests may create network namespaces. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** tcpdump filter for Neighbour Solicitations and Advertisements (no extension headers). */
export const ICMP_ND_FILTER = 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)';

/** A captured ND packet with the fields tests look at first. */
export interface NdPacket {
  readonly type: number;
  readonly timestampNs: bigint;
  readonly ipv6Source: string;
  readonly ipv6Destination: string;
  readonly data: Uint8Array;
}

/** Reduce captured frames to ND packets (Ethernet + IPv6 + ICMPv6 without extension headers). */
export function ndPackets(packets: readonly PcapPacket[]): NdPacket[] {
  return packets
    .filter((p) => p.data.length >= 58 && p.data[12] === 0x86 && p.data[13] === 0xdd && p.data[20] === 58)
    .map((p) => ({
      type: p.data[54]!,
      timestampNs: p.timestampNs,
      ipv6Source: formatIpv6(p.data, 22),
      ipv6Destination: formatIpv6(p.data, 38),
      data: p.data,
    }));
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

/** Run the CLI to completion and return its exit code and output. */
export function runCli(args: string[], options: { prefix?: string[]; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [command, ...prefixArgs] = options.prefix ?? [process.execPath];
  const argv = options.prefix === undefined ? [CLI, ...args] : [...prefixArgs, process.execPath, CLI, ...args];
  return new Promise((resolve) => {
    const child = spawn(command!, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
