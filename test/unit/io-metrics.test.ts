import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { IGNORE_REASONS } from '../../src/model/reasons';
import { ResponderCounters } from '../../src/model/counters';
import { createMetrics, serveMetrics } from '../../src/io/metrics-server';

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
    for (const reason of IGNORE_REASONS) assert.equal(sample(text, `ndp_responder_solicitations_ignored_total{reason="${reason}"}`), 0, reason);
    assert.equal(sample(text, 'ndp_responder_conflicts_total{kind="dad"}'), 0);
    src.counters.received = 12;
    src.counters.advertised = 9;
    src.counters.ignored['rate-limited'] = 3;
    src.conflicts.advertisement = 1;
    src.linkUp = false;
    latency.observe(40e-6);
    text = await registry.metrics();
    assert.equal(sample(text, 'ndp_responder_solicitations_received_total'), 12);
    assert.equal(sample(text, 'ndp_responder_advertisements_sent_total'), 9);
    assert.equal(sample(text, 'ndp_responder_solicitations_ignored_total{reason="rate-limited"}'), 3);
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
