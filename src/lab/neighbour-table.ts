/**
 * The kernel's IPv6 neighbour table seen whole: its size limit, how full it is, and the NUD
 * state of many addresses at once. The table (nd_tbl) is ONE per kernel, shared by every
 * network namespace: gc_thresh3 caps the entries of all namespaces together, and
 * /proc/net/stat/ndisc_cache counts for all of them.
 */
import { readFileSync } from 'node:fs';
import { run } from './exec';

/** Kernel-wide figures from /proc/net/stat/ndisc_cache. */
export interface NdiscCacheStats {
  /** Entries in the table now, all namespaces together. */
  readonly entries: number;
  /** Allocations refused because the table was full ("neighbour table overflow"), since boot. */
  readonly tableFulls: number;
  /** Forced garbage collections (table above gc_thresh2), since boot. */
  readonly forcedGcRuns: number;
}

/** Parse /proc/net/stat/ndisc_cache: a header row, then one row of hex counters per CPU. */
export function parseNdiscCacheStats(text: string): NdiscCacheStats {
  const [header, ...rows] = text.trim().split('\n').map((line) => line.trim().split(/\s+/));
  const column = (name: string): number => {
    const index = header?.indexOf(name) ?? -1;
    if (index < 0) throw new Error(`ndisc_cache statistics have no ${name} column`);
    return index;
  };
  const perCpu = (name: string): number[] => rows.map((row) => Number.parseInt(row[column(name)] ?? '0', 16));
  return {
    // `entries` is the table's own count, printed again on every CPU's row.
    entries: perCpu('entries')[0] ?? 0,
    tableFulls: perCpu('table_fulls').reduce((a, b) => a + b, 0),
    forcedGcRuns: perCpu('forced_gc_runs').reduce((a, b) => a + b, 0),
  };
}

/** Read {@link NdiscCacheStats} (the same from every namespace). */
export function ndiscCacheStats(): NdiscCacheStats {
  return parseNdiscCacheStats(readFileSync('/proc/net/stat/ndisc_cache', 'utf8'));
}

/**
 * `net.ipv6.neigh.default.gc_thresh3`, the most entries the table holds, read in this process's
 * namespace: it is one value per kernel, and recent kernels hide it from other namespaces.
 */
export function neighbourTableLimit(): number {
  return Number(readFileSync('/proc/sys/net/ipv6/neigh/default/gc_thresh3', 'utf8').trim());
}

interface IpNeighRow {
  dst?: string;
  state?: string[];
}

/** Address → NUD state ("REACHABLE", "INCOMPLETE", "FAILED"; several joined by ",") of every IPv6 neighbour on `ifname`. */
export async function neighbourStates(ns: string, ifname: string): Promise<Map<string, string>> {
  const { stdout } = await run('ip', ['-n', ns, '-j', '-6', 'neigh', 'show', 'dev', ifname]);
  const rows = stdout.trim() === '' ? [] : (JSON.parse(stdout) as IpNeighRow[]);
  return new Map(rows.flatMap((row) => (row.dst === undefined ? [] : [[row.dst, (row.state ?? []).join(',')] as [string, string]])));
}

/** How many of some addresses are in each NUD state; `absent` have no entry (never made, or collected). */
export interface NeighbourCensus {
  readonly total: number;
  readonly reachable: number;
  /** STALE, DELAY or PROBE: resolved once, not confirmed lately. */
  readonly stale: number;
  readonly incomplete: number;
  readonly failed: number;
  readonly absent: number;
  /** Any other state (PERMANENT, NOARP, NONE...). */
  readonly other: number;
}

/** Count the states of `addresses` (written as `ip` prints them) in `states`. */
export function neighbourCensus(states: ReadonlyMap<string, string>, addresses: readonly string[]): NeighbourCensus {
  const count = { total: addresses.length, reachable: 0, stale: 0, incomplete: 0, failed: 0, absent: 0, other: 0 };
  for (const address of addresses) {
    const state = states.get(address);
    if (state === undefined) count.absent++;
    else if (state === 'REACHABLE') count.reachable++;
    else if (['STALE', 'DELAY', 'PROBE'].includes(state)) count.stale++;
    else if (state === 'INCOMPLETE') count.incomplete++;
    else if (state === 'FAILED') count.failed++;
    else count.other++;
  }
  return count;
}

/** "REACHABLE 990, STALE/DELAY/PROBE 0, INCOMPLETE 0, FAILED 0, absent 0" (other only when non-zero). */
export function formatCensus(census: NeighbourCensus): string {
  const other = census.other === 0 ? '' : `, other ${census.other}`;
  return `REACHABLE ${census.reachable}, STALE/DELAY/PROBE ${census.stale}, INCOMPLETE ${census.incomplete}, FAILED ${census.failed}, absent ${census.absent}${other}`;
}
