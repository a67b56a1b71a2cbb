import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { runInNamespace } from '../../src/lab/exec';
import { runNdisc6 } from '../../src/lab/ndisc';
import { flushNeighbours } from '../../src/lab/neighbours';
import { ALL_NODES, multicastMac, parseIpv6, parseMac } from '../../src/wire/address';
import { encodeAdvertisementFrame } from '../oracle/advertisement-frame';
import { NdOptionType } from '../../src/wire/nd-options';
import { DaemonProcess } from '../helpers/daemon-process';
import { isRoot } from '../helpers/lab-tools';
import { answeredTotal, ignoredSeries, METRICS_PORT, receivedTotal, scrapeMetrics, type Series } from '../helpers/metrics';
import { solicitation } from '../helpers/solicitations';

const skip = isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)';
const SEND_FRAMES = join(__dirname, '..', 'helpers', 'send-frames.js');
const FLOOD_FRAMES = join(__dirname, '..', 'helpers', 'flood-frames.js');
const FIRST = '2001:db8::a:71a5';
const SECOND = '2001:db8::a:71a6';

/** Scrape /metrics from inside the host namespace, where the daemon listens on 127.0.0.1. */
function scrape(lab: Scenario): Promise<Series> {
  return scrapeMetrics(lab.host.ns, METRICS_PORT);
}

async function answered(lab: Scenario, target: string): Promise<boolean> {
  await flushNeighbours(lab.lan.ns, 'lan0');
  return (await runNdisc6(lab.lan.ns, target, 'lan0', { retries: 2, waitMs: 300 })).ok;
}

/** A multicast NS for `target` from the LAN host's MAC and `source`, with SLLA, hex-encoded for the flood helper. */
function nsHex(lab: Scenario, target: string, source: string): string {
  return Buffer.from(solicitation(lab, target, { ipv6Source: parseIpv6(source) })).toString('hex');
}

