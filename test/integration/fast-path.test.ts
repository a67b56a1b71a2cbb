/**
 * `--fast-path bpf` and the default `auto` in the lab: the daemon answers the LAN from the
 * kernel (tcx on the veth uplink), with the same bytes as the socket path, only for targets
 * answerable now, and detaches at exit; `auto` falls back to the socket path, never fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { startCapture } from '../../src/lab/capture';
import { runInNamespace } from '../../src/lab/exec';
import { waitUntil } from '../../src/lab/wait';
import { answeredAtStop, DaemonProcess } from '../helpers/daemon-process';
import { EbpfPeer } from '../helpers/ebpf-lab';
import { isRoot, ICMP_ND_FILTER, ndPackets, pingOnce, pingUntil, runCli } from '../helpers/lab-tools';
import { ignoredSeries, METRICS_PORT, scrapeMetrics, waitForMetrics } from '../helpers/metrics';
import { sendFrames, solicitation } from '../helpers/solicitations';
import { toHex } from '../fixtures/hex';
import { formatIpv6, parseIpv6 } from '../../src/wire/address';
import { decodeAdvertisementFrame } from '../../src/wire/frame';
import { startNdCapture } from '../../src/lab/nd-capture';
import { lanNeighbourMac, plugUplink } from '../helpers/plug-uplink';
import { DEFAULT_MAX_TARGETS } from '../../src/wire/ebpf/fast-path-layout';

const skip = isRoot() ? false : 'needs root for network namespaces and bpf(2)';

const ANSWERED = 'ndp_responder_fast_path_answered_total';
/** The socket path's answers (the kernel's are path="bpf"). */
const SENT = 'ndp_responder_advertisements_sent_total{path="socket"}';
const PASSED = 'ndp_responder_fast_path_passed_total';
const KERNEL_SENT = 'ndp_responder_advertisements_sent_total{path="bpf"}';
const KERNEL_RECEIVED = 'ndp_responder_solicitations_received_total{path="bpf"}';

/** Program ids on the uplink's tcx ingress chain (BPF_PROG_QUERY from inside the host namespace). */
async function tcxPrograms(lab: Scenario): Promise<number[]> {
  const peer = new EbpfPeer(lab.host.ns, { ifname: 'eth0', queryOnly: true });
  const chain = await peer.next('tcx');
  await peer.exited;
  return chain.programIds as number[];
}

