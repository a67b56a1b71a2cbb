import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCapture } from '../../src/lab/capture';
import { summarizeNd } from '../../src/lab/nd-summary';
import { flushNeighbours } from '../../src/lab/neighbours';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { DaemonProcess } from '../helpers/daemon-process';
import { ICMP_ND_FILTER, isRoot, ndPackets, pingUntil, runCli } from '../helpers/lab-tools';
import { childProcesses, openFiles, processStatus, socketInodes } from '../helpers/proc';

const skip = isRoot() ? false : 'needs root for network namespaces and setpriv (run: sudo npm test)';

/** nobody/nogroup with exactly CAP_NET_RAW and CAP_NET_ADMIN, as the systemd unit grants them. */
const SETPRIV = [
  'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs',
  '--inh-caps=-all,+net_raw,+net_admin', '--ambient-caps=-all,+net_raw,+net_admin', '--bounding-set=-all,+net_raw,+net_admin',
];
/** Bits 12 (CAP_NET_ADMIN) and 13 (CAP_NET_RAW), as /proc/PID/status prints them. */
const NET_RAW_AND_ADMIN = '0000000000003000';

describe('least privilege: nobody with only CAP_NET_RAW and CAP_NET_ADMIN', { skip }, () => {
  let lab: Scenario;
  let daemon: DaemonProcess;
  before(async () => {
    lab = await createScenario();
    daemon = new DaemonProcess(lab.host.ns, ['--interface', 'eth0', '--target', lab.container.address, '--via', 'br0'], SETPRIV);
    await daemon.waitForLog((r) => r.msg === 'route gained, answering', 8000, 'route gained');
  });
  after(async () => {
    daemon?.kill();
    await lab?.destroy();
  });

  test('runs as uid 65534 with exactly the two capabilities, and the LAN reaches the container through it', async () => {
    const status = processStatus(daemon.pid);
    assert.match(status.Uid ?? '', /^65534\s+65534\s+65534\s+65534$/);
    assert.equal(status.Groups, '');
    for (const set of ['CapEff', 'CapPrm', 'CapAmb', 'CapBnd']) assert.equal(status[set], NET_RAW_AND_ADMIN, set);
    await flushNeighbours(lab.lan.ns, 'lan0');
    const capture = await startCapture(lab.lan.ns, 'lan0', ICMP_ND_FILTER);
    const ms = await pingUntil(lab.lan.ns, lab.container.address, 3000);
    const nas = ndPackets(await capture.stop()).map((p) => summarizeNd(p.data)!).filter((nd) => nd.kind === 'NA');
    assert.ok(ms !== undefined, 'LAN pings the container through the unprivileged responder');
    // proxy_ndp is off in the lab, so only the responder can have answered for the container.
    const na = nas.find((nd) => nd.target === lab.container.address);
    assert.ok(na, `an NA for the container on the LAN; saw ${JSON.stringify(nas)}`);
    assert.equal(na.linkLayerAddress, lab.host.uplinkMac, 'TLLA: the uplink MAC');
    assert.equal(na.flags.solicited, true);
  });

  test('opens nothing it does not need: no files, no listening sockets, no child process', () => {
    const pid = daemon.pid;
    const packet = socketInodes(pid, 'packet');
    const netlink = socketInodes(pid, 'netlink');
    const udp6 = socketInodes(pid, 'udp6');
    const kinds = new Map<string, number>();
    for (const [fd, target] of openFiles(pid)) {
      // 0-2 are the socketpairs/pipes the test harness gave it for stdio.
      const socket = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      let kind: string;
      if (socket !== undefined && fd > 2) {
        kind = packet.has(socket) ? 'packet' : netlink.has(socket) ? 'netlink' : udp6.has(socket) ? 'udp6 (MLD joins)' : `other socket fd ${fd}`;
      } else if (socket !== undefined || target === '/dev/null' || /^(pipe:|anon_inode:\[(eventfd|eventpoll|timerfd)\])/.test(target)) {
        continue; // stdio, and libuv's event loop plumbing
      } else {
        kind = `file ${target} (fd ${fd})`;
      }
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const unexpected = [...kinds.keys()].filter((k) => !['packet', 'netlink', 'udp6 (MLD joins)'].includes(k));
    assert.deepEqual(unexpected, [], `unexpected open files: ${JSON.stringify([...kinds])}`);
    assert.ok((kinds.get('packet') ?? 0) >= 1 && (kinds.get('packet') ?? 0) <= 2, `packet sockets: ${kinds.get('packet')}`);
    assert.equal(kinds.get('netlink'), 1, 'one rtnetlink socket');
    assert.ok((kinds.get('udp6 (MLD joins)') ?? 0) <= 1);
    assert.deepEqual(childProcesses(pid), [], 'never starts a process');
  });

  test('`check` in the same sandbox reports the capabilities as ok; without them, FAIL and exit 1', async () => {
    const prefix = ['ip', 'netns', 'exec', lab.host.ns];
    const granted = await runCli(['check'], { prefix: [...prefix, ...SETPRIV] });
    assert.match(granted.stdout, /^ok +capabilities +CAP_NET_RAW and CAP_NET_ADMIN are effective$/m);
    const bare = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];
    const none = await runCli(['check'], { prefix: [...prefix, ...bare] });
    assert.equal(none.code, 1, none.stdout + none.stderr);
    assert.match(none.stdout, /^FAIL +capabilities +this process lacks CAP_NET_RAW/m);
    assert.match(none.stdout, /fix: .*AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN/);
  });

  test('SIGTERM: exits 0, and its own counters show it answered the LAN', async () => {
    const { code } = await daemon.stop();
    assert.equal(code, 0, daemon.stderr);
    const stopped = daemon.logs.find((r) => r.msg === 'stopped');
    assert.ok(stopped, `a 'stopped' line; last logs: ${JSON.stringify(daemon.logs.slice(-3))}`);
    assert.ok(Number(stopped.advertised) >= 1, `advertised ${String(stopped.advertised)}`);
    assert.ok(Number(stopped.received) >= Number(stopped.advertised), `received ${String(stopped.received)}`);
  });
});