describe('--config, SIGHUP reload, metrics, rate limits and conflicts on real packets', { skip }, () => {
  let lab: Scenario;
  let daemon: DaemonProcess;
  const dir = mkdtempSync(join(tmpdir(), 'ndp-config-'));
  const file = join(dir, 'config.yaml');
  const writeConfig = (targets: string[]): void =>
    writeFileSync(file, `# test configuration\ninterface: eth0\nvia: br0\ntargets:\n${targets.map((t) => `  - ${t}\n`).join('')}`);

  before(async () => {
    lab = await createScenario();
    writeConfig([FIRST]);
    daemon = new DaemonProcess(lab.host.ns, ['--config', file, '--metrics-listen', `127.0.0.1:${METRICS_PORT}`]);
    await daemon.waitForLog((r) => r.msg === 'route gained, answering', 8000, 'route gained');
    await daemon.waitForLog((r) => r.msg === 'metrics listening', 2000, 'metrics listening');
  });
  after(async () => {
    daemon?.kill();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the file alone configures the daemon: its target is answered, others are not', async () => {
    assert.equal(await answered(lab, FIRST), true);
    assert.equal(await answered(lab, SECOND), false);
  });

  test('SIGHUP swaps the targets; a broken file is one warning and the old targets keep answering', async () => {
    writeConfig([SECOND]);
    daemon.signal('SIGHUP');
    await daemon.waitForLog((r) => r.msg === 'reloaded', 3000, 'reloaded');
    assert.equal(await answered(lab, SECOND), true, 'new target answered');
    assert.equal(await answered(lab, FIRST), false, 'removed target silent');
    writeConfig([SECOND, 'fe80::1']);
    daemon.signal('SIGHUP');
    const warning = await daemon.waitForLog((r) => r.msg === 'reload failed, keeping the running configuration', 3000, 'reload failed');
    assert.equal(warning.error, `${file}:6:5: targets[1]: "fe80::1" link-local addresses cannot be proxied`);
    assert.equal(await answered(lab, SECOND), true, 'old configuration still answers');
    assert.equal(daemon.logs.filter((r) => r.msg === 'reloaded').length, 1, 'the broken file was not applied');
  });

  test('/metrics counts the real traffic', async () => {
    const before = await scrape(lab);
    assert.equal(await answered(lab, SECOND), true);
    assert.equal(await answered(lab, FIRST), false);
    const after = await scrape(lab);
    // At the default --fast-path the kernel answers the probe: count answers by either path.
    assert.ok(answeredTotal(after) - answeredTotal(before) >= 1, 'the answered probe');
    // Probes for the removed target may be dropped by the kernel filter before they are counted.
    assert.ok(receivedTotal(after) - receivedTotal(before) >= 1);
    assert.equal(after(ignoredSeries('bad-checksum')), 0);
    const { IGNORE_REASONS } = await import('../../src/model/reasons');
    const allIgnored = IGNORE_REASONS.reduce((sum, reason) => sum + after(ignoredSeries(reason)), 0);
    assert.equal(receivedTotal(after), answeredTotal(after) + allIgnored, 'every NS is answered or ignored with a reason');
    assert.equal(after('ndp_responder_link_up'), 1);
    assert.equal(after('ndp_responder_targets'), 1);
    assert.ok(after('ndp_responder_process_resident_memory_bytes') > 0);
  });

  test('a flood of 2000 NS of one flow (one source, one target) is capped at the per-flow limit; other hosts still get answers', async () => {
    const before = await scrape(lab);
    const begin = Date.now();
    // 2000 frames from one source in 0.7 s: 200 every 70 ms, paced so the kernel does not drop
    // many of them at the daemon's socket on a loaded test machine.
    await runInNamespace(lab.lan.ns, process.execPath, [FLOOD_FRAMES, 'lan0', '2000', '200', '70', nsHex(lab, SECOND, '2001:db8::1:77')]);
    const floodMs = Date.now() - begin;
    await new Promise((r) => setTimeout(r, 300));
    const after = await scrape(lab);
    const delta = (series: string): number => after(series) - before(series);
    const received = delta('ndp_responder_solicitations_received_total');
    const sent = delta('ndp_responder_advertisements_sent_total');
    const limited = delta(ignoredSeries('rate-limited'));
    assert.ok(received >= 1000, `the flood reached the daemon: ${received} of 2000 in ${floodMs} ms`);
    // Default: 10/s with a burst of 20 per (source, target) flow.
    assert.ok(sent >= 20 && sent <= 20 + Math.ceil((floodMs + 300) / 100) + 2, `answers ${sent} to ${received} received in ${floodMs} ms`);
    process.stdout.write(`# flood: ${received} received, ${sent} answered, ${limited} rate-limited in ${floodMs} ms\n`);
    assert.equal(limited, received - sent, 'everything else counted as rate-limited');
    assert.ok(limited > 0, 'the limit refused the rest (on whichever path answered)');
    assert.equal(await answered(lab, SECOND), true, 'the LAN kernel (another source) is still answered');
  });

  test('another node probing (DAD) for or advertising a served address is logged and counted as a conflict', async () => {
    await runInNamespace(lab.lan.ns, 'sysctl', ['-qw', 'net.ipv6.conf.lan0.accept_dad=1', 'net.ipv6.conf.lan0.dad_transmits=1']);
    await runInNamespace(lab.lan.ns, 'ip', ['-6', 'addr', 'add', `${SECOND}/64`, 'dev', 'lan0']);
    try {
      const dad = await daemon.waitForLog((r) => r.msg === 'conflict' && r.kind === 'dad', 3000, 'dad conflict');
      assert.equal(dad.target, SECOND);
      assert.equal(dad.from, lab.lan.mac);
    } finally {
      await runInNamespace(lab.lan.ns, 'ip', ['-6', 'addr', 'del', `${SECOND}/64`, 'dev', 'lan0']).catch(() => undefined);
      await runInNamespace(lab.lan.ns, 'sysctl', ['-qw', 'net.ipv6.conf.lan0.accept_dad=0']);
    }
    const mac = parseMac(lab.lan.mac);
    const advertisement = encodeAdvertisementFrame({
      ethernetDestination: multicastMac(ALL_NODES),
      ethernetSource: mac,
      ipv6Source: parseIpv6(SECOND),
      ipv6Destination: ALL_NODES,
      hopLimit: 255,
      advertisement: { router: false, solicited: false, override: true, target: parseIpv6(SECOND), options: [{ type: NdOptionType.TargetLinkLayerAddress, linkLayerAddress: mac }] },
    });
    await runInNamespace(lab.lan.ns, process.execPath, [SEND_FRAMES, 'lan0', Buffer.from(advertisement).toString('hex')]);
    const na = await daemon.waitForLog((r) => r.msg === 'conflict' && r.kind === 'advertisement', 3000, 'advertisement conflict');
    assert.equal(na.target, SECOND);
    assert.equal(na.claims, lab.lan.mac);
    const metric = await scrape(lab);
    assert.ok(metric('ndp_responder_conflicts_total{kind="dad"}') >= 1);
    assert.equal(metric('ndp_responder_conflicts_total{kind="advertisement"}'), 1);
  });
});

describe('the socket path times its answers (receive_to_send_seconds)', { skip }, () => {
  let lab: Scenario;
  let daemon: DaemonProcess;
  before(async () => {
    lab = await createScenario();
    // The histogram is the socket path's own (receive timestamp to sendmmsg): pinned to it here.
    daemon = new DaemonProcess(lab.host.ns, ['--interface', 'eth0', '--target', FIRST, '--via', 'br0', '--fast-path', 'socket', '--metrics-listen', `127.0.0.1:${METRICS_PORT}`]);
    await daemon.waitForLog((r) => r.msg === 'route gained, answering', 8000, 'route gained');
    await daemon.waitForLog((r) => r.msg === 'metrics listening', 2000, 'metrics listening');
  });
  after(async () => {
    daemon?.kill();
    await lab?.destroy();
  });

  test('an answered probe lands in the histogram, within 100 ms', async () => {
    const before = await scrape(lab);
    assert.equal(before('ndp_responder_receive_to_send_seconds_count'), 0);
    assert.equal(await answered(lab, FIRST), true);
    const after = await scrape(lab);
    const sent = after('ndp_responder_advertisements_sent_total');
    assert.ok(sent >= 1, 'answered from the socket');
    assert.ok(after('ndp_responder_receive_to_send_seconds_count') >= 1);
    assert.ok(after('ndp_responder_receive_to_send_seconds_bucket{le="0.1"}') >= 1, 'answered within 100 ms');
  });
});
