import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { IGNORE_REASONS } from '../../src/model/reasons';
import { ResponderCounters } from '../../src/model/counters';
import { createMetrics, serveMetrics } from '../../src/io/metrics-server';
import { noFastPathCounters } from '../../src/io/fast-path';
import { PASS_REASONS } from '../../src/wire/ebpf/fast-path-layout';

function source() {
  const counters = new ResponderCounters();
  return { counters, conflicts: { advertisement: 0, dad: 0 }, linkUp: true, targetCount: 2, rateLimitedFlows: 0, rateLimitedSources: 0 };
}

/** The value of one sample line, e.g. `ndp_responder_link_up` or `..._total{reason="bad-code"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  let server: Server | undefined;
  after(() => server?.close());

  test('families read the live counters at scrape time; every reason and kind is present from zero', async () => {
    const src = source();
    const { registry, latency } = createMetrics(src);
    let text = await registry.metrics();
    for (const reason of IGNORE_REASONS) {
      for (const path of ['socket', 'bpf']) assert.equal(sample(text, `ndp_responder_solicitations_ignored_total{reason="${reason}",path="${path}"}`), 0, reason);
    }
    assert.equal(sample(text, 'ndp_responder_conflicts_total{kind="dad"}'), 0);
    src.counters.received = 12;
    src.counters.advertised = 9;
    src.counters.ignored['rate-limited'] = 3;
    src.conflicts.advertisement = 1;
    src.linkUp = false;
    latency.observe(40e-6);
    text = await registry.metrics();
    assert.equal(sample(text, 'ndp_responder_solicitations_received_total{path="socket"}'), 12);
    assert.equal(sample(text, 'ndp_responder_advertisements_sent_total{path="socket"}'), 9);
    assert.equal(sample(text, 'ndp_responder_solicitations_ignored_total{reason="rate-limited",path="socket"}'), 3);
    assert.equal(sample(text, 'ndp_responder_conflicts_total{kind="advertisement"}'), 1);
    assert.equal(sample(text, 'ndp_responder_link_up'), 0);
    assert.equal(sample(text, 'ndp_responder_targets'), 2);
    assert.equal(sample(text, 'ndp_responder_receive_to_send_seconds_bucket{le="0.00005"}'), 1);
    assert.equal(sample(text, 'ndp_responder_receive_to_send_seconds_bucket{le="0.000025"}'), 0);
    assert.match(text, /^# TYPE ndp_responder_solicitations_received_total counter$/m);
    assert.match(text, /^ndp_responder_process_resident_memory_bytes \d+/m, 'default process metrics, prefixed');
    const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
    assert.deepEqual(names.filter((n) => !n.startsWith('ndp_responder_')), [], 'every family is ndp_responder_*');
  });

  test('the kernel path joins the same families under path="bpf", and its passes are counted by reason', async () => {
    const fastPath = noFastPathCounters();
    const src = { ...source(), fastPath };
    src.counters.received = 5;
    src.counters.advertised = 4;
    src.counters.ignored['bad-hop-limit'] = 1;
    Object.assign(fastPath, { matched: 110n, answered: 100n, limited: 7n, deferred: 3n });
    Object.assign(fastPath.passed, { 'dad-probe': 2n, 'hop-limit': 1n });
    const text = await createMetrics(src).registry.metrics();
    assert.equal(sample(text, 'ndp_responder_advertisements_sent_total{path="bpf"}'), 100);
    assert.equal(sample(text, 'ndp_responder_advertisements_sent_total{path="socket"}'), 4);
    // Answered or limited in the kernel; the passed ones are the socket path's to count.
    assert.equal(sample(text, 'ndp_responder_solicitations_received_total{path="bpf"}'), 107);
    assert.equal(sample(text, 'ndp_responder_solicitations_ignored_total{reason="rate-limited",path="bpf"}'), 7);
    assert.equal(sample(text, 'ndp_responder_solicitations_ignored_total{reason="bad-hop-limit",path="bpf"}'), 0);
    assert.equal(sample(text, 'ndp_responder_solicitations_ignored_total{reason="bad-hop-limit",path="socket"}'), 1);
    for (const reason of PASS_REASONS) {
      assert.equal(sample(text, `ndp_responder_fast_path_passed_total{reason="${reason}"}`), Number(fastPath.passed[reason]), reason);
    }
    assert.equal(sample(text, 'ndp_responder_fast_path_answered_total'), 100);
  });

  test('served as Prometheus text at /metrics only', async () => {
    const { registry } = createMetrics(source());
    server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 });
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const ok = await fetch(`http://127.0.0.1:${address.port}/metrics`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0.0.4/);
    assert.match(await ok.text(), /ndp_responder_targets 2/);
    assert.equal((await fetch(`http://127.0.0.1:${address.port}/`)).status, 404);
  });

  test('a port in use is refused with its code', async () => {
    const { registry } = createMetrics(source());
    const first = await serveMetrics(registry, { host: '127.0.0.1', port: 0 });
    const port = (first.address() as { port: number }).port;
    await assert.rejects(serveMetrics(registry, { host: '127.0.0.1', port }), { code: 'EADDRINUSE' });
    first.close();
  });
});
