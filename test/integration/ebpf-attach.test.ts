/**
 * The generated NS program attached to a veth in throwaway namespaces, through
 * XDP links (native and generic) and tcx. The lan side's own kernel resolves
 * the target: its neighbour entry gets the host's MAC only if our NA reached it
 * and passed its checks. Also: links never replace a program, closing a link
 * detaches, and a killed process leaves nothing attached. Root only.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { linkExists } from '../../src/io/bpf-link';
import { nativeBpf } from '../../src/io/native';
import { ANSWERER, TARGET, solicitationFor } from '../helpers/ebpf-frames';
import { EbpfLab } from '../helpers/ebpf-lab';

const skip = process.getuid?.() === 0 ? false : 'needs root: creates network namespaces and attaches eBPF programs';

const answering = (hook: 'xdp' | 'tc', extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ifname: 'hb0',
  hook,
  answer: true,
  targets: [TARGET],
  ...extra,
});

/** Whether a program with this id still exists anywhere (BPF_PROG_GET_FD_BY_ID). */
function programExists(id: number): boolean {
  try {
    nativeBpf().bpfClose(nativeBpf().bpfGetFdById(0, id));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return false;
    throw error;
  }
}

/** Polls `probe` for up to 2 s: freeing a program after its last reference is deferred (RCU). */
async function eventually(probe: () => boolean): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return probe();
}

