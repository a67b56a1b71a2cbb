import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNamespace } from '../../src/lab/exec';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { sleep } from '../../src/lab/wait';
import { DaemonProcess } from '../helpers/daemon-process';
import { isRoot, pingUntil, runCli } from '../helpers/lab-tools';
import { cpuMillis } from '../helpers/proc';
import { lanNeighbourMac, plugUplink } from '../helpers/plug-uplink';

const skip = isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)';
/** A daemon that spins on a missing interface burns ~2000 ms in this window; an idle one ~0. */
const IDLE_WINDOW_MS = 2000;
const IDLE_CPU_LIMIT_MS = 100;
const SETTLE_MS = 1000;

/** CPU the daemon burns over the idle window, once start-up work (V8 warm-up of the hot path) is over. */
async function idleCpu(daemon: DaemonProcess): Promise<number> {
  await sleep(SETTLE_MS);
  const before = cpuMillis(daemon.pid);
  await sleep(IDLE_WINDOW_MS);
  return cpuMillis(daemon.pid) - before;
}

describe('lifecycle: missing, deleted and recreated uplinks', { skip }, () => {
  let lab: Scenario;
  const daemons: DaemonProcess[] = [];
  before(async () => {
    lab = await createScenario();
  });
  after(async () => {
    for (const d of daemons) d.kill();
    await lab?.destroy();
  });
  const start = async (args: string[]): Promise<DaemonProcess> => {
    const d = new DaemonProcess(lab.host.ns, args);
    daemons.push(d);
    await d.started();
    return d;
  };

  test('uplink missing at start without --wait-for-interface: one line, exit 3', async () => {
    const result = await runCli(['run', '--interface', 'up9', '--target', lab.container.address], { prefix: ['ip', 'netns', 'exec', lab.host.ns] });
    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stderr.trim(), 'ndp-responder: interface up9 not found');
  });

  test('--wait-for-interface: idle while missing, answers when the uplink appears', async () => {
    const d = await start(['--interface', 'up9', '--wait-for-interface', '--target', lab.container.address, '--via', 'br0']);
    await d.waitForLog((r) => r.msg === 'waiting for interface' && r.interface === 'up9', 1000, 'waiting for interface');
    const cpu = await idleCpu(d);
    process.stdout.write(`# CPU while waiting for the uplink: ${cpu} ms over ${IDLE_WINDOW_MS} ms\n`);
    assert.ok(cpu < IDLE_CPU_LIMIT_MS, `no busy wait: ${cpu} ms of CPU`);
    await runInNamespace(lab.host.ns, 'ip', ['link', 'del', 'eth0']); // frees lan0 in the LAN namespace
    await plugUplink(lab, 'up9', '02:00:00:00:09:09');
    await d.waitForLog((r) => r.msg === 'link up, answering again' && r.interface === 'up9', 3000, 'up9 opened');
    assert.ok((await pingUntil(lab.lan.ns, lab.container.address, 3000)) !== undefined, 'container reachable through up9');
    assert.equal(await lanNeighbourMac(lab, lab.container.address), '02:00:00:00:09:09');
    await d.stop();
    await runInNamespace(lab.host.ns, 'ip', ['link', 'del', 'up9']);
    await plugUplink(lab, 'eth0', '02:00:00:00:0e:01');
  });

  test('uplink deleted, idle while gone, recreated with a new ifindex and MAC: answers within 2 s', async () => {
    const d = await start(['--interface', 'eth0', '--target', lab.container.address, '--via', 'br0']);
    await d.waitForLog((r) => r.msg === 'route gained, answering', 3000, 'route gained');
    const firstMac = (d.logs.find((r) => r.msg === 'started')?.mac as string | undefined) ?? '';
    await runInNamespace(lab.host.ns, 'ip', ['link', 'del', 'eth0']);
    // Deleting a veth first reports it down (socket closed), then removed.
    await d.waitForLog((r) => r.msg === 'link down' || r.msg === 'link removed, waiting for it', 3000, 'link down or removed');
    const cpu = await idleCpu(d);
    process.stdout.write(`# CPU while the uplink is deleted: ${cpu} ms over ${IDLE_WINDOW_MS} ms\n`);
    assert.ok(cpu < IDLE_CPU_LIMIT_MS, `no busy loop: ${cpu} ms of CPU`);
    const newMac = firstMac === '02:00:00:00:71:a5' ? '02:00:00:00:71:a6' : '02:00:00:00:71:a5';
    await plugUplink(lab, 'eth0', newMac);
    const up = Date.now();
    const reopened = await d.waitForLog((r) => r.msg === 'link up, answering again' && r.mac === newMac, 2000, 'reopened with the new MAC');
    assert.notEqual(reopened.ifindex, lab.host.uplinkIfindex, 'a new ifindex');
    const ms = await pingUntil(lab.lan.ns, lab.container.address, 2000);
    assert.ok(ms !== undefined, 'container reachable within 2 s of the new uplink');
    process.stdout.write(`# answering again ${Date.now() - up} ms after the recreated uplink came up\n`);
    assert.equal(await lanNeighbourMac(lab, lab.container.address), newMac, 'the NA carried the new MAC');
    await d.stop();
  });

  test('--configure-host: a recreated uplink gets accept_ra=2 again', async () => {
    const d = await start(['--interface', 'eth0', '--target', lab.container.address, '--via', 'br0', '--configure-host']);
    await runInNamespace(lab.host.ns, 'ip', ['link', 'del', 'eth0']);
    await d.waitForLog((r) => r.msg === 'link removed, waiting for it' || r.msg === 'link down', 3000, 'link gone');
    await runInNamespace(lab.host.ns, 'sysctl', ['-qw', 'net.ipv6.conf.default.accept_ra=1']);
    const plugged = Date.now();
    await plugUplink(lab, 'eth0', '02:00:00:00:0e:02');
    await d.waitForLog((r) => r.msg === 'host configured' && r.sysctl === 'net.ipv6.conf.eth0.accept_ra' && Number(r.time) >= plugged, 3000, 'accept_ra fixed');
    assert.equal((await runInNamespace(lab.host.ns, 'sysctl', ['-n', 'net.ipv6.conf.eth0.accept_ra'])).stdout.trim(), '2');
    await d.stop();
  });
});

