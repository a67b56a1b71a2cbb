import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { startCapture } from '../../src/lab/capture';
import { runNdisc6 } from '../../src/lab/ndisc';
import { runInNamespace } from '../../src/lab/exec';
import { flushNeighbours } from '../../src/lab/neighbours';
import { IGNORE_REASONS, type IgnoreReason } from '../../src/model/reasons';
import { parseIpv6 } from '../../src/wire/address';
import { DaemonProcess } from '../helpers/daemon-process';
import { ignoredSeries, METRICS_PORT, scrapeMetrics, waitForMetrics, type Series } from '../helpers/metrics';
import { ICMP_ND_FILTER, isRoot, ndPackets, pingUntil, runCli } from '../helpers/lab-tools';
import { patched, sendFrames, solicitation } from '../helpers/solicitations';

const skip = isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)';

async function answered(lab: Scenario, target: string): Promise<boolean> {
  await flushNeighbours(lab.lan.ns, 'lan0');
  return (await runNdisc6(lab.lan.ns, target, 'lan0', { retries: 2, waitMs: 300 })).ok;
}

describe('RFC 4861 §7.1.1 and decisions on crafted frames, at default flags', { skip }, () => {
  let lab: Scenario;
  let daemon: DaemonProcess;
  before(async () => {
    lab = await createScenario();
    daemon = new DaemonProcess(lab.host.ns, ['--interface', 'eth0', '--target', lab.container.subnet, '--via', 'br0', '--metrics-listen', `127.0.0.1:${METRICS_PORT}`]);
    await daemon.waitForLog((r) => r.msg === 'route gained, answering', 8000, 'route gained');
    await daemon.waitForLog((r) => r.msg === 'metrics listening', 2000, 'metrics listening');
  });
  after(async () => {
    daemon?.kill();
    await lab?.destroy();
  });

  test('each invalid NS gets silence and its own count, NS for other targets silence in the kernel; a valid control NS gets exactly one NA', async () => {
    const c = lab.container.address;
    const unspecified = parseIpv6('::');
    // Each reaches the daemon and is counted under its own reason.
    const invalid: [IgnoreReason, Uint8Array][] = [
      ['bad-hop-limit', solicitation(lab, c, { hopLimit: 64 })],
      ['bad-code', patched(solicitation(lab, c), 55, 1, true)],
      ['bad-checksum', patched(solicitation(lab, c), 57, 0x5a, false)],
      ['dad-bad-destination', solicitation(lab, c, { ipv6Source: unspecified, ipv6Destination: parseIpv6(c), solicitation: { target: parseIpv6(c), options: [] } })],
      ['dad-with-slla', solicitation(lab, c, { ipv6Source: unspecified })],
      ['bad-option-length', patched(solicitation(lab, c), 79, 0, true)],
      ['own-address', solicitation(lab, lab.container.gateway)],
      // RFC 4291 §2.7: never a source; answering would send an NA to a group.
      ['multicast-source', solicitation(lab, c, { ipv6Source: parseIpv6('ff02::99') })],
    ];
    // Targets outside the configured set never reach the daemon: the kernel's BPF filter drops
    // them, so they are neither counted as received nor ignored with a reason (not-a-target,
    // multicast-target) in userspace.
    const filtered: [IgnoreReason, Uint8Array][] = [
      ['not-a-target', solicitation(lab, '2001:db8::99')],
      ['multicast-target', solicitation(lab, c, { solicitation: { target: parseIpv6('ff02::1'), options: [] } })],
    ];
    const control = solicitation(lab, c, { ipv6Source: parseIpv6('2001:db8::1:99') });
    const before = await scrapeMetrics(lab.host.ns);
    const capture = await startCapture(lab.lan.ns, 'lan0', ICMP_ND_FILTER);
    // The control goes last: the daemon reads the socket in order, so once it is answered every frame before it was decided.
    await sendFrames(lab, [...invalid.map(([, f]) => f), ...filtered.map(([, f]) => f), control]);
    const advertised = (m: Series): number => m('ndp_responder_advertisements_sent_total') - before('ndp_responder_advertisements_sent_total');
    const after = await waitForMetrics(lab.host.ns, (m) => advertised(m) >= 1, 'the control NS answered');
    const nas = ndPackets(await capture.stop()).filter((p) => p.type === 136);
    const seen = nas.map((p) => `${p.ipv6Source}>${p.ipv6Destination}`).join(' ');
    assert.deepEqual(nas.map((p) => `${p.ipv6Source}>${p.ipv6Destination}`), [`${c}>2001:db8::1:99`], `only the control NS was answered; NAs on the LAN: ${seen}`);
    const delta = (series: string): number => after(series) - before(series);
    const counted = Object.fromEntries(IGNORE_REASONS.map((reason) => [reason, delta(ignoredSeries(reason))]).filter(([, n]) => n !== 0));
    const expected = Object.fromEntries(invalid.map(([reason]) => [reason, 1]));
    assert.deepEqual(counted, expected, 'each invalid NS counted once under its own reason, nothing else ignored');
    assert.equal(advertised(after), 1, 'one NA sent, for the control');
    assert.equal(delta('ndp_responder_solicitations_received_total'), invalid.length + 1, `${filtered.map(([reason]) => reason).join(' and ')} never reached the daemon (kernel filter)`);
  });
});

