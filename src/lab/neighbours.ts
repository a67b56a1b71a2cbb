import { run } from './exec';
import { sysctl } from './netns';

/** One row of the kernel's IPv6 neighbour cache. */
export interface NeighbourEntry {
  /** NUD state(s) as `ip` prints them, joined with "," when several: "REACHABLE", "INCOMPLETE", "FAILED". */
  readonly state: string;
  /** Link-layer address, lower case; absent while unresolved. */
  readonly mac?: string;
  /** True when the neighbour advertised itself as a router (R flag). */
  readonly router: boolean;
}

interface IpNeighJson {
  dst?: string;
  lladdr?: string;
  state?: string[];
  router?: unknown;
}

/** The first entry in `ip -j neigh show` output, or undefined when there is none. */
export function parseNeighbourJson(json: string): NeighbourEntry | undefined {
  if (json.trim() === '') return undefined;
  const [row] = JSON.parse(json) as IpNeighJson[];
  if (row === undefined) return undefined;
  return {
    state: (row.state ?? []).join(','),
    ...(row.lladdr === undefined ? {} : { mac: row.lladdr.toLowerCase() }),
    router: 'router' in row, // printed as a key with a null value
  };
}

/** The neighbour-cache entry for `address` on `ifname` in namespace `ns`, if any. */
export async function neighbourEntry(ns: string, address: string, ifname: string): Promise<NeighbourEntry | undefined> {
  const { stdout } = await run('ip', ['-n', ns, '-j', '-6', 'neigh', 'show', 'to', address, 'dev', ifname]);
  return parseNeighbourJson(stdout);
}

/** Forget every dynamic IPv6 neighbour on `ifname` in `ns` (INCOMPLETE and FAILED entries included). */
export async function flushNeighbours(ns: string, ifname: string): Promise<void> {
  await run('ip', ['-n', ns, '-6', 'neigh', 'flush', 'dev', ifname]);
}

/** Settings for {@link enableKernelProxy}. */
export interface KernelProxyOptions {
  /** `net.ipv6.neigh.IF.proxy_delay` in USER_HZ ticks (1/100 s); default 0, the kernel's own default is 80. */
  readonly proxyDelay?: number;
  /** Also set `net.ipv6.conf.all.proxy_ndp=1`, which unicast NS (NUD probes) need; default false. */
  readonly all?: boolean;
}

/**
 * Make the kernel of namespace `ns` answer NS for `addresses` on `ifname` (proxy_ndp plus proxy entries).
 * Resolves with a function that undoes exactly what was changed.
 */
export async function enableKernelProxy(
  ns: string,
  ifname: string,
  addresses: readonly string[],
  options: KernelProxyOptions = {},
): Promise<() => Promise<void>> {
  const saved: [string, string][] = [];
  const set = async (key: string, value: number): Promise<void> => {
    saved.push([key, await sysctl(ns, key)]);
    await sysctl(ns, key, value);
  };
  await set(`net.ipv6.neigh.${ifname}.proxy_delay`, options.proxyDelay ?? 0);
  await set(`net.ipv6.conf.${ifname}.proxy_ndp`, 1);
  if (options.all === true) await set('net.ipv6.conf.all.proxy_ndp', 1);
  // One `ip -batch` for all entries: hundreds of proxied addresses in one process.
  const batch = (verb: string): string => addresses.map((a) => `neigh ${verb} proxy ${a} dev ${ifname}\n`).join('');
  await run('ip', ['-6', '-n', ns, '-batch', '-'], { input: batch('replace'), timeoutMs: 30_000 });
  return async () => {
    await run('ip', ['-6', '-n', ns, '-force', '-batch', '-'], { input: batch('del'), timeoutMs: 30_000 }).catch(() => undefined);
    for (const [key, value] of saved.reverse()) await sysctl(ns, key, value);
  };
}