describe('generated NS program attached to a veth', { skip }, () => {
  let lab: EbpfLab;
  before(async () => {
    lab = await EbpfLab.create('a');
  });
  afterEach(async () => lab?.stopPeers());
  after(async () => lab?.destroy());

  it('XDP native on hb0 alone: XDP_TX frames are dropped, because the peer veth runs no XDP (no NAPI ring)', async () => {
    const { peer } = await lab.peer(lab.host, answering('xdp', { xdpMode: 'native' }));
    assert.equal((await lab.hostXdp()).mode, 1, 'attached in native (driver) mode');
    const entry = await lab.resolveTarget({ attempts: 1, waitMs: 1200 });
    const counters = await peer.ask('counters');
    assert.ok((counters.answered as number) >= 1, `the program answered: ${JSON.stringify(counters)}`);
    assert.equal(entry?.mac, undefined, 'but no NA reached the lan side');
    await peer.kill();
  });

  it('XDP native on hb0 with an XDP program on the peer la0: answered', async () => {
    const { peer: passer } = await lab.peer(lab.lan, { ifname: 'la0', passOnly: true, xdpMode: 'native' });
    const { peer } = await lab.peer(lab.host, answering('xdp', { xdpMode: 'native' }));
    const entry = await lab.resolveTarget();
    assert.equal(entry?.mac, ANSWERER.mac, `lan neighbour entry: ${JSON.stringify(entry)}`);
    assert.match(entry?.state ?? '', /REACHABLE/, 'solicited NA: the entry is confirmed');
    const counters = await peer.ask('counters');
    assert.ok((counters.answered as number) >= 1 && counters.deferred === 0, JSON.stringify(counters));
    await peer.kill();
    await passer.kill();
  });

  it('XDP generic (skb mode) on hb0: answered, no peer program needed', async () => {
    const { peer } = await lab.peer(lab.host, answering('xdp', { xdpMode: 'generic' }));
    assert.equal((await lab.hostXdp()).mode, 2, 'attached in generic mode');
    const entry = await lab.resolveTarget();
    assert.equal(entry?.mac, ANSWERER.mac, `lan neighbour entry: ${JSON.stringify(entry)}`);
    await peer.kill();
  });

  it('tcx ingress on hb0: answered by a redirect to its own egress', async () => {
    const { peer } = await lab.peer(lab.host, answering('tc'));
    const entry = await lab.resolveTarget();
    assert.equal(entry?.mac, ANSWERER.mac, `lan neighbour entry: ${JSON.stringify(entry)}`);
    assert.equal((await peer.ask('counters')).deferred, 0);
    await peer.kill();
  });

  it('counting only (XDP native): NS from the lan kernel are counted and none is answered', async () => {
    const { peer } = await lab.peer(lab.host, answering('xdp', { answer: false, xdpMode: 'native' }));
    const entry = await lab.resolveTarget({ attempts: 1, waitMs: 1200 });
    assert.equal(entry?.mac, undefined, 'nobody answers');
    const counters = await peer.ask('counters');
    assert.ok((counters.matched as number) >= 1 && counters.answered === 0, JSON.stringify(counters));
    await peer.kill();
  });

  for (const hook of ['xdp', 'tc'] as const) {
    it(`counting only (${hook === 'xdp' ? 'XDP native' : 'tcx'}): raw frames from the lan are counted exactly when they match`, async () => {
      const { peer } = await lab.peer(lab.host, answering(hook, { answer: false, ...(hook === 'xdp' ? { xdpMode: 'native' } : {}) }));
      const valid = solicitationFor(TARGET);
      const hopLimit64 = solicitationFor(TARGET, { hopLimit: 64 });
      const otherTarget = solicitationFor('2001:db8::3');
      await lab.sendFrames([valid, hopLimit64, otherTarget, valid]);
      let counters = await peer.ask('counters');
      // Matched: an NS for a served target (the socket filter's rows); the hop limit is a §7.1.1
      // row, which only the answering program applies (and then defers to userspace).
      for (let i = 0; i < 20 && counters.matched !== 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        counters = await peer.ask('counters');
      }
      assert.deepEqual({ matched: counters.matched, answered: counters.answered, deferred: counters.deferred, limited: counters.limited }, { matched: 3, answered: 0, deferred: 0, limited: 0 });
      await peer.kill();
    });
  }

  it('a second XDP link is refused with EBUSY and the first keeps answering', async () => {
    const { peer: first, attached } = await lab.peer(lab.host, answering('xdp', { xdpMode: 'generic' }));
    const { peer: second, attached: refused } = await lab.peer(lab.host, answering('xdp', { xdpMode: 'generic' }));
    assert.equal(refused.event, 'error');
    assert.equal(refused.code, 'EBUSY');
    assert.match(String(refused.message), /another XDP program is attached to ifindex \d+; it is not ours, so it was left in place/);
    await second.exited;
    assert.equal((await lab.hostXdp()).programId, attached.programId, 'the first program is still attached');
    assert.equal((await lab.resolveTarget())?.mac, ANSWERER.mac);
    await first.kill();
  });

  it('tcx links stack: a second program joins the chain, and each leaves with its link', async () => {
    const { peer: first, attached: one } = await lab.peer(lab.host, answering('tc'));
    const { peer: second, attached: two } = await lab.peer(lab.host, answering('tc'));
    const chain = await first.ask('tcx');
    assert.deepEqual(chain.programIds, [two.programId, one.programId], 'both attached, the newer first');
    await second.ask('detach', 'detached');
    assert.deepEqual((await first.ask('tcx')).programIds, [one.programId]);
    assert.equal((await lab.resolveTarget())?.mac, ANSWERER.mac, 'the remaining program still answers');
    await first.kill();
    await second.kill();
  });

  it('closing the XDP link detaches the program at once', async () => {
    const { peer, attached } = await lab.peer(lab.host, answering('xdp', { xdpMode: 'generic' }));
    assert.equal((await lab.hostXdp()).programId, attached.programId);
    await peer.ask('detach', 'detached');
    assert.deepEqual(await lab.hostXdp(), {}, 'ip link shows no XDP program');
    assert.equal(linkExists(attached.linkId as number), false, 'the link is gone');
    assert.equal((await lab.resolveTarget({ attempts: 1, waitMs: 1200 }))?.mac, undefined, 'nobody answers any more');
    await peer.kill();
  });

  for (const [name, hook, mode] of [
    ['XDP native', 'xdp', 'native'],
    ['XDP generic', 'xdp', 'generic'],
    ['tcx', 'tc', undefined],
  ] as const) {
    it(`${name}: SIGKILL of the attaching process detaches and frees everything`, async () => {
      const { peer, attached } = await lab.peer(lab.host, answering(hook, mode === undefined ? {} : { xdpMode: mode }));
      const linkId = attached.linkId as number;
      const programId = attached.programId as number;
      assert.equal(linkExists(linkId), true);
      await peer.kill('SIGKILL');
      assert.equal(await eventually(() => !linkExists(linkId)), true, 'the link went with the last fd');
      assert.equal(await eventually(() => !programExists(programId)), true, 'and the program with the link');
      assert.deepEqual(await lab.hostXdp(), {}, 'ip link shows no XDP program');
      assert.deepEqual(await lab.tcxChain(), [], 'the tcx ingress chain is empty');
    });
  }
});
