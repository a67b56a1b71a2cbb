import { formatMac } from '../wire/address';
import { Capability, FAST_PATH_CAPABILITIES, GRANTED_CAPABILITIES, capabilityList, capabilityName, hasCapability } from './privileges';
import type { RouteInfo } from '../model/target';
import { TargetSet } from './target-set';
import { type Target } from '../model/target';
import type { FastPathKind, FastPathMode } from '../model/settings';

/**
 * `ndp-responder check`: pure evaluation of a snapshot of the host. The I/O side (src/check.ts)
 * gathers {@link HostFacts}; this module turns them into verdicts with the exact fix for each.
 */

/** ok: fine; warn: worth knowing, the responder still works; fail: the responder would not work. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One reported check: a status, what was found, and the commands that fix it. */
export interface CheckResult {
  readonly status: CheckStatus;
  readonly check: string;
  readonly message: string;
  readonly fixes: readonly string[];
}

/** The uplink as the kernel sees it; `exists: false` when no such interface. */
export interface UplinkFacts {
  readonly name: string;
  readonly exists: boolean;
  readonly up: boolean;
  readonly ifindex?: number;
  readonly mac?: Uint8Array | undefined;
  readonly acceptRa: number | undefined;
  readonly proxyNdp: number | undefined;
}

/** A kernel proxy_ndp entry (`ip -6 neigh add proxy ADDR dev IF`). */
export interface ProxyEntryFacts {
  readonly address: Uint8Array;
  readonly addressText: string;
  readonly ifname: string;
  /** net.ipv6.conf.IF.proxy_ndp of the entry's interface. */
  readonly deviceProxyNdp: number | undefined;
}

/** Everything the checks look at, read from the host once. */
export interface HostFacts {
  readonly forwarding: number | undefined;
  readonly proxyNdpAll: number | undefined;
  /** Undefined when no `--interface` was given. */
  readonly uplink: UplinkFacts | undefined;
  readonly via: string | undefined;
  readonly viaExists: boolean;
  readonly targets: readonly Target[];
  /** The kernel's route (RTM_GETROUTE) of each target, by `Target.text`. */
  readonly routes: ReadonlyMap<string, RouteInfo>;
  readonly proxyEntries: readonly ProxyEntryFacts[];
  /** CapEff of the checking process. */
  readonly capabilities: bigint;
  /** The `--fast-path` mode and what the kernel allows; absent: not asked. */
  readonly fastPath?: FastPathFacts;
}

/** `--fast-path` and whether the NS program loads and which hook the uplink offers. */
export interface FastPathFacts {
  readonly mode: FastPathMode;
  /** The kernel path `run` would attach, or why it cannot (also for `socket`, to say what auto would do). */
  readonly available: { readonly kind: Exclude<FastPathKind, 'socket'> } | { readonly reason: string };
}


const result = (status: CheckStatus, check: string, message: string, fixes: readonly string[] = []): CheckResult => ({ status, check, message, fixes });

function checkForwarding(facts: Pick<HostFacts, 'forwarding'>): CheckResult {
  if (facts.forwarding === 1) return result('ok', 'forwarding', 'net.ipv6.conf.all.forwarding = 1');
  if (facts.forwarding === undefined) return result('warn', 'forwarding', 'cannot read net.ipv6.conf.all.forwarding (is IPv6 disabled?)');
  return result('fail', 'forwarding', 'IPv6 forwarding is off: answered traffic would not reach the containers', [
    'sysctl -w net.ipv6.conf.all.forwarding=1',
    "echo 'net.ipv6.conf.all.forwarding = 1' >> /etc/sysctl.d/90-ndp-responder.conf",
    'systemd-networkd: IPForward=ipv6 in [Network] of the uplink .network file (systemd >= 256: IPv6Forwarding=yes)',
  ]);
}

function checkAcceptRa(facts: Pick<HostFacts, 'forwarding'>, uplink: Pick<UplinkFacts, 'name' | 'acceptRa'>): CheckResult {
  const value = uplink.acceptRa;
  const key = `net.ipv6.conf.${uplink.name}.accept_ra`;
  if (value === 1 && facts.forwarding === 1) {
    return result('fail', 'accept_ra', `forwarding is on and ${key} = 1: the kernel ignores router advertisements, so SLAAC addresses and the default route expire`, [
      `sysctl -w ${key}=2`,
      `echo '${key} = 2' >> /etc/sysctl.d/90-ndp-responder.conf`,
      `systemd-networkd: IPv6AcceptRA=yes in [Network] of ${uplink.name}'s .network file (networkd handles RAs itself)`,
    ]);
  }
  if (value === undefined) return result('warn', 'accept_ra', `cannot read ${key}`);
  const why = value === 0 ? ' (router advertisements ignored by the kernel: fine with static addressing or networkd)' : '';
  return result('ok', 'accept_ra', `${key} = ${value}${why}`);
}

