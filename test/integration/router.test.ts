/**
 * Issue 9: a conformant router is never refused. One router (the LAN namespace's own kernel)
 * resolves as many served addresses as its neighbour table holds, all at once, as after a
 * reboot, a cache flush or a link flap with hundreds of containers behind one host; alone,
 * and while a 100k NS/s flood for another served address runs, from random sources or from
 * one. The daemon runs at default flags. A conformant node sends at most MAX_MULTICAST_SOLICIT
 * (3) NS per target, RetransTimer (1 s) apart (RFC 4861 §7.2.2, §10); an answer limit that
 * refuses any of them leaves the address FAILED at the router. The router's NS come from
 * 2001:db8::1; the single-source flood comes from another address (2001:db8::1:77): a flood
 * from the router's own address is not a conformant router.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCensus } from '../../src/lab/neighbour-table';
import { addressesTheTableHolds, resolveAll, servedAddresses, type Resolution } from '../../src/lab/resolution';
import { sleep } from '../../src/lab/wait';
import type { BenchResult } from '../../src/loadgen/report';
import { isRoot } from '../helpers/lab-tools';
import {
  counterDelta,
  daemonCounters,
  measureProcess,
  startFlood,
  startRouterLab,
  waitForFlood,
  type DaemonCounters,
  type Flood,
  type ProcessUsage,
  type RouterLab,
} from '../helpers/router-lab';

const skip = isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)';
const FLOOD_RATE = 100_000;
/** Below this share of FLOOD_RATE the flood is not the one the test claims: the round proves nothing. */
const MIN_FLOOD_FRACTION = 0.75;
/** Covers start-up (about 1.5 s) and the resolution bound: 1 000 000 frames at most. */
const FLOOD_SECONDS = 10;
/** A router gives up 3 s after its first NS (3 NS, RetransTimer 1 s apart); the rest is slack. */
const RESOLUTION_BOUND_MS = 6000;
/** CPU is read over at least this much of the flood, however fast the resolution is (10 ms ticks). */
const MIN_CPU_WINDOW_MS = 3000;

/** The flood's `--sources` (random:PREFIX; random:ADDRESS/128 is one source), or no flood. */
type FloodSources = string | undefined;

/** Everything one round measured. */
interface Round {
  readonly resolution: Resolution;
  readonly limit: number;
  readonly usage: ProcessUsage;
  readonly floodCovered: boolean;
  readonly bench: BenchResult | undefined;
  readonly counters: DaemonCounters;
}

/** Start the flood (if any), let it reach the daemon, then resolve every address while measuring the daemon. */
async function resolveRound(router: RouterLab, flood: FloodSources): Promise<Round> {
  const { lab, daemon } = router;
  const { count, limit, used } = addressesTheTableHolds();
  assert.ok(count >= 256, `the kernel-wide neighbour table is busy: ${used} of ${limit} entries used elsewhere`);
  const addresses = servedAddresses(count);
  const before = await daemonCounters(lab);
  let running: Flood | undefined;
  if (flood !== undefined) {
    running = startFlood(lab, flood, FLOOD_RATE, FLOOD_SECONDS);
    await waitForFlood(lab, before, 20_000, 6000);
  }
  const measuring = measureProcess(daemon.pid);
  const begin = Date.now();
  const resolution = await resolveAll(lab.lan.ns, addresses, RESOLUTION_BOUND_MS);
  if (running !== undefined) await sleep(Math.max(0, MIN_CPU_WINDOW_MS - (Date.now() - begin)));
  const usage = measuring.stop();
  const floodCovered = running === undefined || running.running();
  const counters = counterDelta(before, await daemonCounters(lab));
  const bench = await running?.result;
  return { resolution, limit, usage, floodCovered, bench, counters };
}

