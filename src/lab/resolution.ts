/**
 * One router resolving many served addresses at once (after a reboot, a cache flush, a link
 * flap): the LAN namespace's own kernel is the router. Shared by the namespace tests and the
 * benchmark's "conformant router under flood" case.
 */
import { join } from 'node:path';
import { runInNamespace } from './exec';
import { ndiscCacheStats, neighbourCensus, neighbourStates, neighbourTableLimit, type NdiscCacheStats, type NeighbourCensus } from './neighbour-table';
import { sleep } from './wait';
import { formatIpv6, parseIpv6 } from '../wire/address';

/** The served prefix, routed to br0 in the host namespace: room for 65 535 "containers". */
export const SERVED_PREFIX = '2001:db8::d:0/112';
/** A served address the router never resolves: what the floods solicit. */
export const FLOOD_TARGET = '2001:db8::d:ffff';
const SEND_DATAGRAMS = join(__dirname, 'send-datagrams.js');
/**
 * Entries left free in the kernel-wide table (one per kernel, shared by every namespace) for the
 * lab's own few and other namespaces'. Each NS also makes a NOARP entry for its solicited-node
 * group; those are collectable, and the kernel evicts them once the table passes gc_thresh2.
 */
const TABLE_HEADROOM = 64;

/** How many addresses a router can resolve at once now: the neighbour table's room, less headroom. */
export function addressesTheTableHolds(): { count: number; limit: number; used: number } {
  const limit = neighbourTableLimit();
  const used = ndiscCacheStats().entries;
  return { count: limit - used - TABLE_HEADROOM, limit, used };
}

/** The `n` first addresses of the served prefix (2001:db8::d:1 ...), as `ip` prints them. */
export function servedAddresses(n: number): string[] {
  if (!(Number.isInteger(n) && n >= 1 && n < 0xffff)) throw new Error(`servedAddresses: ${n} is not in 1..65534`);
  return Array.from({ length: n }, (_, i) => formatIpv6(parseIpv6(`2001:db8::d:${(i + 1).toString(16)}`)));
}

/** What {@link sendDatagrams} sent: how many, and the errors by code. */
export interface DatagramsSent {
  readonly sent: number;
  readonly errors: Record<string, number>;
}

/** Send one empty UDP datagram to `port` of each of `addresses`, all at once, from namespace `ns` (send-datagrams.ts). */
export async function sendDatagrams(ns: string, addresses: readonly string[], port: number, hopLimit: number): Promise<DatagramsSent> {
  const input = `${addresses.join('\n')}\n`;
  const { stdout } = await runInNamespace(ns, process.execPath, [SEND_DATAGRAMS, String(port), String(hopLimit)], { input, timeoutMs: 10_000 });
  return JSON.parse(stdout) as DatagramsSent;
}

/** What one round of resolution came to. */
export interface Resolution {
  readonly census: NeighbourCensus;
  /** From the first datagram to no served address left INCOMPLETE (or the bound). */
  readonly settledMs: number;
  readonly datagrams: DatagramsSent;
  /** Kernel-wide neighbour-table figures before and after (the table is shared by every namespace). */
  readonly tableBefore: NdiscCacheStats;
  readonly tableAfter: NdiscCacheStats;
}

/**
 * Make the LAN kernel resolve `addresses` all at once: one UDP datagram to port 9 of each. The
 * hop limit is 1 so the host answers Time Exceeded instead of forwarding them to br0, where it
 * would resolve every address itself and double the kernel-wide neighbour table's load. Waits
 * until no address is INCOMPLETE (the kernel gives up after 3 NS, 1 s apart), at most `boundMs`.
 */
export async function resolveAll(lanNs: string, addresses: readonly string[], boundMs: number): Promise<Resolution> {
  const tableBefore = ndiscCacheStats();
  const begin = Date.now();
  const datagrams = await sendDatagrams(lanNs, addresses, 9, 1);
  let census = neighbourCensus(await neighbourStates(lanNs, 'lan0'), addresses);
  while (census.incomplete > 0 && Date.now() - begin < boundMs) {
    await sleep(100);
    census = neighbourCensus(await neighbourStates(lanNs, 'lan0'), addresses);
  }
  return { census, settledMs: Date.now() - begin, datagrams, tableBefore, tableAfter: ndiscCacheStats() };
}

