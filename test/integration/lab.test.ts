import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCapture } from '../../src/lab/capture';
import { ND_CAPTURE_FILTER, summarizeNd, type NdSummary } from '../../src/lab/nd-summary';
import { enableKernelProxy, flushNeighbours, neighbourEntry } from '../../src/lab/neighbours';
import { spawnInNamespace } from '../../src/lab/exec';
import { ipv6Addresses, linkDetails, listNamespaces, namespacePids, setLink, sysctl } from '../../src/lab/netns';
import { ping } from '../../src/lab/ping';
import type { PcapPacket } from '../../src/lab/pcap';
import { createScenario, destroyAllScenarios, liveScenarios, type Scenario } from '../../src/lab/topology';
import { waitUntil } from '../../src/lab/wait';

const skip = process.getuid?.() === 0 ? false : 'needs root to create network namespaces (run the suite as root)';
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** NS and NA frames in a capture, decoded. */
function ndFrames(packets: readonly PcapPacket[]): NdSummary[] {
  return packets.flatMap((p) => summarizeNd(p.data) ?? []);
}

/** One-line form of ND frames for assertion messages. */
function show(frames: readonly NdSummary[]): string {
  return frames.map((f) => `${f.kind} ${f.source} > ${f.destination} target ${f.target}`).join('; ') || 'nothing';
}

describe('lab scenario: kernel peers in throwaway namespaces', { skip }, () => {
  let lab: Scenario;

  before(async () => {
    lab = await createScenario();
  });

  after(async () => {
    await lab?.destroy();
  });

  test('builds the scenario: host routes, no kernel proxy, container reachable from the host', async () => {
    assert.match(lab.prefix, /^ndp[0-9a-f]{8}$/);
    assert.match(lab.lan.mac, MAC);
    assert.match(lab.host.uplinkMac, MAC);
    assert.notEqual(lab.lan.mac, lab.host.uplinkMac);
    assert.match(lab.host.linkLocal, /^fe80::/);
    assert.equal((await linkDetails(lab.host.ns, 'eth0')).ifindex, lab.host.uplinkIfindex);
    assert.equal(await sysctl(lab.host.ns, 'net.ipv6.conf.all.forwarding'), '1');
    assert.equal(await sysctl(lab.host.ns, 'net.ipv6.conf.all.proxy_ndp'), '0');
    assert.equal(await sysctl(lab.host.ns, 'net.ipv6.conf.eth0.proxy_ndp'), '0');
    const fromHost = await ping(lab.host.ns, lab.container.address);
    assert.equal(fromHost.ok, true, fromHost.output);
    const lanToHost = await ping(lab.lan.ns, lab.host.uplinkAddress);
    assert.equal(lanToHost.ok, true, lanToHost.output);
  });

  test('without a proxy the LAN cannot resolve the container: NS on the wire, no NA', async () => {
    await flushNeighbours(lab.lan.ns, lab.lan.ifname);
    const capture = await startCapture(lab.lan.ns, lab.lan.ifname, ND_CAPTURE_FILTER);
    const result = await ping(lab.lan.ns, lab.container.address, { count: 1, timeoutSeconds: 1 });
    const frames = ndFrames(await capture.stop());
    assert.equal(result.ok, false, result.output);
    const solicitation = frames.find((f) => f.kind === 'NS' && f.target === lab.container.address);
    assert.ok(solicitation, `expected an NS for the container, saw ${show(frames)}`);
    assert.equal(solicitation.source, lab.lan.address);
    assert.equal(solicitation.destination, 'ff02::1:ff0a:71a5');
    assert.equal(solicitation.ethernetDestination, '33:33:ff:0a:71:a5');
    assert.equal(solicitation.hopLimit, 255);
    const answers = frames.filter((f) => f.kind === 'NA' && f.target === lab.container.address);
    assert.equal(answers.length, 0, `nobody may answer yet, saw ${show(frames)}`);
    const entry = await neighbourEntry(lab.lan.ns, lab.container.address, lab.lan.ifname);
    assert.match(entry?.state ?? 'none', /INCOMPLETE|FAILED|none/);
  });

  test('kernel proxy_ndp (proxy_delay=0) answers, so the topology forwards and only lacked an answer', async () => {
    const undo = await enableKernelProxy(lab.host.ns, lab.host.uplink, [lab.container.address]);
    try {
      // A leftover INCOMPLETE entry would hold the ping until its next retransmission.
      await flushNeighbours(lab.lan.ns, lab.lan.ifname);
      const capture = await startCapture(lab.lan.ns, lab.lan.ifname, ND_CAPTURE_FILTER);
      const result = await ping(lab.lan.ns, lab.container.address, { count: 1, timeoutSeconds: 1 });
      const packets = await capture.stop();
      assert.equal(result.ok, true, result.output);
      const frames = ndFrames(packets);
      const answer = frames.find((f) => f.kind === 'NA' && f.target === lab.container.address);
      assert.ok(answer, `expected the kernel's NA, saw ${show(frames)}`);
      assert.equal(answer.ethernetSource, lab.host.uplinkMac);
      assert.equal(answer.destination, lab.lan.address);
      assert.equal(answer.flags.solicited, true);
      const entry = await neighbourEntry(lab.lan.ns, lab.container.address, lab.lan.ifname);
      assert.equal(entry?.mac, lab.host.uplinkMac);
    } finally {
      await undo();
    }
    assert.equal(await sysctl(lab.host.ns, 'net.ipv6.conf.eth0.proxy_ndp'), '0', 'undo restores proxy_ndp');
  });

  test('setLink flaps the uplink; static addresses survive and the LAN reaches the host again', async () => {
    await setLink(lab.host.ns, lab.host.uplink, 'down');
    assert.equal((await linkDetails(lab.host.ns, lab.host.uplink)).operstate, 'DOWN');
    await setLink(lab.host.ns, lab.host.uplink, 'up');
    await waitUntil(async () => (await linkDetails(lab.host.ns, lab.host.uplink)).operstate === 'UP', {
      timeoutMs: 5000,
      description: 'uplink operstate UP',
    });
    await flushNeighbours(lab.lan.ns, lab.lan.ifname);
    const result = await ping(lab.lan.ns, lab.host.uplinkAddress);
    assert.equal(result.ok, true, result.output);
  });
});

