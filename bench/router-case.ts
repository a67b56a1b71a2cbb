/**
 * "Conformant router under flood": the LAN namespace's kernel, as the router, resolves as many
 * served addresses as the kernel's neighbour table holds, all at once, while a 100k NS/s
 * random-source flood for another served address runs. Counts how many ended REACHABLE.
 */
import { run } from '../src/lab/exec';
import { FLOOD_TARGET, SERVED_PREFIX, addressesTheTableHolds, resolveAll, servedAddresses } from '../src/lab/resolution';
import { createScenario } from '../src/lab/topology';
import { sleep } from '../src/lab/wait';
import { runWorker } from './cases';
import { cpuSeconds, rssMiB, type ResponderKind } from './responders';

const FLOOD = { rate: 100_000, seconds: 8, sources: 'random:2001:db8::/64' } as const;

/** What one responder achieved. */
export interface RouterCaseResult {
  responder: string;
  addresses: number;
  reachable: number;
  /** FAILED, INCOMPLETE at the bound, or gone from the table. */
  unresolved: number;
  /** From the first datagram until none was left INCOMPLETE. */
  settledMs: number;
  floodSent: number;
  floodRate: number;
  cpuPercent?: number;
  rssMiB?: number;
}

/** Runs the case for one responder in its own lab; never throws (a failure is a note). */
export async function routerUnderFlood(kind: ResponderKind): Promise<RouterCaseResult | string> {
  const lab = await createScenario();
  try {
    await run('ip', ['-n', lab.host.ns, '-6', 'route', 'add', SERVED_PREFIX, 'dev', 'br0']);
    const { count } = addressesTheTableHolds();
    const addresses = servedAddresses(count);
    const responder = await kind.start(lab, { prefix: SERVED_PREFIX, addresses: [...addresses, FLOOD_TARGET] });
    try {
      const flood = runWorker(lab, { target: [FLOOD_TARGET], rate: String(FLOOD.rate), count: String(FLOOD.rate * FLOOD.seconds), duration: String(FLOOD.seconds), sources: FLOOD.sources });
      await sleep(1000); // the flood is in full swing before the router starts
      const cpuBefore = cpuSeconds(responder.pid);
      const begin = Date.now();
      const resolution = await resolveAll(lab.lan.ns, addresses, 6000);
      const cpuAfter = cpuSeconds(responder.pid);
      const rss = rssMiB(responder.pid);
      const seconds = (Date.now() - begin) / 1000;
      const { result } = await flood;
      const { census } = resolution;
      return {
        responder: kind.name,
        addresses: count,
        reachable: census.reachable,
        unresolved: census.failed + census.incomplete + census.absent,
        settledMs: resolution.settledMs,
        floodSent: result.sent,
        floodRate: result.achievedRate,
        ...(cpuBefore === undefined || cpuAfter === undefined ? {} : { cpuPercent: Math.round(((cpuAfter - cpuBefore) / seconds) * 1000) / 10 }),
        ...(rss === undefined ? {} : { rssMiB: rss }),
      };
    } finally {
      await responder.stop();
    }
  } catch (error) {
    return `${kind.name}: ${(error as Error).message}`;
  } finally {
    await lab.destroy();
  }
}
