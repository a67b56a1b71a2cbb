import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNamespace } from '../../src/lab/exec';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { isRoot, runCli } from '../helpers/lab-tools';

const skip = isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)';

/** Lines of the report that start with `status` (ok / warn / FAIL). */
function lines(stdout: string, status: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith(status));
}

describe('ndp-responder check on a lab host', { skip }, () => {
  let lab: Scenario;
  const sysctl = (assignment: string): Promise<unknown> => runInNamespace(lab.host.ns, 'sysctl', ['-qw', assignment]);
  const check = (args: string[]): ReturnType<typeof runCli> =>
    runCli(['check', '--interface', 'eth0', ...args], { prefix: ['ip', 'netns', 'exec', lab.host.ns] });
  const healthy = ['--target', '2001:db8::a:71a5', '--target', '2001:db8::a:71a0/125', '--via', 'br0'];

  before(async () => {
    lab = await createScenario();
    // A forwarding host that still wants router advertisements (SLAAC on the uplink).
    await sysctl('net.ipv6.conf.eth0.accept_ra=2');
  });
  after(async () => {
    await lab?.destroy();
  });

  test('a healthy host: every line ok, exit 0', async () => {
    const result = await check(healthy);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const body = result.stdout.trim().split('\n').slice(0, -1);
    assert.deepEqual(body.filter((l) => !l.startsWith('ok')), [], 'only ok lines');
    assert.match(result.stdout, new RegExp(`eth0 \\(ifindex ${lab.host.uplinkIfindex}, MAC ${lab.host.uplinkMac}\\) is up`));
    assert.match(result.stdout, /2001:db8::a:71a0\/125 leaves by br0/);
    assert.match(result.stdout, /CAP_NET_RAW and CAP_NET_ADMIN are effective/);
  });

  test('says which path run would answer from: tcx by default (auto) and with --fast-path bpf, the socket with --fast-path socket', async () => {
    const byDefault = await check(healthy);
    assert.equal(byDefault.code, 0, byDefault.stdout + byDefault.stderr);
    assert.match(byDefault.stdout, /ok +fast-path +run would answer in the kernel \(bpf-tcx\)/);
    const bpf = await check([...healthy, '--fast-path', 'bpf']);
    assert.equal(bpf.code, 0, bpf.stdout + bpf.stderr);
    assert.match(bpf.stdout, /ok +fast-path +run would answer in the kernel \(bpf-tcx\)/);
    const socket = await check([...healthy, '--fast-path', 'socket']);
    assert.equal(socket.code, 0, socket.stdout + socket.stderr);
    assert.match(socket.stdout, /ok +fast-path +run would answer from the socket: --fast-path socket \(--fast-path bpf would use bpf-tcx\)/);
  });

  test('forwarding off: FAIL with the sysctl and networkd fixes, exit 1', async () => {
    await sysctl('net.ipv6.conf.all.forwarding=0');
    try {
      const result = await check(healthy);
      assert.equal(result.code, 1);
      assert.match(lines(result.stdout, 'FAIL').join('\n'), /forwarding +IPv6 forwarding is off/);
      assert.match(result.stdout, /fix: sysctl -w net\.ipv6\.conf\.all\.forwarding=1/);
      assert.match(result.stdout, /fix: systemd-networkd: IPForward=ipv6/);
    } finally {
      await sysctl('net.ipv6.conf.all.forwarding=1');
      await sysctl('net.ipv6.conf.eth0.accept_ra=2');
    }
  });

  test('accept_ra=1 on a forwarding uplink: FAIL with accept_ra=2 and IPv6AcceptRA=yes, exit 1', async () => {
    await sysctl('net.ipv6.conf.eth0.accept_ra=1');
    try {
      const result = await check(healthy);
      assert.equal(result.code, 1);
      assert.match(lines(result.stdout, 'FAIL').join('\n'), /accept_ra +forwarding is on and net\.ipv6\.conf\.eth0\.accept_ra = 1/);
      assert.match(result.stdout, /fix: sysctl -w net\.ipv6\.conf\.eth0\.accept_ra=2/);
      assert.match(result.stdout, /fix: systemd-networkd: IPv6AcceptRA=yes/);
    } finally {
      await sysctl('net.ipv6.conf.eth0.accept_ra=2');
    }
  });

  test('a kernel proxy entry for a target: FAIL while proxy_ndp is on, a dormant warning while off', async () => {
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'neigh', 'add', 'proxy', '2001:db8::a:71a5', 'dev', 'eth0']);
    try {
      const dormant = await check(healthy);
      assert.equal(dormant.code, 0, dormant.stdout);
      assert.match(lines(dormant.stdout, 'warn').join('\n'), /kernel proxy entry for 2001:db8::a:71a5 on eth0 \(dormant/);
      await sysctl('net.ipv6.conf.eth0.proxy_ndp=1');
      const active = await check(healthy);
      assert.equal(active.code, 1, active.stdout);
      assert.match(lines(active.stdout, 'FAIL').join('\n'), /proxy-entry +kernel proxy entry for 2001:db8::a:71a5 on eth0: the kernel answers too/);
      assert.match(active.stdout, /fix: ip -6 neigh del proxy 2001:db8::a:71a5 dev eth0/);
      assert.match(lines(active.stdout, 'warn').join('\n'), /proxy_ndp = 1/);
    } finally {
      await sysctl('net.ipv6.conf.eth0.proxy_ndp=0');
      await runInNamespace(lab.host.ns, 'ip', ['-6', 'neigh', 'del', 'proxy', '2001:db8::a:71a5', 'dev', 'eth0']);
    }
  });

  test('a target routed out of the uplink: FAIL with the route to add, exit 1', async () => {
    const result = await check(['--target', '2001:db8::77', '--via', 'br0']);
    assert.equal(result.code, 1);
    assert.match(lines(result.stdout, 'FAIL').join('\n'), /route +2001:db8::77 leaves by the uplink eth0/);
    assert.match(result.stdout, /fix: ip -6 route add 2001:db8::77 dev br0/);
  });

  test('--config FILE supplies interface, via and targets; a broken file is one line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ndp-check-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, 'interface: eth0\nvia: br0\ntargets:\n  - 2001:db8::a:71a0/125\n  - 2001:db8::77\n');
      const result = await runCli(['check', '--config', file], { prefix: ['ip', 'netns', 'exec', lab.host.ns] });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, /^ok +route +2001:db8::a:71a0\/125 leaves by br0$/m);
      assert.match(result.stdout, /^FAIL +route +2001:db8::77 leaves by the uplink eth0/m);
      writeFileSync(file, 'interface: eth0\ntargets:\n  - 10.0.0.1\n');
      const broken = await runCli(['check', '--config', file], { prefix: ['ip', 'netns', 'exec', lab.host.ns] });
      assert.equal(broken.code, 2, broken.stderr);
      assert.match(broken.stderr, /config\.yaml:3:5: targets\[0\]/);
      assert.equal(broken.stderr.trim().split('\n').length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing uplink: FAIL naming it and --wait-for-interface, exit 1', async () => {
    const result = await runCli(['check', '--interface', 'eth9'], { prefix: ['ip', 'netns', 'exec', lab.host.ns] });
    assert.equal(result.code, 1);
    assert.match(lines(result.stdout, 'FAIL').join('\n'), /interface +eth9 not found/);
    assert.match(result.stdout, /--wait-for-interface/);
  });
});