describe('route awareness, link flaps, waiting for --via, --configure-host', { skip }, () => {
  let lab: Scenario;
  const daemons: DaemonProcess[] = [];
  before(async () => {
    lab = await createScenario();
    // Real hosts drop global addresses on link down; the network manager puts them back.
    await runInNamespace(lab.host.ns, 'sysctl', ['-qw', 'net.ipv6.conf.eth0.keep_addr_on_down=0']);
  });
  after(async () => {
    for (const d of daemons) d.kill();
    await lab?.destroy();
  });
  const start = async (args: string[]): Promise<DaemonProcess> => {
    const d = new DaemonProcess(lab.host.ns, ['--interface', 'eth0', ...args]);
    daemons.push(d);
    await d.started();
    return d;
  };

  test('--via br0: answered while routed out of br0, silent while not, answered again', async () => {
    const d = await start(['--target', lab.container.address, '--via', 'br0']);
    assert.equal(await answered(lab, lab.container.address), true, 'answered via br0');
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'add', `${lab.container.address}/128`, 'dev', 'eth0']);
    await d.waitForLog((r) => r.msg === 'route lost, not answering' && r.reason === 'route-via-uplink', 3000, 'route lost');
    assert.equal(await answered(lab, lab.container.address), false, 'silent while routed out of the uplink');
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'del', `${lab.container.address}/128`, 'dev', 'eth0']);
    await d.waitForLog((r) => r.msg === 'route gained, answering' && d.logs.some((x) => x.msg === 'route lost, not answering'), 3000, 'route regained');
    assert.equal(await answered(lab, lab.container.address), true, 'answered again');
    await d.stop();
  });

  test('without --via: a target routed out of the uplink is never answered', async () => {
    const d = await start(['--target', '2001:db8::77']);
    await d.waitForLog((r) => r.msg === 'route lost, not answering' && r.reason === 'route-via-uplink', 3000, 'route-via-uplink');
    assert.equal(await answered(lab, '2001:db8::77'), false);
    await d.stop();
  });

  test('uplink down/up with addresses restored: answers resume within 2 s, no restart', async () => {
    const d = await start(['--target', lab.container.address, '--via', 'br0']);
    await runInNamespace(lab.host.ns, 'ip', ['link', 'set', 'eth0', 'down']);
    await d.waitForLog((r) => r.msg === 'link down', 3000, 'link down');
    await runInNamespace(lab.host.ns, 'ip', ['link', 'set', 'eth0', 'up']);
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'addr', 'replace', `${lab.host.uplinkAddress}/64`, 'dev', 'eth0', 'nodad']);
    await flushNeighbours(lab.lan.ns, 'lan0');
    const ms = await pingUntil(lab.lan.ns, lab.container.address, 2000);
    assert.ok(ms !== undefined, 'container reachable again within 2 s of link up');
    process.stdout.write(`# reachable again ${ms} ms after link up\n`);
    assert.ok(d.logs.some((r) => r.msg === 'link up, answering again'));
    await d.stop();
  });

  test('a missing --via bridge is waited for, then answered when it appears', async () => {
    const d = await start(['--target', '2001:db8::b:5', '--via', 'br9']);
    assert.ok(d.logs.some((r) => r.msg === 'via interface missing, waiting for it'));
    await runInNamespace(lab.host.ns, 'ip', ['link', 'add', 'br9', 'type', 'bridge']);
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'addr', 'add', '2001:db8::b:1/125', 'dev', 'br9', 'nodad']);
    await runInNamespace(lab.host.ns, 'ip', ['link', 'set', 'br9', 'up']);
    await d.waitForLog((r) => r.msg === 'route gained, answering' && r.target === '2001:db8::b:5', 3000, 'br9 route');
    assert.equal(await answered(lab, '2001:db8::b:5'), true);
    await d.stop();
    await runInNamespace(lab.host.ns, 'ip', ['link', 'del', 'br9']);
  });

  test('--configure-host: forwarding on, accept_ra 1→2, adds TARGET dev VIA and removes it at exit', async () => {
    await runInNamespace(lab.host.ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=0']);
    await runInNamespace(lab.host.ns, 'sysctl', ['-qw', 'net.ipv6.conf.eth0.accept_ra=1']);
    const d = await start(['--target', '2001:db8::c:5', '--via', 'br0', '--configure-host']);
    const routes = (await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'show', '2001:db8::c:5'])).stdout;
    assert.match(routes, /2001:db8::c:5 dev br0/);
    assert.equal((await runInNamespace(lab.host.ns, 'sysctl', ['-n', 'net.ipv6.conf.all.forwarding'])).stdout.trim(), '1');
    assert.equal((await runInNamespace(lab.host.ns, 'sysctl', ['-n', 'net.ipv6.conf.eth0.accept_ra'])).stdout.trim(), '2');
    assert.equal(await answered(lab, '2001:db8::c:5'), true);
    const { code } = await d.stop();
    assert.equal(code, 0);
    const after = (await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'show', '2001:db8::c:5'])).stdout;
    assert.equal(after.trim(), '', 'route removed at exit');
  });

  test('--announce: up to 3 NS from the target to the router, 1 s apart, and the router learns it', async () => {
    // The LAN host plays the router: the Docker host's default route points at it.
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'replace', 'default', 'via', lab.lan.address, 'dev', 'eth0']);
    await flushNeighbours(lab.lan.ns, 'lan0');
    const capture = await startCapture(lab.lan.ns, 'lan0', ICMP_ND_FILTER);
    try {
      const d = await start(['--target', lab.container.address, '--via', 'br0', '--announce']);
      await d.waitForLog((r) => r.msg === 'announced' && r.count === 3, 4000, 'third announcement');
      const announcements = ndPackets(await capture.stop()).filter((p) => p.type === 135 && p.ipv6Source === lab.container.address);
      assert.equal(announcements.length, 3, 'exactly 3 announcements');
      for (const p of announcements) assert.equal(p.ipv6Destination, 'ff02::1:ff00:1', "to the router's solicited-node group");
      const gaps = announcements.slice(1).map((p, i) => Number(p.timestampNs - announcements[i]!.timestampNs) / 1e6);
      assert.ok(gaps.every((ms) => ms >= 990), `at least 1 s apart: ${gaps.join(', ')} ms`);
      const { stdout } = await runInNamespace(lab.lan.ns, 'ip', ['-6', 'neigh', 'show', lab.container.address, 'dev', 'lan0']);
      assert.match(stdout, new RegExp(`lladdr ${lab.host.uplinkMac}`), 'the router cached the container address before any packet');
      await d.stop();
    } finally {
      await capture.stop();
      await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'del', 'default', 'dev', 'eth0']).catch(() => undefined);
    }
  });

  test('--source link-local: answers come from the uplink link-local address and the LAN kernel accepts them', async () => {
    const d = await start(['--target', lab.container.address, '--via', 'br0', '--source', 'link-local']);
    await flushNeighbours(lab.lan.ns, 'lan0');
    const capture = await startCapture(lab.lan.ns, 'lan0', ICMP_ND_FILTER);
    const ms = await pingUntil(lab.lan.ns, lab.container.address, 3000);
    const nas = ndPackets(await capture.stop()).filter((p) => p.type === 136 && p.ipv6Source === lab.host.linkLocal);
    assert.ok(ms !== undefined, 'the LAN reaches the container');
    assert.ok(nas.length > 0, `an NA from ${lab.host.linkLocal}`);
    await d.stop();
  });

  test('a kernel proxy entry for a target is detected and warned about with the fix', async () => {
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'neigh', 'add', 'proxy', lab.container.address, 'dev', 'eth0']);
    try {
      const d = await start(['--target', lab.container.address, '--via', 'br0']);
      const warning = await d.waitForLog((r) => String(r.msg).startsWith('kernel proxy entry for a target'), 2000, 'proxy warning');
      assert.equal(warning.target, lab.container.address);
      assert.equal(warning.fix, `ip -6 neigh del proxy ${lab.container.address} dev eth0`);
      await d.stop();
    } finally {
      await runInNamespace(lab.host.ns, 'ip', ['-6', 'neigh', 'del', 'proxy', lab.container.address, 'dev', 'eth0']);
    }
  });

  test('without forwarding, start-up warns with the fix', async () => {
    await runInNamespace(lab.host.ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=0']);
    const d = await start(['--target', lab.container.address]);
    const warning = await d.waitForLog((r) => r.problem === 'forwarding-off', 2000, 'forwarding warning');
    assert.match(String(warning.fix), /net\.ipv6\.conf\.all\.forwarding=1/);
    await d.stop();
    await runInNamespace(lab.host.ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
  });
});

describe('least privilege', { skip }, () => {
  test('without CAP_NET_RAW: one line, exit 3', async () => {
    const setpriv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];
    const result = await runCli(['run', '--interface', 'lo', '--target', '2001:db8::5'], { prefix: setpriv });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /missing privileges/);
    assert.equal(result.stderr.trim().split('\n').length, 1);
  });
});