/** The `# ...` lines the run reports, whatever the assertions say. */
function report(label: string, round: Round): void {
  const { census, settledMs, datagrams, tableBefore, tableAfter } = round.resolution;
  const { cpuPercent, peakRssMiB, windowMs } = round.usage;
  const lines = [
    `# router ${label}: resolved ${census.reachable}/${census.total}, CPU ${cpuPercent.toFixed(1)} %, RSS ${peakRssMiB.toFixed(1)} MiB`,
    `#   neighbours after ${settledMs} ms: ${formatCensus(census)}; ${datagrams.sent} datagrams sent${Object.keys(datagrams.errors).length > 0 ? `, errors ${JSON.stringify(datagrams.errors)}` : ''}`,
    `#   daemon: received ${round.counters.received}, answered ${round.counters.advertised}, rate-limited ${round.counters.rateLimited}; CPU read over ${windowMs} ms`,
    `#   kernel-wide neighbour table: ${tableBefore.entries} -> ${tableAfter.entries} of ${round.limit} entries, table_fulls +${tableAfter.tableFulls - tableBefore.tableFulls}`,
  ];
  const b = round.bench;
  if (b !== undefined) {
    lines.push(`#   flood: ${b.sources}, sent ${b.sent} in ${b.sendSeconds.toFixed(2)} s = ${b.achievedRate} NS/s (asked ${b.offeredRate}/s), answered ${b.answered}, stopped by ${b.stoppedBy}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Every address resolved: REACHABLE (a solicited NA confirms it for ReachableTime, 15..45 s, and the read-out is within seconds), none FAILED. */
function assertAllResolved(round: Round): void {
  const { census } = round.resolution;
  const detail = `${formatCensus(census)} of ${census.total}; daemon answered ${round.counters.advertised}, rate-limited ${round.counters.rateLimited}`;
  assert.equal(round.resolution.datagrams.sent, census.total, `every datagram left: ${JSON.stringify(round.resolution.datagrams)}`);
  assert.equal(round.resolution.tableAfter.tableFulls - round.resolution.tableBefore.tableFulls, 0, 'the kernel-wide neighbour table never overflowed (else the lab, not the daemon, lost entries)');
  // Over gc_thresh2 the kernel collects FAILED entries at once: an absent address failed too.
  assert.equal(census.failed + census.absent, 0, `no address FAILED (or FAILED and already collected): ${detail}`);
  assert.equal(census.reachable, census.total, `every address REACHABLE: ${detail}`);
}

/**
 * The flood ran as the test claims: through the whole resolution, near the asked rate. The
 * generator also receives and matches every answer, so on a small loaded machine it falls short
 * when the daemon answers everything (76k..100k NS/s seen on 2 CPUs with limits off).
 */
function assertFloodHeld(round: Round): void {
  assert.ok(round.floodCovered, 'the flood was still running when the neighbour table was read');
  const b = round.bench;
  assert.ok(b !== undefined);
  assert.ok(b.achievedRate >= FLOOD_RATE * MIN_FLOOD_FRACTION, `flood at ${b.achievedRate} NS/s, asked ${FLOOD_RATE}/s`);
}

/** One test: build, measure, report, assert, clean up. */
async function routerRound(label: string, flood: FloodSources): Promise<void> {
  const router = await startRouterLab();
  try {
    const round = await resolveRound(router, flood);
    report(label, round);
    if (flood !== undefined) assertFloodHeld(round);
    assertAllResolved(round);
  } finally {
    await router.close();
  }
}

describe('a conformant router is never refused (issue 9), default flags', { skip }, () => {
  test('one router resolves as many served addresses as its neighbour table holds, at once: every one REACHABLE', { timeout: 60_000 }, async () => {
    await routerRound('alone', undefined);
  });

  test('the same while a random-source flood of 100k NS/s for another served address runs', { timeout: 60_000 }, async () => {
    await routerRound('under random-source flood', 'random:2001:db8::/64');
  });

  test('the same while a single-source flood of 100k NS/s (not the router\'s address) runs', { timeout: 60_000 }, async () => {
    await routerRound('under single-source flood', 'random:2001:db8::1:77/128');
  });
});
