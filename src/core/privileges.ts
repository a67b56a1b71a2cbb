/**
 * Which capabilities the responder needs, as a rule over a capability set: one home for
 * `run`'s preflight, the fast path's decision and `check`'s report (capabilities(7)).
 *
 * Measured on Linux 6.18 as uid 65534 with exactly these sets (README "Capabilities"): the socket path needs CAP_NET_RAW (and CAP_NET_ADMIN for multicast
 * memberships and --configure-host); the in-kernel path needs CAP_BPF (maps, BPF_PROG_LOAD of a
 * non-socket-filter program) and CAP_NET_ADMIN (tc/XDP programs, tcx and XDP links).
 * CAP_PERFMON is not needed: without it the verifier adds its Spectre barriers (231 -> 240
 * instructions) and the program still answers. CAP_SYS_ADMIN stands in for both (and is the only
 * way before Linux 5.8, which has no CAP_BPF), so a process holding it is not told otherwise.
 */
import type { FastPathMode } from '../model/settings';

/** Capability numbers (linux/capability.h). */
export const Capability = { NetAdmin: 12, NetRaw: 13, SysAdmin: 21, Perfmon: 38, Bpf: 39 } as const;

/** The capabilities the in-kernel fast path needs, in the order they are named. */
export const FAST_PATH_CAPABILITIES: readonly number[] = [Capability.Bpf, Capability.NetAdmin];
/** The capabilities the socket path needs (CAP_NET_ADMIN for memberships and --configure-host). */
export const SOCKET_PATH_CAPABILITIES: readonly number[] = [Capability.NetRaw, Capability.NetAdmin];
/** What the shipped unit and container image grant: both paths' needs, socket path first. */
export const GRANTED_CAPABILITIES: readonly number[] = [...new Set([...SOCKET_PATH_CAPABILITIES, ...FAST_PATH_CAPABILITIES])];

const NAMES: Record<number, string> = {
  [Capability.NetAdmin]: 'CAP_NET_ADMIN',
  [Capability.NetRaw]: 'CAP_NET_RAW',
  [Capability.SysAdmin]: 'CAP_SYS_ADMIN',
  [Capability.Perfmon]: 'CAP_PERFMON',
  [Capability.Bpf]: 'CAP_BPF',
};

/** `CAP_BPF`, as capabilities(7) and systemd spell it. */
export function capabilityName(bit: number): string {
  return NAMES[bit] ?? `capability ${bit}`;
}

/** `CAP_A and CAP_B`, `CAP_A, CAP_B and CAP_C`. */
export function capabilityList(bits: readonly number[]): string {
  const names = bits.map(capabilityName);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

/** True when `set` (a CapEff bit mask) holds capability `bit`. */
export function hasCapability(set: bigint, bit: number): boolean {
  return (set & (1n << BigInt(bit))) !== 0n;
}

/** The fast path's capabilities that `set` lacks (none when it holds CAP_SYS_ADMIN, which the kernel accepts for both). */
export function missingFastPathCapabilities(set: bigint): number[] {
  if (hasCapability(set, Capability.SysAdmin)) return [];
  return FAST_PATH_CAPABILITIES.filter((bit) => !hasCapability(set, bit));
}

/** Why the in-kernel path cannot load with `set`, naming what is missing; undefined when the capabilities suffice. */
export function fastPathPrivilegeReason(set: bigint): string | undefined {
  const missing = missingFastPathCapabilities(set);
  if (missing.length === 0) return undefined;
  return `missing ${capabilityList(missing)}: the in-kernel path needs ${capabilityList(FAST_PATH_CAPABILITIES)}`;
}

/**
 * Why `run` cannot work with `set`, or undefined: CAP_NET_RAW always, CAP_NET_ADMIN for
 * --configure-host, the fast path's capabilities for `--fast-path bpf` (`auto` falls back instead).
 */
export function missingPrivilege(set: bigint, configureHost: boolean, fastPath: FastPathMode): string | undefined {
  if (!hasCapability(set, Capability.NetRaw)) return 'missing privileges: needs CAP_NET_RAW (and CAP_NET_ADMIN); run as root or grant the capabilities';
  if (configureHost && !hasCapability(set, Capability.NetAdmin)) return 'missing privileges: --configure-host needs CAP_NET_ADMIN';
  const missing = missingFastPathCapabilities(set);
  if (fastPath === 'bpf' && missing.length > 0) {
    return `missing privileges: --fast-path bpf needs ${capabilityList(FAST_PATH_CAPABILITIES)}, this process lacks ${capabilityList(missing)}; grant them or use --fast-path auto`;
  }
  return undefined;
}
