/**
 * The responder as a user runs it without root: nobody (uid 65534) under setpriv with
 * no-new-privs, the capabilities ambient and the bounding set reduced to them. With exactly the
 * set the README, the systemd unit and the image state (core/privileges.ts: CAP_NET_RAW,
 * CAP_NET_ADMIN, CAP_BPF) and default flags, it answers from the kernel; with the socket
 * path's two only, `auto` falls back in one line and `--fast-path bpf` exits 3 in one line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCapture } from '../../src/lab/capture';
import { summarizeNd } from '../../src/lab/nd-summary';
import { flushNeighbours } from '../../src/lab/neighbours';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { GRANTED_CAPABILITIES, SOCKET_PATH_CAPABILITIES, capabilityName } from '../../src/core/privileges';
import { fastPathMaps } from '../../src/wire/ebpf/fast-path-layout';
import { DaemonProcess, type LogRecord } from '../helpers/daemon-process';
import { ICMP_ND_FILTER, isRoot, ndPackets, pingUntil, runCli } from '../helpers/lab-tools';
import { METRICS_PORT, scrapeMetrics, waitForMetrics } from '../helpers/metrics';
import { childProcesses, openFiles, processStatus, socketInodes } from '../helpers/proc';

const skip = isRoot() ? false : 'needs root for network namespaces and setpriv (run: sudo npm test)';

/** setpriv's spelling: +net_raw,+net_admin,+bpf. */
function capList(bits: readonly number[]): string {
  return bits.map((bit) => `+${capabilityName(bit).slice('CAP_'.length).toLowerCase()}`).join(',');
}

/** nobody/nogroup with exactly `bits`, ambient, bounding set reduced to them (what the unit grants). */
function sandbox(bits: readonly number[]): string[] {
  const caps = `-all,${capList(bits)}`;
  return ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs', `--inh-caps=${caps}`, `--ambient-caps=${caps}`, `--bounding-set=${caps}`];
}

/** The capability mask as /proc/PID/status prints it (16 hex digits). */
function mask(bits: readonly number[]): string {
  return bits.reduce((set, bit) => set | (1n << BigInt(bit)), 0n).toString(16).padStart(16, '0');
}

/** Default flags: `auto` is the default; until this checkout's default says so, ask for it. */
const ANSWERED = 'ndp_responder_fast_path_answered_total';
/** The socket path's answers (the kernel's are path="bpf"). */
const SENT = 'ndp_responder_advertisements_sent_total{path="socket"}';
/** Every line the daemon logs about the kernel path (`started` carries it as a field too). */
const fastPathLines = (logs: readonly LogRecord[]): LogRecord[] => logs.filter((r) => r.module === 'fast-path');

/** The LAN forgets the container, pings it, and the NA it saw for it (TLLA the uplink MAC, S set). */
async function lanPingsContainer(lab: Scenario): Promise<void> {
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
}