/** Send `frame` from the LAN and return the first NA from `source` captured on lan0 after it. */
async function answerFrom(lab: Scenario, frame: Uint8Array, source: string): Promise<Uint8Array | undefined> {
  const capture = await startCapture(lab.lan.ns, 'lan0', ICMP_ND_FILTER);
  await sendFrames(lab, [frame]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return ndPackets(await capture.stop()).find((p) => p.type === 136 && p.ipv6Source === source)?.data;
}

/** The NA answering for `target` is sourced from it (the default `--source target`). */
const answerTo = answerFrom;

/** The host uplink's link-local address, from the kernel. */
async function uplinkLinkLocal(lab: Scenario): Promise<string> {
  return waitUntil(
    async () => {
      const { stdout } = await runInNamespace(lab.host.ns, 'ip', ['-j', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
      return (JSON.parse(stdout) as { addr_info?: { local?: string }[] }[])[0]?.addr_info?.find((a) => a.local !== undefined)?.local;
    },
    { timeoutMs: 3000, description: 'a link-local address on eth0' },
  );
}

async function forget(lab: Scenario): Promise<void> {
  await runInNamespace(lab.lan.ns, 'ip', ['-6', 'neigh', 'flush', 'dev', 'lan0']);
}

describe('in-kernel fast path in the daemon (--fast-path)', { skip }, () => {
  let lab: Scenario;
  const daemons: DaemonProcess[] = [];
  const start = async (mode: string | undefined, extra: string[] = []): Promise<DaemonProcess> => {
    const args = [...extra, '--interface', 'eth0', '--target', lab.container.address, '--via', 'br0', '--metrics-listen', `127.0.0.1:${METRICS_PORT}`];
    await Promise.all(daemons.map((previous) => previous.stop('SIGKILL')));
    const d = new DaemonProcess(lab.host.ns, mode === undefined ? args : [...args, '--fast-path', mode]);
    daemons.push(d);
    await d.started();
    await d.waitForLog((r) => r.msg === 'route gained, answering', 5000, 'route gained');
    return d;
  };

  before(async () => {
    lab = await createScenario();
  });

  after(async () => {
    for (const d of daemons) d.kill();
    await lab?.destroy();
  });

  test('bpf: the LAN resolves and pings the container from kernel answers, byte-identical to the socket path; route loss and exit', async () => {
    const d = await start('bpf');
    const started = d.logs.find((r) => r.msg === 'started');
    assert.equal(started?.fastPath, 'bpf-tcx', 'tcx is the first choice on Linux 6.6+');
    assert.equal(started?.fastPathAttached, true);
    assert.equal((await tcxPrograms(lab)).length, 1, 'one program on the tcx ingress chain');

    assert.equal(await pingOnce(lab.lan.ns, lab.container.address), true, 'LAN ping to the container');
    const metric = await waitForMetrics(lab.host.ns, (m) => m(ANSWERED) >= 1, 'a kernel answer counted');
    assert.equal(metric(SENT), 0, 'the socket path sent nothing: the answer came from the kernel');

    const ns = solicitation(lab, lab.container.address);
    const kernelNa = await answerTo(lab, ns, lab.container.address);
    assert.ok(kernelNa !== undefined, 'the kernel answered the crafted NS');
    assert.equal((await scrapeMetrics(lab.host.ns))(SENT), 0);

    // A frame failing a §7.1.1 row is not answered in the kernel: it passes to the socket path, which counts its reason.
    const passedBefore = (await scrapeMetrics(lab.host.ns))(PASSED);
    assert.equal(await answerTo(lab, solicitation(lab, lab.container.address, { hopLimit: 64 }), lab.container.address), undefined);
    const afterBad = await waitForMetrics(lab.host.ns, (m) => m(ignoredSeries('bad-hop-limit')) >= 1, 'bad-hop-limit counted by the socket path');
    assert.equal(afterBad(PASSED), passedBefore + 1, 'passed on by the kernel');

    // Route lost: the target leaves the map, and nobody answers.
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'add', `${lab.container.address}/128`, 'dev', 'eth0']);
    await d.waitForLog((r) => r.msg === 'route lost, not answering', 3000, 'route lost');
    const before = (await scrapeMetrics(lab.host.ns))(ANSWERED);
    assert.equal(await answerTo(lab, ns, lab.container.address), undefined, 'no answer while routed out of the uplink');
    assert.equal((await scrapeMetrics(lab.host.ns))(ANSWERED), before, 'not answered in the kernel');
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'del', `${lab.container.address}/128`, 'dev', 'eth0']);
    await d.waitForLog((r) => r.msg === 'route gained, answering' && d.logs.some((x) => x.msg === 'route lost, not answering'), 3000, 'route regained');
    assert.ok((await answerTo(lab, ns, lab.container.address)) !== undefined, 'answered again');

    await d.stop();
    assert.deepEqual(await tcxPrograms(lab), [], 'SIGTERM detached the program');
    const stopped = d.logs.find((r) => r.msg === 'stopped');
    assert.equal(stopped?.advertised, 0, 'the stopped line: nothing from the socket path');
    assert.ok(Number(stopped?.fastPathAnswered) >= 3, `the stopped line counts the kernel's answers: ${JSON.stringify(stopped)}`);

    // The same NS through the socket path: the same NA, byte for byte.
    const socket = await start('socket');
    assert.equal(socket.logs.find((r) => r.msg === 'started')?.fastPath, 'socket');
    const socketNa = await answerTo(lab, ns, lab.container.address);
    assert.ok(socketNa !== undefined, 'the socket path answered');
    assert.equal(toHex(kernelNa), toHex(socketNa));
    assert.equal((await scrapeMetrics(lab.host.ns))(SENT) >= 1, true);
    await socket.stop();
  });

  test('auto: picks the kernel path here, and the LAN pings the container', async () => {
    await forget(lab);
    const d = await start('auto');
    assert.equal(d.logs.find((r) => r.msg === 'started')?.fastPath, 'bpf-tcx');
    assert.equal(await pingOnce(lab.lan.ns, lab.container.address), true);
    await waitForMetrics(lab.host.ns, (m) => m(ANSWERED) >= 1, 'a kernel answer counted');
    await d.stop();
  });

  test('bpf: a daemon killed with SIGKILL leaves nothing on the uplink; the next start attaches exactly one program', async () => {
    const first = await start('bpf');
    assert.equal((await tcxPrograms(lab)).length, 1);
    await first.stop('SIGKILL');
    // Nothing is pinned: the link, program and maps die with the process's fds.
    assert.deepEqual(await waitUntil(async () => ((await tcxPrograms(lab)).length === 0 ? [] : undefined), { timeoutMs: 3000, description: 'an empty tcx chain' }), []);
    await start('bpf');
    assert.equal((await tcxPrograms(lab)).length, 1, 'one program, not two');
    await forget(lab);
    assert.equal(await pingOnce(lab.lan.ns, lab.container.address), true);
  });

  test('bpf beside another tcx program on the uplink: ours goes first, theirs still sees every frame we do not answer, and stays when we exit', async () => {
    await Promise.all(daemons.map((previous) => previous.stop('SIGKILL')));
    // Someone else's classifier: the counting variant (it counts NS for the container, answers nothing).
    const other = new EbpfPeer(lab.host.ns, { ifname: 'eth0', hook: 'tc', answer: false, targets: [lab.container.address] });
    const attached = await other.next('attached');
    try {
      const d = await start('bpf');
      const chain = await tcxPrograms(lab);
      assert.equal(chain.length, 2, 'both on the chain');
      assert.equal(chain[1], attached.programId, 'theirs after ours');
      // A DAD probe is not answered in the kernel: it goes on down the chain, past their program.
      const probe = solicitation(lab, lab.container.address, { ipv6Source: parseIpv6('::'), solicitation: { target: parseIpv6(lab.container.address), options: [] } });
      const before = await other.ask('counters');
      await sendFrames(lab, [probe]);
      await waitUntil(async () => (Number((await other.ask('counters')).matched) > Number(before.matched) ? true : undefined), { timeoutMs: 3000, description: 'their program saw the passed frame' });
      await d.stop();
      assert.deepEqual(await tcxPrograms(lab), [attached.programId], 'ours detached, theirs left in place');
    } finally {
      await other.kill('SIGKILL');
    }
  });

  test('bpf: a recreated uplink (new ifindex and MAC) gets the program again, and the kernel answers with the new MAC', async () => {
    const d = await start('bpf');
    const firstIfindex = d.logs.find((r) => r.msg === 'answering in the kernel for single-address targets')?.ifindex;
    await runInNamespace(lab.host.ns, 'ip', ['link', 'del', 'eth0']);
    await d.waitForLog((r) => r.msg === 'link down' || r.msg === 'link removed, waiting for it', 3000, 'link down or removed');
    await plugUplink(lab, 'eth0', '02:00:00:00:71:b7');
    const attached = await d.waitForLog((r) => r.msg === 'fast path attached', 3000, 'fast path attached again');
    assert.notEqual(attached.ifindex, firstIfindex, 'a new ifindex');
    const before = (await scrapeMetrics(lab.host.ns))(ANSWERED);
    assert.ok((await pingUntil(lab.lan.ns, lab.container.address, 2000)) !== undefined, 'container reachable through the new uplink');
    assert.equal(await lanNeighbourMac(lab, lab.container.address), '02:00:00:00:71:b7', 'the NA carried the new MAC');
    const after = await scrapeMetrics(lab.host.ns);
    assert.ok(after(ANSWERED) > before, 'answered in the kernel');
    assert.equal(after(SENT), 0);
    await d.stop();
  });

  test('bpf with --source link-local: the kernel answers from the uplink\'s link-local address, the same bytes as the socket path', async () => {
    await forget(lab);
    const linkLocal = await uplinkLinkLocal(lab);
    const d = await start('bpf', ['--source', 'link-local']);
    const ns = solicitation(lab, lab.container.address);
    const kernelNa = await answerFrom(lab, ns, linkLocal);
    assert.ok(kernelNa !== undefined, `an NA from ${linkLocal}`);
    const metric = await waitForMetrics(lab.host.ns, (m) => m(ANSWERED) >= 1, 'a kernel answer counted');
    assert.equal(metric(SENT), 0, 'none from the socket path');
    assert.equal(await pingOnce(lab.lan.ns, lab.container.address), true);
    await d.stop();
    const socket = await start('socket', ['--source', 'link-local']);
    const socketNa = await answerFrom(lab, ns, linkLocal);
    assert.ok(socketNa !== undefined);
    assert.equal(toHex(kernelNa), toHex(socketNa));
    await socket.stop();
  });

  test('bpf with the container subnet as the target: the kernel answers inside the prefix, never for the host\'s own address in it', async () => {
    await forget(lab);
    await Promise.all(daemons.map((previous) => previous.stop('SIGKILL')));
    const d = new DaemonProcess(lab.host.ns, ['--interface', 'eth0', '--target', lab.container.subnet, '--via', 'br0', '--metrics-listen', `127.0.0.1:${METRICS_PORT}`, '--fast-path', 'bpf']);
    daemons.push(d);
    await d.started();
    await d.waitForLog((r) => r.msg === 'route gained, answering', 5000, 'route gained');
    const before = await scrapeMetrics(lab.host.ns);
    assert.equal(await pingOnce(lab.lan.ns, lab.container.address), true, 'LAN ping to the container');
    const after = await waitForMetrics(lab.host.ns, (m) => m(ANSWERED) > before(ANSWERED), 'a kernel answer for an address inside the prefix');
    assert.equal(after(SENT), before(SENT), 'none from the socket path');
    // The bridge's address is the host's own, inside the prefix: the kernel leaves it to the socket
    // path, which ignores it (the host's kernel answers for its own addresses where it has them).
    assert.equal(await answerTo(lab, solicitation(lab, lab.container.gateway), lab.container.gateway), undefined, 'no NA for the host\'s own address');
    const last = await waitForMetrics(lab.host.ns, (m) => m(ignoredSeries('own-address', 'socket')) > before(ignoredSeries('own-address', 'socket')), 'own-address counted by the socket path');
    assert.equal(last(ANSWERED), after(ANSWERED), 'not answered in the kernel');
    await d.stop();
  });

  test('bpf: the default per-flow limit holds in the kernel (burst 20 per flow), limited NS are dropped and counted', async () => {
    await forget(lab);
    await start('bpf');
    const before = await scrapeMetrics(lab.host.ns);
    // Two flows (two LAN sources), 60 NS each, sent in one burst: each flow gets its burst.
    const flows = [lab.lan.address, '2001:db8::1:77'].map((source) => Array.from({ length: 60 }, () => solicitation(lab, lab.container.address, { ipv6Source: parseIpv6(source) })));
    // Our own packet socket on the LAN (tcpdump's ring drops frames of a burst this dense).
    const capture = await startNdCapture(lab.lan.ns, 'lan0', 'advertisements', lab.container.address);
    await sendFrames(lab, flows.flat());
    const after = await waitForMetrics(
      lab.host.ns,
      (m) => m(KERNEL_RECEIVED) - before(KERNEL_RECEIVED) >= 120,
      'all 120 NS answered or limited in the kernel',
    );
    const packets = (await capture.stop({ settleMs: 300 })).map((frame) => decodeAdvertisementFrame(frame.data).ipv6);
    const answered = after(KERNEL_SENT) - before(KERNEL_SENT);
    const limited = after(ignoredSeries('rate-limited', 'bpf')) - before(ignoredSeries('rate-limited', 'bpf'));
    // 20 per flow at once, plus at most one refill each (10/s) while the burst is sent.
    assert.ok(answered >= 40 && answered <= 42, `${answered} answered in the kernel`);
    assert.equal(limited, 120 - answered, 'the rest refused by the limit');
    assert.equal(packets.length, answered, 'the LAN saw exactly the admitted answers');
    for (const destination of [lab.lan.address, '2001:db8::1:77']) {
      const n = packets.filter((p) => formatIpv6(p.destination) === destination).length;
      assert.ok(n >= 20 && n <= 21, `${n} answers to ${destination}: one flow's burst`);
    }
    assert.equal(after(SENT) - before(SENT), 0, 'nothing from the socket path');
    assert.equal(after(ignoredSeries('rate-limited', 'socket')) - before(ignoredSeries('rate-limited', 'socket')), 0);
  });

  test('bpf: a SIGHUP reload that drops the target takes it out of the kernel map', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ndp-fast-'));
    const file = join(dir, 'config.yaml');
    const write = (targets: string[], router = false): void =>
      writeFileSync(file, `interface: eth0\nvia: br0\nfast-path: bpf\nrouter: ${router}\ntargets:\n${targets.map((t) => `  - ${t}\n`).join('')}`);
    try {
      write([lab.container.address]);
      await Promise.all(daemons.map((previous) => previous.stop('SIGKILL')));
      const d = new DaemonProcess(lab.host.ns, ['--config', file, '--metrics-listen', `127.0.0.1:${METRICS_PORT}`]);
      daemons.push(d);
      assert.equal((await d.started()).fastPath, 'bpf-tcx', 'fast-path from the file');
      const ns = solicitation(lab, lab.container.address);
      const first = await answerTo(lab, ns, lab.container.address);
      assert.equal(first === undefined ? undefined : decodeAdvertisementFrame(first).advertisement.router, false, 'answered before the reload, R=0');
      // A reload that sets R: the kernel's next NA carries it.
      write([lab.container.address], true);
      d.signal('SIGHUP');
      await d.waitForLog((r) => r.msg === 'reloaded', 3000, 'reloaded');
      const kernelBefore = (await scrapeMetrics(lab.host.ns))(ANSWERED);
      const second = await answerTo(lab, ns, lab.container.address);
      assert.equal(second === undefined ? undefined : decodeAdvertisementFrame(second).advertisement.router, true, 'R=1 after the reload');
      assert.ok((await scrapeMetrics(lab.host.ns))(ANSWERED) > kernelBefore, 'answered in the kernel');
      write(['2001:db8::a:71a4']);
      d.signal('SIGHUP');
      await d.waitForLog((r) => r.msg === 'reloaded' && d.logs.filter((x) => x.msg === 'reloaded').length === 2, 3000, 'reloaded again');
      const before = (await scrapeMetrics(lab.host.ns))(ANSWERED);
      assert.equal(await answerTo(lab, ns, lab.container.address), undefined, 'silent once the target is gone');
      assert.equal((await scrapeMetrics(lab.host.ns))(ANSWERED), before);
      await d.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('default (auto): the kernel path here; the started line and check say so, and the LAN pings the container', async () => {
    await forget(lab);
    const d = await start(undefined);
    assert.equal(d.logs.find((r) => r.msg === 'started')?.fastPath, 'bpf-tcx');
    assert.equal((await tcxPrograms(lab)).length, 1, 'one program on the tcx ingress chain');
    const checked = await runCli(['check', '--interface', 'eth0', '--target', lab.container.address, '--via', 'br0'], { prefix: ['ip', 'netns', 'exec', lab.host.ns] });
    assert.match(checked.stdout, /^ok +fast-path +run would answer in the kernel \(bpf-tcx\)/m);
    assert.equal(await pingOnce(lab.lan.ns, lab.container.address), true);
    const metric = await waitForMetrics(lab.host.ns, (m) => m(ANSWERED) >= 1, 'a kernel answer counted');
    assert.equal(metric(SENT), 0, 'answered in the kernel, not from the socket');
    await d.stop();
    assert.ok(answeredAtStop(d.logs.find((r) => r.msg === 'stopped')) >= 1);
  });

  test('default (auto) without CAP_BPF: one info line and the socket path answers; check says so; bpf there exits 3', async () => {
    await forget(lab);
    // Root without CAP_BPF and CAP_SYS_ADMIN: bpf(BPF_MAP_CREATE) and BPF_PROG_LOAD are refused.
    const noBpf = ['setpriv', '--inh-caps=-bpf,-sys_admin', '--bounding-set=-bpf,-sys_admin'];
    await Promise.all(daemons.map((previous) => previous.stop('SIGKILL')));
    const d = new DaemonProcess(lab.host.ns, ['--interface', 'eth0', '--target', lab.container.address, '--via', 'br0', '--metrics-listen', `127.0.0.1:${METRICS_PORT}`], noBpf);
    daemons.push(d);
    assert.equal((await d.started()).fastPath, 'socket');
    const fallback = d.logs.filter((r) => r.msg === 'fast path unavailable, answering from the socket');
    assert.equal(fallback.length, 1, 'one line');
    assert.equal(fallback[0]?.level, 30, 'at info level');
    assert.match(String(fallback[0]?.reason), /needs CAP_BPF and CAP_NET_ADMIN/);
    assert.deepEqual(d.logs.filter((r) => Number(r.level) >= 40 && r.module === 'fast-path'), [], 'no warning or error about it');
    await d.waitForLog((r) => r.msg === 'route gained, answering', 5000, 'route gained');
    assert.deepEqual(await tcxPrograms(lab), [], 'nothing attached');
    assert.equal(await pingOnce(lab.lan.ns, lab.container.address), true, 'LAN ping to the container');
    await waitForMetrics(lab.host.ns, (m) => m(SENT) >= 1, 'a socket answer counted');
    await d.stop();

    const prefix = ['ip', 'netns', 'exec', lab.host.ns, ...noBpf];
    const checked = await runCli(['check', '--interface', 'eth0', '--target', lab.container.address, '--via', 'br0'], { prefix });
    assert.match(checked.stdout, /^ok +fast-path +run would answer from the socket: the in-kernel path is unavailable \(missing CAP_BPF/m);
    const bpf = await runCli(['run', '--interface', 'eth0', '--target', lab.container.address, '--via', 'br0', '--fast-path', 'bpf'], { prefix });
    assert.equal(bpf.code, 3, bpf.stderr);
    assert.match(bpf.stderr, /^ndp-responder: missing privileges: --fast-path bpf needs CAP_BPF and CAP_NET_ADMIN[^\n]*\n$/);
  });

  test('default (auto) with --wait-for-interface and no uplink at start: loaded at start, attached when the uplink appears, the kernel answers', async () => {
    await Promise.all(daemons.map((previous) => previous.stop('SIGKILL')));
    const d = new DaemonProcess(lab.host.ns, ['--interface', 'up9', '--wait-for-interface', '--target', lab.container.address, '--via', 'br0', '--metrics-listen', `127.0.0.1:${METRICS_PORT}`]);
    daemons.push(d);
    const started = await d.started();
    assert.equal(started.fastPath, 'bpf-tcx', 'the program loads without a device');
    assert.equal(started.fastPathAttached, false, 'and says it is not attached yet');
    await d.waitForLog((r) => r.msg === 'waiting for interface', 2000, 'waiting for interface');
    await runInNamespace(lab.host.ns, 'ip', ['link', 'del', 'eth0']); // frees lan0 in the LAN namespace
    try {
      await plugUplink(lab, 'up9', '02:00:00:00:09:09');
      const attached = await d.waitForLog((r) => r.msg === 'fast path attached', 3000, 'fast path attached');
      const { stdout } = await runInNamespace(lab.host.ns, 'ip', ['-o', 'link', 'show', 'up9']);
      assert.equal(attached.ifindex, Number(/^(\d+):/.exec(stdout)?.[1]), 'on the new uplink');
      await forget(lab);
      assert.ok((await pingUntil(lab.lan.ns, lab.container.address, 3000)) !== undefined, 'container reachable through up9');
      const metric = await waitForMetrics(lab.host.ns, (m) => m(ANSWERED) >= 1, 'a kernel answer counted');
      assert.equal(metric(SENT), 0, 'answered in the kernel, not from the socket');
      assert.deepEqual(d.logs.filter((r) => Number(r.level) >= 40 && r.module === 'fast-path'), [], 'no warning about the fast path');
      assert.equal((await d.stop()).code, 0, d.stderr);
    } finally {
      await runInNamespace(lab.host.ns, 'ip', ['link', 'del', 'up9']).catch(() => undefined);
      await plugUplink(lab, 'eth0', lab.host.uplinkMac);
    }
  });

  test(`default (auto) with more single-address targets than the kernel map holds (${DEFAULT_MAX_TARGETS}): one info line, the rest answered from the socket`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ndp-fast-'));
    const file = join(dir, 'config.yaml');
    const count = DEFAULT_MAX_TARGETS + 4;
    const targets = Array.from({ length: count }, (_, i) => `2001:db8:5::${(i + 1).toString(16)}`);
    writeFileSync(file, `interface: eth0\nvia: br0\ntargets:\n${targets.map((t) => `  - ${t}\n`).join('')}`);
    await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'add', '2001:db8:5::/112', 'dev', 'br0']);
    try {
      await Promise.all(daemons.map((previous) => previous.stop('SIGKILL')));
      const d = new DaemonProcess(lab.host.ns, ['--config', file, '--metrics-listen', `127.0.0.1:${METRICS_PORT}`]);
      daemons.push(d);
      assert.equal((await d.started()).fastPath, 'bpf-tcx');
      const full = await d.waitForLog((r) => r.msg === 'fast path map full, answering the rest from the socket', 10_000, 'map full');
      assert.equal(full.level, 30, 'at info level');
      assert.deepEqual({ inKernel: full.inKernel, fromSocket: full.fromSocket }, { inKernel: DEFAULT_MAX_TARGETS, fromSocket: 4 });
      await d.waitForLog((r) => r.msg === 'metrics listening', 5000, 'metrics listening');
      const before = await scrapeMetrics(lab.host.ns);
      // The first target went into the map, the last did not: one answer from each path.
      for (const target of [targets[0]!, targets.at(-1)!]) assert.ok((await answerTo(lab, solicitation(lab, target), target)) !== undefined, `${target} answered`);
      const after = await scrapeMetrics(lab.host.ns);
      assert.equal(after(ANSWERED) - before(ANSWERED), 1, 'one answered in the kernel');
      assert.equal(after(SENT) - before(SENT), 1, 'one answered from the socket');
      assert.equal(d.logs.filter((r) => r.msg === 'fast path map full, answering the rest from the socket').length, 1, 'said once');
      assert.equal((await d.stop()).code, 0, d.stderr);
    } finally {
      await runInNamespace(lab.host.ns, 'ip', ['-6', 'route', 'del', '2001:db8:5::/112', 'dev', 'br0']);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
