/**
 * `--fast-path bpf` in the lab: the daemon answers the LAN from the kernel (tcx on the veth
 * uplink), with the same bytes as the socket path, only for targets answerable now, and
 * detaches at exit.
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
import { DaemonProcess } from '../helpers/daemon-process';
import { EbpfPeer } from '../helpers/ebpf-lab';
import { isRoot, ICMP_ND_FILTER, ndPackets, pingOnce, pingUntil } from '../helpers/lab-tools';
import { ignoredSeries, METRICS_PORT, scrapeMetrics, waitForMetrics } from '../helpers/metrics';
import { sendFrames, solicitation } from '../helpers/solicitations';
import { toHex } from '../fixtures/hex';
import { formatIpv6, parseIpv6 } from '../../src/wire/address';
import { decodeAdvertisementFrame } from '../../src/wire/frame';
import { startNdCapture } from '../../src/lab/nd-capture';
import { lanNeighbourMac, plugUplink } from '../helpers/plug-uplink';

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
    const write = (targets: string[]): void =>
      writeFileSync(file, `interface: eth0\nvia: br0\nfast-path: bpf\ntargets:\n${targets.map((t) => `  - ${t}\n`).join('')}`);
    try {
      write([lab.container.address]);
      await Promise.all(daemons.map((previous) => previous.stop('SIGKILL')));
      const d = new DaemonProcess(lab.host.ns, ['--config', file, '--metrics-listen', `127.0.0.1:${METRICS_PORT}`]);
      daemons.push(d);
      assert.equal((await d.started()).fastPath, 'bpf-tcx', 'fast-path from the file');
      const ns = solicitation(lab, lab.container.address);
      assert.ok((await answerTo(lab, ns, lab.container.address)) !== undefined, 'answered before the reload');
      write(['2001:db8::a:71a4']);
      d.signal('SIGHUP');
      await d.waitForLog((r) => r.msg === 'reloaded', 3000, 'reloaded');
      const before = (await scrapeMetrics(lab.host.ns))(ANSWERED);
      assert.equal(await answerTo(lab, ns, lab.container.address), undefined, 'silent once the target is gone');
      assert.equal((await scrapeMetrics(lab.host.ns))(ANSWERED), before);
      await d.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('default: the socket path (in-kernel answers have no answer limits)', async () => {
    await forget(lab);
    const d = await start(undefined);
    assert.equal(d.logs.find((r) => r.msg === 'started')?.fastPath, 'socket');
    assert.equal(await pingOnce(lab.lan.ns, lab.container.address), true);
    const metric = await waitForMetrics(lab.host.ns, (m) => m(SENT) >= 1, 'a socket answer counted');
    assert.equal(metric(ANSWERED), 0);
    await d.stop();
  });
});
