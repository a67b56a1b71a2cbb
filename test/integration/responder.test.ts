import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { startCapture } from '../../src/lab/capture';
import { runNdisc6 } from '../../src/lab/ndisc';
import { runInNamespace } from '../../src/lab/exec';
import { neighbourEntry } from '../../src/lab/neighbours';
import { waitUntil } from '../../src/lab/wait';
import { decodeAdvertisementFrame } from '../../src/wire/frame';
import { formatIpv6, formatMac } from '../../src/wire/address';
import { findLinkLayerAddress, NdOptionType } from '../../src/wire/nd-options';
import { DaemonProcess } from '../helpers/daemon-process';
import { isRoot, ICMP_ND_FILTER, ndPackets, pingOnce, runCli } from '../helpers/lab-tools';

const skip = isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)';

describe('responder on real packets (kernel peers, proxy_ndp=0)', { skip }, () => {
  let lab: Scenario;
  let daemon: DaemonProcess;

  before(async () => {
    lab = await createScenario();
    daemon = new DaemonProcess(lab.host.ns, ['--interface', 'eth0', '--target', lab.container.address, '--via', 'br0']);
    await daemon.started();
    await daemon.waitForLog((r) => r.msg === 'route gained, answering', 5000, 'route gained');
  });

  after(async () => {
    daemon?.kill();
    await lab?.destroy();
  });

  test('the LAN kernel resolves the container and pings it; the NA is right field by field', async () => {
    const capture = await startCapture(lab.lan.ns, 'lan0', ICMP_ND_FILTER);
    const ok = await pingOnce(lab.lan.ns, lab.container.address);
    const packets = ndPackets(await capture.stop());
    assert.equal(ok, true, 'LAN ping to the container');
    const ns = packets.find((p) => p.type === 135);
    const na = packets.find((p) => p.type === 136);
    assert.ok(ns && na, `expected NS and NA, saw ${packets.map((p) => p.type).join(',')}`);
    const frame = decodeAdvertisementFrame(na.data);
    assert.equal(formatMac(frame.ethernet.source), lab.host.uplinkMac);
    assert.equal(formatMac(frame.ethernet.destination), lab.lan.mac);
    assert.equal(formatIpv6(frame.ipv6.source), lab.container.address);
    assert.equal(formatIpv6(frame.ipv6.destination), lab.lan.address);
    assert.equal(frame.ipv6.hopLimit, 255);
    assert.equal(frame.checksumValid, true);
    assert.deepEqual(
      { R: frame.advertisement.router, S: frame.advertisement.solicited, O: frame.advertisement.override },
      { R: false, S: true, O: true },
    );
    assert.equal(formatIpv6(frame.advertisement.target), lab.container.address);
    const tlla = findLinkLayerAddress(frame.advertisement.options, NdOptionType.TargetLinkLayerAddress);
    assert.equal(tlla && formatMac(tlla), lab.host.uplinkMac);
    const latencyUs = Number(na.timestampNs - ns.timestampNs) / 1000;
    process.stdout.write(`# NS→NA latency on the LAN wire: ${latencyUs.toFixed(1)} µs\n`);
    assert.ok(latencyUs < 100_000, `answered at once (saw ${latencyUs} µs)`);
  });

  test('ndisc6 (accepts only NAs sourced from the target) learns the uplink MAC', async () => {
    const result = await runNdisc6(lab.lan.ns, lab.container.address, 'lan0');
    assert.equal(result.ok, true, result.output);
    assert.equal(result.mac?.toLowerCase(), lab.host.uplinkMac);
  });

  test('kernel NUD: a unicast probe to the container address is answered', async () => {
    // Make the LAN's entry stale with a short delay so the kernel itself sends the unicast NS.
    await runInNamespace(lab.lan.ns, 'sysctl', ['-qw', 'net.ipv6.neigh.lan0.delay_first_probe_time=1']);
    await runInNamespace(lab.lan.ns, 'ip', ['-6', 'neigh', 'replace', lab.container.address, 'lladdr', lab.host.uplinkMac, 'dev', 'lan0', 'nud', 'stale']);
    const capture = await startCapture(lab.lan.ns, 'lan0', ICMP_ND_FILTER);
    await pingOnce(lab.lan.ns, lab.container.address);
    // STALE → DELAY → (1 s) PROBE: only an answer to the unicast probe makes the entry REACHABLE again.
    const confirmed = await waitUntil(async () => (await neighbourEntry(lab.lan.ns, lab.container.address, 'lan0'))?.state === 'REACHABLE', {
      timeoutMs: 4000,
      description: 'the LAN kernel confirming the container by NUD',
    }).catch((error: Error) => error);
    const packets = ndPackets(await capture.stop());
    const probe = packets.find((p) => p.type === 135 && p.ipv6Destination === lab.container.address);
    assert.ok(probe, `kernel sent a unicast NS; saw ${JSON.stringify(packets.map((p) => [p.type, p.ipv6Destination]))}`);
    const answer = packets.find((p) => p.type === 136 && p.ipv6Source === lab.container.address && p.timestampNs > probe.timestampNs);
    assert.ok(answer, 'unicast NS answered');
    assert.equal(confirmed, true, 'the LAN kernel accepted the answer (REACHABLE)');
    const frame = decodeAdvertisementFrame(answer.data);
    assert.equal(frame.advertisement.solicited, true);
    // The kernel probes from its link-local address; the answer goes back to exactly that source.
    assert.equal(formatIpv6(frame.ipv6.destination), probe.ipv6Source);
    assert.equal(formatIpv6(frame.ipv6.source), lab.container.address);
  });

  test('DAD: a LAN host claiming the container address gets NA to ff02::1 with S=0 and backs off', async () => {
    await runInNamespace(lab.lan.ns, 'sysctl', ['-qw', 'net.ipv6.conf.lan0.accept_dad=1', 'net.ipv6.conf.lan0.dad_transmits=1']);
    const capture = await startCapture(lab.lan.ns, 'lan0', ICMP_ND_FILTER);
    await runInNamespace(lab.lan.ns, 'ip', ['-6', 'addr', 'add', `${lab.container.address}/64`, 'dev', 'lan0']);
    let flags = '';
    for (let i = 0; i < 30 && !flags.includes('dadfailed'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      flags = (await runInNamespace(lab.lan.ns, 'ip', ['-6', 'addr', 'show', 'dev', 'lan0'])).stdout;
    }
    const packets = ndPackets(await capture.stop());
    await runInNamespace(lab.lan.ns, 'ip', ['-6', 'addr', 'del', `${lab.container.address}/64`, 'dev', 'lan0']).catch(() => undefined);
    await runInNamespace(lab.lan.ns, 'sysctl', ['-qw', 'net.ipv6.conf.lan0.accept_dad=0']);
    assert.match(flags, /dadfailed/, 'the prober saw our answer and gave up the address');
    const na = packets.find((p) => p.type === 136);
    assert.ok(na, 'an NA was seen');
    const frame = decodeAdvertisementFrame(na.data);
    assert.equal(formatIpv6(frame.ipv6.destination), 'ff02::1');
    assert.equal(formatMac(frame.ethernet.destination), '33:33:00:00:00:01');
    assert.equal(frame.advertisement.solicited, false);
  });

  test('SIGTERM: exits 0 within 1 s', async () => {
    const extra = new DaemonProcess(lab.host.ns, ['--interface', 'eth0', '--target', '2001:db8::a:71a6']);
    await extra.started();
    const { code, ms } = await extra.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(ms < 1000, `stopped in ${ms} ms`);
  });
});

describe('command line (bad input gives one line and the right exit code)', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['IPv4 target', ['run', '--interface', 'lo', '--target', '192.0.2.1'], 2, /IPv4/],
    ['multicast target', ['run', '--interface', 'lo', '--target', 'ff02::1'], 2, /multicast/],
    ['link-local target', ['run', '--interface', 'lo', '--target', 'fe80::1'], 2, /link-local/],
    ['unparsable target', ['run', '--interface', 'lo', '--target', 'nonsense'], 2, /not an IPv6 address/],
    ['no target', ['run', '--interface', 'lo'], 2, /no target/],
    ['unknown option', ['run', '--bogus'], 2, /unknown option/],
    ['unknown interface', ['run', '--interface', 'nosuchif0', '--target', '2001:db8::5'], 3, /interface nosuchif0 not found/],
    ['loopback target', ['run', '--interface', 'lo', '--target', '::1'], 2, /loopback/],
    ['IPv4-mapped target', ['run', '--interface', 'lo', '--target', '::ffff:192.0.2.1'], 2, /IPv4-mapped/],
    ['zoned target', ['run', '--interface', 'lo', '--target', '2001:db8::5%eth0'], 2, /zone/],
    ['misspelt flag, suggestion on the same line', ['run', '--interfce', 'eth0'], 2, /^ndp-responder: unknown option '--interfce' \(Did you mean --interface\?\)$/m],
    ['bad choice', ['run', '--source', 'foo'], 2, /^ndp-responder: .*Allowed choices are target, link-local/],
    ['uplink without an Ethernet MAC', ['run', '--interface', 'lo', '--target', '2001:db8::5'], 3, /lo has no Ethernet MAC address/],
    ['check: the same name rule as run', ['check', '--interface', 'a-name-of-17-chars'], 2, /invalid --interface "a-name-of-17-chars": not an interface name/],
  ];
  for (const [name, args, exitCode, message] of cases) {
    test(name, async () => {
      const result = await runCli(args);
      assert.equal(result.code, exitCode);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, `one line, got: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
