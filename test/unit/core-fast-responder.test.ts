/**
 * Property test: the allocation-free fast path (FastResponder) and the reference path
 * (processBatch: decode → validate → decide → encode) make the same decision for every frame,
 * consult the answer gate identically, and queue byte-identical NA frames, over thousands of
 * random, structured and mutated frames in many decision contexts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { AddressTable } from '../../src/wire/address-table';
import type { AnswerGate } from '../../src/core/answer-gate';
import type { DecisionContext } from '../../src/core/decide';
import type { RouteInfo } from '../../src/model/target';
import { FastResponder, warmUpFastResponder } from '../../src/core/fast-responder';
import { OutputBatch, processBatch } from '../../src/core/responder';
import { ResponderCounters } from '../../src/model/counters';
import { TargetSet } from '../../src/core/target-set';
import { type Target } from '../../src/model/target';
import type { Solicitation } from '../../src/core/validate';
import { parseTarget } from '../../src/core/parse-target';
import { formatIpv6, formatMac, multicastMac, parseIpv6, solicitedNodeAddress } from '../../src/wire/address';
import { encodeSolicitationFrame } from '../../src/wire/frame';
import type { NdOption } from '../../src/wire/nd-options';
import { toHex } from '../fixtures/hex';
import { type Random, mutateFrame, randomBytes, seededRandom } from '../fixtures/random';

const BATCHES = 3000;
const TARGETS = ['2001:db8::a:71a5', '2001:db8::a:71a0/125', '2001:db8::2', '2001:db8:1::/64', '2001:db8:2::8000:0/97', '2001:db8::77'];
const OWN = ['2001:db8::2', '2001:db8::a:71a1'];
const PEER_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);
const UPLINK_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x02);
const ROUTES: RouteInfo[] = [{ kind: 'interface', ifname: 'br0' }, { kind: 'interface', ifname: 'eth0' }, { kind: 'local' }, { kind: 'none' }, { kind: 'interface', ifname: 'br1' }];

/** A gate admitting all but every `period`-th call, recording what it was asked. */
class RecordingGate implements AnswerGate {
  readonly calls: string[] = [];
  constructor(private readonly period: number) {}
  admit(ns: Solicitation): boolean {
    const slla = ns.sourceLinkLayerAddress === undefined ? '-' : formatMac(ns.sourceLinkLayerAddress);
    this.calls.push(`${formatIpv6(ns.target)} ${formatIpv6(ns.source)} ${formatIpv6(ns.destination)} ${formatMac(ns.ethernetSource)} ${slla} ${ns.duplicateAddressDetection}`);
    return this.calls.length % this.period !== 0;
  }
}

function randomContext(random: Random, gate: AnswerGate | undefined): DecisionContext {
  // An AddressTable, as the host watcher keeps its addresses: an own-address check allocates nothing.
  const own = new AddressTable();
  OWN.forEach((a, i) => own.set(parseIpv6(a), 0, i));
  const routeSalt = random(ROUTES.length);
  return {
    targets: new TargetSet(TARGETS.map((t) => parseTarget(t))),
    uplink: 'eth0',
    uplinkMac: random(8) === 0 ? PEER_MAC : UPLINK_MAC,
    uplinkLinkLocal: random(3) === 0 ? undefined : parseIpv6('fe80::2'),
    linkUp: random(10) !== 0,
    via: random(2) === 0 ? undefined : 'br0',
    source: random(2) === 0 ? 'target' : 'link-local',
    router: random(2) === 0,
    override: random(2) === 0,
    isOwnAddress: (a) => own.getAt(a, 0) >= 0,
    routeOf: (t: Target) => (random(4) === 0 ? ROUTES[(t.text.length + routeSalt) % ROUTES.length]! : ROUTES[0]!),
    answerGate: gate,
  };
}

function randomTarget(random: Random): Uint8Array {
  const pick = random(9);
  const base = ['2001:db8::a:71a5', '2001:db8::a:71a3', '2001:db8::2', '2001:db8::a:71a1', '2001:db8:1::1234', '2001:db8:2::ffff:1', 'fe80::1', 'ff02::1', '2001:db8::99'][pick]!;
  return random(6) === 0 ? randomBytes(random, 16) : parseIpv6(base);
}

function randomOptions(random: Random): NdOption[] {
  const options: NdOption[] = [];
  for (let n = random(4); n > 0; n--) {
    const kind = random(5);
    if (kind <= 1) options.push({ type: 1, linkLayerAddress: random(2) === 0 ? PEER_MAC : randomBytes(random, 6) });
    else if (kind === 2) options.push({ type: 1, body: randomBytes(random, 14) } as NdOption);
    else if (kind === 3) options.push({ type: 14, nonce: randomBytes(random, 6) });
    else options.push({ type: 2, linkLayerAddress: randomBytes(random, 6) });
  }
  return options;
}