describe('started with nsenter --net= (no /sys remount): interfaces come from rtnetlink', { skip }, () => {
  let lab: Scenario;
  let daemon: DaemonProcess | undefined;
  // A name no other namespace has: the /sys of the namespace that mounted it cannot know it.
  const uplink = `nx${randomBytes(3).toString('hex')}`;
  before(async () => {
    lab = await createScenario();
    await runInNamespace(lab.host.ns, 'ip', ['link', 'del', 'eth0']);
    await plugUplink(lab, uplink, '02:00:00:00:0e:02');
  });
  after(async () => {
    daemon?.kill();
    await lab?.destroy();
  });

  test('run finds the uplink and the LAN reaches the container; check and bench see the namespace too', async () => {
    assert.equal(existsSync(`/sys/class/net/${uplink}`), false, 'the test itself sees a /sys without the uplink');
    daemon = new DaemonProcess(lab.host.ns, ['--interface', uplink, '--target', lab.container.address, '--via', 'br0'], [], 'nsenter');
    await daemon.waitForLog((r) => r.msg === 'route gained, answering', 8000, 'route gained');
    assert.ok((await pingUntil(lab.lan.ns, lab.container.address, 3000)) !== undefined, 'container reachable through the nsenter-started daemon');
    const nsenter = (ns: string): string[] => ['nsenter', `--net=/var/run/netns/${ns}`];
    const check = await runCli(['check', '--interface', uplink], { prefix: nsenter(lab.host.ns) });
    assert.match(check.stdout, new RegExp(`ok +interface +${uplink} \\(ifindex \\d+, MAC 02:00:00:00:0e:02\\) is up`), check.stdout + check.stderr);
    const bench = await runCli(['bench', '--interface', 'lan0', '--target', lab.container.address, '--count', '20', '--rate', '100', '--json'], { prefix: nsenter(lab.lan.ns) });
    assert.equal(bench.code, 0, bench.stderr);
    assert.ok((JSON.parse(bench.stdout) as { answered: number }).answered > 0, bench.stdout);
    assert.equal((await daemon.stop()).code, 0);
  });
});
