/**
 * Property test: the answer pipeline (AnswerPipeline, the daemon's only path) and the
 * decoder-based oracle (test/oracle/reference-responder.ts) reach the same outcome for every
 * frame (the same reason for each ignored one, a byte-identical NA for each answer) and consult
 * the answer gate identically, over thousands of random, structured and mutated frames (hop-by-hop
 * headers, fragments, other chains, DAD probes, our own MAC, bad options, truncations) in many
 * decision contexts (link-local source mode among them). The observer changes nothing. And once
 * warm the pipeline allocates nothing per frame, DAD and hop-by-hop frames included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { AddressTable } from '../../src/wire/address-table';
import { RateLimitGate, type AnswerGate } from '../../src/core/answer-gate';
import { DEFAULT_RATE_LIMITS } from '../../src/core/rate-limit';
import type { DecisionContext } from '../../src/core/decide';
import { OutputBatch } from '../../src/core/output-batch';
import { AnswerPipeline, type DecisionObserver } from '../../src/core/pipeline';
import type { SolicitationView } from '../../src/core/solicitation-view';
import { warmUpPipeline } from '../../src/core/warm-up';
import { ResponderCounters } from '../../src/model/counters';
import { IGNORE_REASONS } from '../../src/model/reasons';
import type { RouteInfo, Target } from '../../src/model/target';
import { TargetSet } from '../../src/core/target-set';
import { parseTarget } from '../../src/core/parse-target';
import { formatIpv6, formatMac, multicastMac, parseIpv6, solicitedNodeAddress } from '../../src/wire/address';
import { encodeSolicitationFrame } from '../../src/wire/frame';
import { writeIcmpv6Checksum } from '../../src/wire/icmpv6';
import type { NdOption } from '../../src/wire/nd-options';
import { processBatch, type ReferenceGate, type Solicitation } from '../oracle/reference-responder';
import { toHex } from '../fixtures/hex';
import { type Random, mutateFrame, randomBytes, seededRandom } from '../fixtures/random';

const BATCHES = 3000;
const TARGETS = ['2001:db8::a:71a5', '2001:db8::a:71a0/125', '2001:db8::2', '2001:db8:1::/64', '2001:db8:2::8000:0/97', '2001:db8::77'];
const OWN = ['2001:db8::2', '2001:db8::a:71a1'];
const PEER_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);
const UPLINK_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x02);
const ROUTES: RouteInfo[] = [{ kind: 'interface', ifname: 'br0' }, { kind: 'interface', ifname: 'eth0' }, { kind: 'local' }, { kind: 'none' }, { kind: 'interface', ifname: 'br1' }];

/** A gate admitting all but every `period`-th call, recording what it was asked, for both paths. */
class RecordingGate implements AnswerGate {
  readonly calls: string[] = [];
  /** The same gate as the oracle sees it. */
  readonly reference: ReferenceGate = { admit: (ns: Solicitation) => this.record(ns.target, ns.source, ns.destination, ns.ethernetSource, ns.sourceLinkLayerAddress, ns.duplicateAddressDetection) };
  constructor(private readonly period: number) {}

  admit(bytes: Uint8Array, view: SolicitationView): boolean {
    const at = (offset: number, length: number): Uint8Array => bytes.slice(offset, offset + length);
    const slla = view.sourceLinkLayerAddress < 0 ? undefined : at(view.sourceLinkLayerAddress, 6);
    return this.record(at(view.target, 16), at(view.source, 16), at(view.source + 16, 16), at(view.ethernetSource, 6), slla, view.duplicateAddressDetection);
  }