/**
 * The two sysctl checks the daemon also makes at start (forwarding on; accept_ra 2 on a
 * forwarding uplink): only the failures, each with its fixes.
 */
export function sysctlFailures(forwarding: number | undefined, uplink: string, acceptRa: number | undefined): CheckResult[] {
  const results = [checkForwarding({ forwarding })];
  if (forwarding === 1) results.push(checkAcceptRa({ forwarding }, { name: uplink, acceptRa }));
  return results.filter((r) => r.status === 'fail');
}

function checkProxyNdp(facts: HostFacts, uplink: UplinkFacts | undefined): CheckResult {
  const on = facts.proxyNdpAll === 1 || uplink?.proxyNdp === 1;
  if (!on) return result('ok', 'proxy_ndp', 'proxy_ndp off: the kernel does not answer for proxy entries');
  const name = facts.proxyNdpAll === 1 ? 'all' : uplink?.name ?? 'all';
  return result('warn', 'proxy_ndp', `net.ipv6.conf.${name}.proxy_ndp = 1: the kernel answers for its proxy entries, 0-0.8 s late`, [
    `sysctl -w net.ipv6.conf.${name}.proxy_ndp=0`,
    'systemd-networkd: IPv6ProxyNDP=no (and no IPv6ProxyNDPAddress=) in the uplink .network file',
  ]);
}

/** True for a 6-byte MAC that is not all zero (loopback, tun and other non-Ethernet links have none). */
export function isEthernetMac(mac: Uint8Array | undefined): boolean {
  return mac !== undefined && mac.length === 6 && mac.some((b) => b !== 0);
}

function checkInterface(uplink: UplinkFacts | undefined): CheckResult {
  if (uplink === undefined) return result('warn', 'interface', 'no --interface given: uplink checks skipped');
  if (!uplink.exists) {
    return result('fail', 'interface', `${uplink.name} not found`, ['check the name with: ip link', 'or start with --wait-for-interface to wait for it']);
  }
  const mac = uplink.mac === undefined ? 'no MAC' : `MAC ${formatMac(uplink.mac)}`;
  const what = `${uplink.name} (ifindex ${uplink.ifindex ?? '?'}, ${mac})`;
  if (!isEthernetMac(uplink.mac)) return result('fail', 'interface', `${what} has no Ethernet MAC address: run would exit 3`, ['give the LAN uplink (an Ethernet interface) as --interface']);
  if (!uplink.up) return result('fail', 'interface', `${what} is down or has no carrier`, [`ip link set ${uplink.name} up`]);
  return result('ok', 'interface', `${what} is up`);
}

function checkVia(facts: HostFacts): CheckResult | undefined {
  if (facts.via === undefined) return undefined;
  if (facts.viaExists) return result('ok', 'via', `${facts.via} exists`);
  return result('warn', 'via', `${facts.via} not found: the responder waits for it (Docker creates bridges when the network starts)`);
}

/** Route verdict for one target, mirroring decide.ts routeReason so `check` and `run` agree. */
function checkRoute(facts: HostFacts, target: Target): CheckResult {
  const route = facts.routes.get(target.text) ?? { kind: 'none' };
  const via = target.via ?? facts.via;
  const addRoute = `ip -6 route add ${target.text} dev ${via ?? 'BRIDGE'} (or run with --configure-host${via === undefined ? ' --via BRIDGE' : ''})`;
  if (route.kind === 'local') {
    return result('fail', 'route', `${target.text} is an address of this host: the kernel answers for it, the responder never does`, ['remove it from the targets']);
  }
  if (route.kind === 'none') return result('fail', 'route', `${target.text} has no route: traffic for it would be dropped`, [addRoute]);
  if (route.ifname === facts.uplink?.name) {
    return result('fail', 'route', `${target.text} leaves by the uplink ${route.ifname}: answering would black-hole it, so the responder stays silent`, [addRoute]);
  }
  if (via !== undefined && route.ifname !== via) {
    return result('fail', 'route', `${target.text} leaves by ${route.ifname}, not by ${via}: the responder stays silent`, [
      `ip -6 route replace ${target.text} dev ${via}`,
    ]);
  }
  return result('ok', 'route', `${target.text} leaves by ${route.ifname}`);
}

