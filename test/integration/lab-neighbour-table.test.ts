import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCensus, ndiscCacheStats, neighbourCensus, neighbourTableLimit, parseNdiscCacheStats } from '../../src/lab/neighbour-table';

describe('the kernel-wide neighbour table, as the router tests read it', () => {
  // /proc/net/stat/ndisc_cache on a 2-CPU machine (Linux 6.18): hex counters, one row per CPU.
  const twoCpus = [
    'entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls',
    '00000001 000009cb 00000b01 00000002   00054634 0001e1fe 00000003   0001e12e         0000005b         00000032         00000005       00000000            00000001',
    '00000001 00000734 000005fd 00000006   0014c87a 0003e5ec 00000002   000568de         00000047         00000000         00017f2d       00000000            00017f2b',
  ].join('\n');

  test('entries is the table\'s own count (printed on every row); table_fulls and forced_gc_runs add up over CPUs', () => {
    assert.deepEqual(parseNdiscCacheStats(twoCpus), { entries: 1, tableFulls: 1 + 0x17f2b, forcedGcRuns: 5 + 0x17f2d });
  });

  test('a missing column is an error that names it', () => {
    assert.throws(() => parseNdiscCacheStats('entries allocs\n00000001 00000002'), /no table_fulls column/);
  });

  test('the census counts each state, STALE/DELAY/PROBE together, and addresses with no entry as absent', () => {
    const states = new Map([
      ['2001:db8::d:1', 'REACHABLE'],
      ['2001:db8::d:2', 'STALE'],
      ['2001:db8::d:3', 'DELAY'],
      ['2001:db8::d:4', 'INCOMPLETE'],
      ['2001:db8::d:5', 'FAILED'],
      ['2001:db8::d:6', 'PERMANENT'],
      ['2001:db8::1', 'REACHABLE'], // not asked about
    ]);
    const addresses = ['2001:db8::d:1', '2001:db8::d:2', '2001:db8::d:3', '2001:db8::d:4', '2001:db8::d:5', '2001:db8::d:6', '2001:db8::d:7'];
    const census = neighbourCensus(states, addresses);
    assert.deepEqual(census, { total: 7, reachable: 1, stale: 2, incomplete: 1, failed: 1, absent: 1, other: 1 });
    assert.equal(formatCensus(census), 'REACHABLE 1, STALE/DELAY/PROBE 2, INCOMPLETE 1, FAILED 1, absent 1, other 1');
  });

  test('this kernel\'s figures can be read', () => {
    assert.ok(neighbourTableLimit() > 0);
    assert.ok(ndiscCacheStats().entries >= 0);
  });
});