  private record(target: Uint8Array, source: Uint8Array, destination: Uint8Array, mac: Uint8Array, slla: Uint8Array | undefined, dad: boolean): boolean {
    this.calls.push(`${formatIpv6(target)} ${formatIpv6(source)} ${formatIpv6(destination)} ${formatMac(mac)} ${slla === undefined ? '-' : formatMac(slla)} ${dad}`);
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
  // Now and then more options than MAX_ND_OPTIONS (64) allows.
  for (let n = random(40) === 0 ? 60 + random(10) : random(4); n > 0; n--) {
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
  const odd = random(20) === 0 ? parseIpv6('ff02::1') : randomBytes(random, 16); // a multicast source is bogus, but arrives
  const source = dad ? parseIpv6('::') : random(3) === 0 ? parseIpv6('fe80::1') : odd;
  return encodeSolicitationFrame({
    ethernetDestination: unicast ? UPLINK_MAC : multicastMac(group),
    ethernetSource: random(10) === 0 ? UPLINK_MAC : PEER_MAC,
    ipv6Source: source,
    ipv6Destination: unicast ? target : group,
    hopLimit: random(12) === 0 ? 64 : 255,
    solicitation: { target, options: dad && random(2) === 0 ? [] : randomOptions(random) },
    hopByHop: random(5) === 0,
  });
}

/** The ICMPv6 checksum made right again after an edit, so the checks after it are reached. */
function fixChecksum(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 54) return bytes;
  const icmp = bytes[20] === 0 ? 54 + ((bytes[55] ?? 0) + 1) * 8 : 54;
  const length = 54 + ((bytes[18]! << 8) | bytes[19]!) - icmp;
  if (length >= 4 && icmp + length <= bytes.length) writeIcmpv6Checksum(bytes.subarray(22, 38), bytes.subarray(38, 54), bytes, icmp, length);
  return bytes;
}

/** A structured NS with its header chain edited: fragments (direct or after hop-by-hop), other headers, overruns. */
function chained(random: Random): Uint8Array {
  let bytes = structured(random);
  while (bytes[20] !== 0) bytes = structured(random);
  const edit = random(5);
  if (edit === 0) bytes[20] = 44; // the hop-by-hop header relabelled a Fragment header
  else if (edit === 1) bytes[54] = 44; // hop-by-hop, then a fragment
  else if (edit === 2) bytes[20] = [43, 60, 59][random(3)]!; // routing, destination options, no next header
  else if (edit === 3) bytes[55] = 1 + random(255); // hop-by-hop longer than the payload, or eating the NS
  else bytes[54] = [0, 60, 6][random(3)]!; // a second hop-by-hop, or another chain
  return edit === 3 && random(2) === 0 ? fixChecksum(bytes) : bytes;
}

function frame(random: Random): Uint8Array {
  const choice = random(12);
  if (choice === 0) return randomBytes(random, random(120));
  if (choice === 1) return chained(random);
  if (choice === 2) return fixChecksum(mutateFrame(random, structured(random)));
  if (choice < 8) return structured(random);
  return mutateFrame(random, structured(random));
}

interface Outcome {
  queued: number;
  counters: ResponderCounters;
  frames: string[];
  outcomes: string[];
  gateCalls: string[];
}

/** Records each decision the way the oracle reports it. */
function recorder(outcomes: string[]): DecisionObserver {
  return {
    ignored: (_bytes, _view, reason) => outcomes.push(reason),
    answered: (_bytes, _view, target, to, at, solicited) => outcomes.push(`answer ${target.text} to ${formatIpv6(to, at)} S=${solicited ? 1 : 0}`),
  };
}

function run(path: 'pipeline' | 'unobserved' | 'oracle', frames: Uint8Array[], contextSeed: number, gatePeriod: number): Outcome {
  const gate = gatePeriod > 0 ? new RecordingGate(gatePeriod) : undefined;
  const context = randomContext(seededRandom(contextSeed), gate);
  const data = Buffer.concat(frames);
  const meta = new Uint32Array(frames.length * 4);
  frames.forEach((f, i) => (meta[i * 4] = f.length));
  const out = new OutputBatch(6);
  const counters = new ResponderCounters();
  const outcomes: string[] = [];
  const n = frames.length;
  const queued =
    path === 'oracle'
      ? processBatch(data, n, meta, { ...context, referenceGate: gate?.reference }, out, counters, (_, o) => outcomes.push(o))
      : new AnswerPipeline().process(data, n, meta, context, out, counters, path === 'pipeline' ? recorder(outcomes) : undefined);
  const queuedFrames: string[] = [];
  for (let i = 0, at = 0; i < out.count; at += out.lengths[i]!, i++) queuedFrames.push(toHex(out.bytes.subarray(at, at + out.lengths[i]!)));
  return { queued, counters, frames: queuedFrames, outcomes, gateCalls: gate?.calls ?? [] };
}

describe('pipeline ≡ oracle', () => {
  it(`same outcome per frame, same gate calls and byte-identical NAs over ${BATCHES} random batches`, () => {
    const random = seededRandom(0xfa57);
    let answered = 0;
    const reasons = new Set<string>();
    for (let b = 0; b < BATCHES; b++) {
      const frames = Array.from({ length: 1 + random(9) }, () => frame(random));
      const contextSeed = random(2 ** 31);
      const gatePeriod = [0, 0, 3, 5][random(4)]!;
      const pipeline = run('pipeline', frames, contextSeed, gatePeriod);
      const oracle = run('oracle', frames, contextSeed, gatePeriod);
      const where = `batch ${b}: ${frames.map((f) => toHex(f)).join(' | ')}`;
      assert.deepEqual(pipeline.outcomes, oracle.outcomes, where);
      assert.deepEqual(pipeline.counters, oracle.counters, where);
      assert.equal(pipeline.queued, oracle.queued, where);
      assert.deepEqual(pipeline.frames, oracle.frames, where);
      assert.deepEqual(pipeline.gateCalls, oracle.gateCalls, where);
      // Logging observes: without the observer, the same answers and counts.
      const { outcomes: _, ...unobserved } = run('unobserved', frames, contextSeed, gatePeriod);
      const { outcomes: __, ...observed } = pipeline;
      assert.deepEqual(unobserved, observed, where);
      answered += oracle.queued;
      for (const [reason, n] of Object.entries(oracle.counters.ignored)) if (n > 0) reasons.add(reason);
    }
    // The property means little unless answers and every reason were exercised.
    assert.ok(answered > 1000, `only ${answered} answers`);
    for (const reason of IGNORE_REASONS) assert.ok(reasons.has(reason), `reason ${reason} never exercised`);
  });
});

describe('pipeline allocation', () => {
  it('allocates nothing per frame once warm: no garbage collection during 200 000 frames (DAD and hop-by-hop among them)', async () => {
    let dadReports = 0;
    // Every limit on, the per-flow one as by default: its key and table must not allocate either.
    const gate = new RateLimitGate({ ...DEFAULT_RATE_LIMITS, perFlow: { perSecond: 1e9, burst: 1e9 }, perSource: { perSecond: 1e9, burst: 1e9 }, global: { perSecond: 1e9, burst: 1e9 }, maxSources: 64 }, 0, () => dadReports++);
    const base = { ...randomContext(seededRandom(1), gate), linkUp: true, routeOf: () => ROUTES[0]! };
    const pipeline = new AnswerPipeline();
    const target = parseIpv6('2001:db8::a:71a5');
    for (const source of ['target', 'link-local'] as const) warmUpPipeline(pipeline, { ...base, source }, target, 40_000, gate);
    const context = { ...base, source: 'link-local' as const };
    const collections: number[] = [];
    const observer = new PerformanceObserver((list) => collections.push(...list.getEntries().map((e) => e.startTime)));
    observer.observe({ entryTypes: ['gc'] });
    await new Promise((resolve) => setImmediate(resolve));
    const start = performance.now();
    warmUpPipeline(pipeline, context, target, 200_000, gate);
    const end = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    observer.disconnect();
    assert.ok(dadReports > 10_000, `DAD probes answered and reported (${dadReports})`);
    // 200 000 frames allocating even 32 bytes each would fill the young generation several times.
    const during = collections.filter((t) => t >= start && t <= end);
    // One scavenge may still fall in the window from garbage other tests in this process left
    // behind; an allocating hot path causes dozens (57 with the old string-keyed limiter).
    assert.ok(during.length <= 1, `${during.length} collections while answering`);
  });
});