/** A well-formed NS of a random kind: resolution, NUD, DAD, odd options, sometimes hop-by-hop. */
function structured(random: Random): Uint8Array {
  const target = randomTarget(random);
  const group = solicitedNodeAddress(target);
  const dad = random(6) === 0;
  const unicast = random(4) === 0;
  const source = dad ? parseIpv6('::') : random(3) === 0 ? parseIpv6('fe80::1') : randomBytes(random, 16);
  return encodeSolicitationFrame({
    ethernetDestination: unicast ? UPLINK_MAC : multicastMac(group),
    ethernetSource: random(10) === 0 ? UPLINK_MAC : PEER_MAC,
    ipv6Source: source,
    ipv6Destination: unicast ? target : group,
    hopLimit: random(12) === 0 ? 64 : 255,
    solicitation: { target, options: dad && random(2) === 0 ? [] : randomOptions(random) },
    hopByHop: random(10) === 0,
  });
}

/** A structured NS whose hop-by-hop header is relabelled a Fragment header (RFC 6980 §5 drops it). */
function fragmented(random: Random): Uint8Array {
  let bytes = structured(random);
  while (bytes[20] !== 0) bytes = structured(random);
  bytes[20] = 44;
  return bytes;
}

function frame(random: Random): Uint8Array {
  const choice = random(11);
  if (choice === 10) return fragmented(random);
  if (choice === 0) return randomBytes(random, random(120));
  if (choice < 6) return structured(random);
  return mutateFrame(random, structured(random));
}

interface Outcome {
  queued: number;
  counters: ResponderCounters;
  frames: string[];
  gateCalls: string[];
}

function run(path: 'fast' | 'reference', frames: Uint8Array[], contextSeed: number, gatePeriod: number): Outcome {
  const gate = gatePeriod > 0 ? new RecordingGate(gatePeriod) : undefined;
  const context = randomContext(seededRandom(contextSeed), gate);
  const data = Buffer.concat(frames);
  const meta = new Uint32Array(frames.length * 4);
  frames.forEach((f, i) => (meta[i * 4] = f.length));
  const out = new OutputBatch(6);
  const counters = new ResponderCounters();
  const queued =
    path === 'fast'
      ? new FastResponder().process(data, frames.length, meta, context, out, counters)
      : processBatch(data, frames.length, meta, context, out, counters);
  const queuedFrames: string[] = [];
  for (let i = 0, at = 0; i < out.count; at += out.lengths[i]!, i++) queuedFrames.push(toHex(out.bytes.subarray(at, at + out.lengths[i]!)));
  return { queued, counters, frames: queuedFrames, gateCalls: gate?.calls ?? [] };
}

describe('fast path ≡ reference path', () => {
  it(`same decisions, gate calls and byte-identical NAs over ${BATCHES} random batches`, () => {
    const random = seededRandom(0xfa57);
    let answered = 0;
    const reasons = new Set<string>();
    for (let b = 0; b < BATCHES; b++) {
      const frames = Array.from({ length: 1 + random(9) }, () => frame(random));
      const contextSeed = random(2 ** 31);
      const gatePeriod = [0, 0, 3, 5][random(4)]!;
      const fast = run('fast', frames, contextSeed, gatePeriod);
      const reference = run('reference', frames, contextSeed, gatePeriod);
      const where = `batch ${b}: ${frames.map((f) => toHex(f)).join(' | ')}`;
      assert.deepEqual(fast.counters, reference.counters, where);
      assert.equal(fast.queued, reference.queued, where);
      assert.deepEqual(fast.frames, reference.frames, where);
      assert.deepEqual(fast.gateCalls, reference.gateCalls, where);
      answered += reference.queued;
      for (const [reason, n] of Object.entries(reference.counters.ignored)) if (n > 0) reasons.add(reason);
    }
    // The property means little unless both answers and most reasons were exercised.
    assert.ok(answered > 1000, `only ${answered} answers`);
    for (const reason of ['malformed', 'own-frame', 'bad-hop-limit', 'bad-checksum', 'multicast-target', 'dad-with-slla', 'not-a-target', 'link-local-target', 'own-address', 'route-via-uplink', 'no-route', 'link-down', 'rate-limited', 'fragmented', 'bad-option-length']) {
      assert.ok(reasons.has(reason), `reason ${reason} never exercised`);
    }
  });

  it('allocates nothing per frame once warm: no garbage collection during 200 000 answers', async () => {
    const context = { ...randomContext(seededRandom(1), undefined), linkUp: true, routeOf: () => ROUTES[0]! };
    const responder = new FastResponder();
    const target = parseIpv6('2001:db8::a:71a5');
    warmUpFastResponder(responder, context, target, 40_000);
    const collections: number[] = [];
    const observer = new PerformanceObserver((list) => collections.push(...list.getEntries().map((e) => e.startTime)));
    observer.observe({ entryTypes: ['gc'] });
    await new Promise((resolve) => setImmediate(resolve));
    const start = performance.now();
    warmUpFastResponder(responder, context, target, 200_000);
    const end = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    observer.disconnect();
    // 200 000 frames allocating even 32 bytes each would fill the young generation several times.
    const during = collections.filter((t) => t >= start && t <= end);
    // One scavenge may still fall in the window from garbage other tests in this process left
    // behind; an allocating hot path causes dozens (57 with the old string-keyed limiter).
    assert.ok(during.length <= 1, `${during.length} collections while answering`);
  });
});