describe('least privilege: nobody with only the stated capabilities', { skip }, () => {
  let lab: Scenario;
  const daemons: DaemonProcess[] = [];
  const start = async (bits: readonly number[]): Promise<DaemonProcess> => {
    const args = ['--interface', 'eth0', '--target', lab.container.address, '--via', 'br0', '--metrics-listen', `127.0.0.1:${METRICS_PORT}`];
    const daemon = new DaemonProcess(lab.host.ns, args, sandbox(bits));
    daemons.push(daemon);
    await daemon.waitForLog((r) => r.msg === 'route gained, answering', 8000, 'route gained');
    return daemon;
  };
  before(async () => {
    lab = await createScenario();
  });
  after(async () => {
    for (const daemon of daemons) daemon.kill();
    await lab?.destroy();
  });

  describe(`stated set (${GRANTED_CAPABILITIES.map(capabilityName).join(', ')}), default flags: the kernel answers`, () => {
    let daemon: DaemonProcess;
    before(async () => {
      daemon = await start(GRANTED_CAPABILITIES);
    });

    test('runs as uid 65534 with exactly the stated set; started says bpf-tcx; the LAN reaches the container from kernel answers', async () => {
      const status = processStatus(daemon.pid);
      assert.match(status.Uid ?? '', /^65534\s+65534\s+65534\s+65534$/);
      assert.equal(status.Groups, '');
      for (const set of ['CapEff', 'CapPrm', 'CapAmb', 'CapBnd']) assert.equal(status[set], mask(GRANTED_CAPABILITIES), set);
      const started = daemon.logs.find((r) => r.msg === 'started');
      assert.equal(started?.fastPath, 'bpf-tcx', JSON.stringify(fastPathLines(daemon.logs)));
      assert.deepEqual(fastPathLines(daemon.logs).map((r) => r.msg), ['answering in the kernel for single-address targets']);
      await lanPingsContainer(lab);
      const metric = await waitForMetrics(lab.host.ns, (m) => m(ANSWERED) >= 1, 'a kernel answer counted (per-CPU counters read without root)');
      assert.equal(metric(SENT), 0, 'the socket path sent nothing: the answer came from the kernel');
    });

    test('opens only its sockets, the metrics listener and the program, maps and link; no child process', () => {
      const pid = daemon.pid;
      const tables = ['packet', 'netlink', 'udp6', 'tcp'].map((table) => [table, socketInodes(pid, table)] as const);
      const kinds = new Map<string, number>();
      for (const [fd, target] of openFiles(pid)) {
        const socket = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        let kind: string;
        if (socket !== undefined && fd > 2) {
          kind = tables.find(([, inodes]) => inodes.has(socket))?.[0] ?? `other socket fd ${fd}`;
        } else if (/^anon_inode:bpf[-_](map|prog|link)$/.test(target)) {
          kind = target.slice('anon_inode:'.length).replace('_', '-');
        } else if (socket !== undefined || target === '/dev/null' || /^(pipe:|anon_inode:\[(eventfd|eventpoll|timerfd)\])/.test(target)) {
          continue; // stdio (0-2, the harness's), and libuv's event loop plumbing
        } else {
          kind = `file ${target} (fd ${fd})`;
        }
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
      const seen = Object.fromEntries(kinds);
      const unexpected = Object.keys(seen).filter((k) => !['packet', 'netlink', 'udp6', 'tcp', 'bpf-map', 'bpf-prog', 'bpf-link'].includes(k));
      assert.deepEqual(unexpected, [], `unexpected open files: ${JSON.stringify(seen)}`);
      assert.ok((seen.packet ?? 0) >= 1 && (seen.packet ?? 0) <= 2, `packet sockets: ${JSON.stringify(seen)}`);
      assert.equal(seen.netlink, 1, 'one rtnetlink socket');
      assert.ok((seen.udp6 ?? 0) <= 1, 'at most one socket for the MLD joins');
      assert.equal(seen.tcp, 1, 'the --metrics-listen socket');
      assert.deepEqual([seen['bpf-map'], seen['bpf-prog'], seen['bpf-link']], [Object.keys(fastPathMaps()).length, 1, 1], 'its maps (targets, config, counters, the limit buckets); the program; its tcx link');
      assert.deepEqual(childProcesses(pid), [], 'never starts a process');
    });

    test('`check` in the same sandbox: capabilities ok and the kernel path; with no capabilities, FAIL and exit 1', async () => {
      const prefix = ['ip', 'netns', 'exec', lab.host.ns];
      const granted = await runCli(['check', '--interface', 'eth0'], { prefix: [...prefix, ...sandbox(GRANTED_CAPABILITIES)] });
      assert.match(granted.stdout, /^ok +capabilities +CAP_NET_RAW and CAP_NET_ADMIN are effective$/m);
      assert.match(granted.stdout, /^ok +fast-path +run would answer in the kernel \(bpf-tcx\)/m);
      const bare = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];
      const none = await runCli(['check', '--interface', 'eth0'], { prefix: [...prefix, ...bare] });
      assert.equal(none.code, 1, none.stdout + none.stderr);
      assert.match(none.stdout, /^FAIL +capabilities +this process lacks CAP_NET_RAW/m);
      assert.match(none.stdout, /fix: .*AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN CAP_BPF\)/);
      assert.match(none.stdout, /^ok +fast-path +run would answer from the socket: .*\(missing CAP_BPF and CAP_NET_ADMIN: /m);
    });

    test('SIGTERM: exits 0', async () => {
      const { code } = await daemon.stop();
      assert.equal(code, 0, daemon.stderr);
      assert.ok(daemon.logs.some((r) => r.msg === 'stopped'), `a 'stopped' line; last logs: ${JSON.stringify(daemon.logs.slice(-3))}`);
    });
  });

  describe(`without CAP_BPF (${SOCKET_PATH_CAPABILITIES.map(capabilityName).join(', ')} only)`, () => {
    let daemon: DaemonProcess;
    before(async () => {
      daemon = await start(SOCKET_PATH_CAPABILITIES);
    });

    test('default flags: one info line names the missing capability, nothing is loaded, and the socket path answers the LAN', async () => {
      assert.equal(processStatus(daemon.pid).CapEff, mask(SOCKET_PATH_CAPABILITIES));
      const lines = fastPathLines(daemon.logs);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.equal(lines[0]!.level, 30, 'info');
      assert.equal(lines[0]!.msg, 'fast path unavailable, answering from the socket');
      assert.equal(lines[0]!.reason, 'missing CAP_BPF: the in-kernel path needs CAP_BPF and CAP_NET_ADMIN');
      assert.equal(daemon.logs.find((r) => r.msg === 'started')?.fastPath, 'socket');
      const bpfFiles = [...openFiles(daemon.pid).values()].filter((target) => target.startsWith('anon_inode:bpf'));
      assert.deepEqual(bpfFiles, [], 'decided up front: no map or program was even tried');
      await lanPingsContainer(lab);
      const metric = await scrapeMetrics(lab.host.ns);
      assert.ok(metric(SENT) >= 1, 'the socket path answered');
      assert.equal(metric(ANSWERED), 0);
      const { code } = await daemon.stop();
      assert.equal(code, 0, daemon.stderr);
    });

    test('--fast-path bpf: exit 3 and exactly one line on stderr, naming CAP_BPF', async () => {
      const prefix = ['ip', 'netns', 'exec', lab.host.ns, ...sandbox(SOCKET_PATH_CAPABILITIES)];
      const result = await runCli(['run', '--interface', 'eth0', '--target', lab.container.address, '--via', 'br0', '--fast-path', 'bpf'], { prefix });
      assert.equal(result.code, 3, result.stdout + result.stderr);
      assert.deepEqual(result.stderr.split('\n').filter((line) => line !== ''), [
        'ndp-responder: missing privileges: --fast-path bpf needs CAP_BPF and CAP_NET_ADMIN, this process lacks CAP_BPF; grant them or use --fast-path auto',
      ]);
      assert.equal(result.stdout, '', 'refused before it logs anything');
    });
  });

  test('capabilities that do not count (a user namespace): bpf exits 3 in one line saying bpf(2) was refused despite them', async () => {
    // Its own user and network namespace (unshare, util-linux like setpriv), with a veth pair for an uplink.
    const prefix = ['unshare', '--user', '--map-root-user', '--net', 'sh', '-c', 'ip link add v0 type veth peer name v1 && ip link set v0 up && exec "$@"', 'sh'];
    const result = await runCli(['run', '--interface', 'v0', '--target', '2001:db8::5', '--fast-path', 'bpf'], { prefix });
    assert.equal(result.code, 3, result.stdout + result.stderr);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^ndp-responder: cannot use the in-kernel fast path: bpf\(BPF_\w+\) EPERM .* although CAP_BPF and CAP_NET_ADMIN are effective: a seccomp filter, a security module or a user namespace refuses bpf\(2\)$/);
  });
});