function checkProxyEntries(facts: HostFacts): CheckResult[] {
  const set = new TargetSet(facts.targets);
  const matching = facts.proxyEntries.filter((entry) => set.match(entry.address) !== undefined);
  if (matching.length === 0) return [result('ok', 'proxy-entry', 'no kernel proxy entries for the targets')];
  return matching.map((entry) => {
    const active = facts.forwarding === 1 && (facts.proxyNdpAll === 1 || entry.deviceProxyNdp === 1);
    const fixes = [`ip -6 neigh del proxy ${entry.addressText} dev ${entry.ifname}`, `systemd-networkd: remove IPv6ProxyNDPAddress=${entry.addressText}`];
    if (!active) return result('warn', 'proxy-entry', `kernel proxy entry for ${entry.addressText} on ${entry.ifname} (dormant: proxy_ndp is off)`, fixes);
    return result('fail', 'proxy-entry', `kernel proxy entry for ${entry.addressText} on ${entry.ifname}: the kernel answers too, late and with O=0`, fixes);
  });
}

/** How to grant the capabilities, as the shipped unit does and as a one-off command. */
function grantFixes(): string[] {
  const caps = GRANTED_CAPABILITIES.map(capabilityName);
  const setpriv = caps.map((c) => `+${c.slice('CAP_'.length).toLowerCase()}`).join(',');
  return [
    `run as root, or with the shipped unit (AmbientCapabilities=${caps.join(' ')})`,
    `or: setpriv --inh-caps=${setpriv} --ambient-caps=${setpriv} ndp-responder run ...`,
  ];
}

function checkCapabilities(capabilities: bigint): CheckResult {
  const has = (bit: number): boolean => hasCapability(capabilities, bit);
  if (!has(Capability.NetRaw)) return result('fail', 'capabilities', 'this process lacks CAP_NET_RAW: `run` would exit 3 (no packet socket)', grantFixes());
  if (!has(Capability.NetAdmin)) return result('warn', 'capabilities', 'CAP_NET_RAW, but no CAP_NET_ADMIN: --configure-host would fail', grantFixes());
  return result('ok', 'capabilities', 'CAP_NET_RAW and CAP_NET_ADMIN are effective');
}

/** Which path `run --fast-path MODE` would answer from, and why (mirrors daemon/fast-path.ts). */
export function checkFastPath(facts: FastPathFacts): CheckResult {
  const { mode, available } = facts;
  const kernel = 'kind' in available ? available.kind : undefined;
  const why = 'reason' in available ? available.reason : undefined;
  if (mode === 'socket') {
    const could = kernel === undefined ? '' : ` (--fast-path bpf would use ${kernel})`;
    return result('ok', 'fast-path', `run would answer from the socket: --fast-path socket${could}`);
  }
  if (kernel !== undefined) return result('ok', 'fast-path', `run would answer in the kernel (${kernel}), addresses and prefixes, with the same answer limits; what it leaves (DAD probes, other shapes) from the socket`);
  if (mode === 'auto') return result('ok', 'fast-path', `run would answer from the socket: the in-kernel path is unavailable (${why})`);
  return result('fail', 'fast-path', `--fast-path bpf: run would exit 3, the in-kernel path is unavailable (${why})`, [
    `grant ${capabilityList(FAST_PATH_CAPABILITIES)} (or run as root); Linux 6.6+ for tcx, else generic XDP is used`,
    'or use --fast-path auto (falls back to the socket) or socket',
  ]);
}

/** Evaluate every check, in the order they are printed. */
export function evaluateHost(facts: HostFacts): CheckResult[] {
  const results = [checkCapabilities(facts.capabilities), checkInterface(facts.uplink), checkForwarding(facts)];
  if (facts.uplink?.exists === true) results.push(checkAcceptRa(facts, facts.uplink));
  results.push(checkProxyNdp(facts, facts.uplink));
  const via = checkVia(facts);
  if (via !== undefined) results.push(via);
  if (facts.fastPath !== undefined) results.push(checkFastPath(facts.fastPath));
  if (facts.targets.length === 0) {
    results.push(result('warn', 'targets', 'no --target given: route and proxy entry checks skipped'));
    return results;
  }
  for (const target of facts.targets) results.push(checkRoute(facts, target));
  results.push(...checkProxyEntries(facts));
  return results;
}

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

/** Human-readable report: one line per check, an indented `fix:` line per remedy, a summary. */
export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${LABEL[r.status]}  ${r.check.padEnd(width)}  ${r.message}`);
    for (const fix of r.fixes) lines.push(`${' '.repeat(width + 8)}fix: ${fix}`);
  }
  const failures = results.filter((r) => r.status === 'fail').length;
  lines.push(failures === 0 ? 'no problem stops the responder' : `${failures} problem(s) would stop the responder`);
  return `${lines.join('\n')}\n`;
}

/** Exit code of `check`: 1 when any check failed, else 0. */
export function checkExitCode(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