describe('lab lifecycle', { skip }, () => {
  test('lanSources adds deprecated LAN addresses; destroy removes the namespaces and is idempotent', async () => {
    const lab = await createScenario({ lanSources: 2 });
    try {
      assert.deepEqual(lab.lanSources, ['2001:db8::1:1', '2001:db8::1:2']);
      const global = await ipv6Addresses(lab.lan.ns, lab.lan.ifname, 'global');
      assert.deepEqual([...global].sort(), [lab.lan.address, ...lab.lanSources].sort());
      const fromSource = await ping(lab.lan.ns, lab.host.uplinkAddress, { source: '2001:db8::1:2' });
      assert.equal(fromSource.ok, true, fromSource.output);
      assert.match(fromSource.output, /from 2001:db8::1:2/);
      assert.ok((await listNamespaces()).includes(lab.namespaces.host));
    } finally {
      await lab.destroy();
      await lab.destroy();
    }
    const names = await listNamespaces();
    for (const name of Object.values(lab.namespaces)) assert.ok(!names.includes(name), `${name} still listed`);
    assert.ok(!liveScenarios().includes(lab));
  });

  test('destroy stops processes still running in the namespaces (they would keep the links alive)', async () => {
    const lab = await createScenario();
    const sleeper = spawnInNamespace(lab.host.ns, 'sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => sleeper.once('exit', (_code, signal) => resolve(signal)));
    await waitUntil(async () => (await namespacePids(lab.host.ns)).includes(sleeper.pid ?? -1), {
      timeoutMs: 2000,
      description: 'sleep running in the host namespace',
    });
    await lab.destroy();
    assert.equal(await exited, 'SIGTERM');
    assert.ok(!(await listNamespaces()).includes(lab.namespaces.host));
  });

  test('destroyAllScenarios removes every scenario this process still holds', async () => {
    const first = await createScenario();
    const second = await createScenario();
    assert.notEqual(first.prefix, second.prefix);
    await destroyAllScenarios();
    const names = await listNamespaces();
    for (const name of [...Object.values(first.namespaces), ...Object.values(second.namespaces)]) {
      assert.ok(!names.includes(name), `${name} still listed`);
    }
    assert.equal(liveScenarios().length, 0);
  });

  test('a prefix already in use fails without touching the namespaces that hold it', async () => {
    const lab = await createScenario();
    try {
      await assert.rejects(createScenario({ prefix: lab.prefix }), /netns add/);
      const names = await listNamespaces();
      for (const name of Object.values(lab.namespaces)) assert.ok(names.includes(name), `${name} was deleted`);
      assert.equal((await ping(lab.host.ns, lab.container.address)).ok, true);
    } finally {
      await lab.destroy();
    }
  });

  test('a bad prefix is refused before anything is created', async () => {
    await assert.rejects(createScenario({ prefix: 'has space' }), /prefix/);
    await assert.rejects(createScenario({ prefix: 'x'.repeat(16) }), /prefix/);
  });
});
