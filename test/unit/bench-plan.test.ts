import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from '../../src/model/errors';
import { AnswerMatcher, ProbeIndex } from '../../src/loadgen/matcher';
import { parseBenchOptions, parseSources, type RawBenchOptions } from '../../src/loadgen/options';
import { KEY_LENGTH, addressAt, buildProbePlan, type PlanInput } from '../../src/loadgen/probe-plan';
import { ALL_NODES, formatIpv6, formatMac, parseIpv6, parseMac } from '../../src/wire/address';
import { decodeSolicitationFrame } from '../../src/wire/frame';
import { encodeAdvertisementFrame } from '../oracle/advertisement-frame';
import { findLinkLayerAddress, NdOptionType } from '../../src/wire/nd-options';
import { randomBytes, seededRandom } from '../fixtures/random';

const MAC = parseMac('02:00:00:00:00:01');
const RESPONDER = parseMac('02:00:00:00:00:99');
const TARGET = parseIpv6('2001:db8::a:71a5');

function input(overrides: Partial<PlanInput>): PlanInput {
  const random = seededRandom(7);
  return {
    mode: 'multicast',
    targets: [{ address: TARGET, prefixLength: 128 }],
    sources: { kind: 'list', addresses: [parseIpv6('2001:db8::1')] },
    localMac: MAC,
    maxProbes: 1000,
    fillRandom: (bytes) => bytes.set(randomBytes(random, bytes.length)),
    ...overrides,
  };
}

/** The tcpdump-like line of probe `i` of a plan. */
function probeLine(plan: ReturnType<typeof buildProbePlan>, i: number): string {
  const f = decodeSolicitationFrame(plan.frames, i * plan.frameLength, plan.frameLength);
  const slla = findLinkLayerAddress(f.solicitation.options, 1);
  return `${formatMac(f.ethernet.destination)} ${formatIpv6(f.ipv6.source)} > ${formatIpv6(f.ipv6.destination)} hlim ${f.ipv6.hopLimit} who has ${formatIpv6(f.solicitation.target)} slla ${slla === undefined ? '-' : formatMac(slla)} sum ${f.checksumValid ? 'ok' : 'bad'}`;
}

/** An NA frame answering `target` to `destination`. */
function answer(target: Uint8Array, destination: Uint8Array): Uint8Array {
  return encodeAdvertisementFrame({
    ethernetDestination: MAC,
    ethernetSource: RESPONDER,
    ipv6Source: target,
    ipv6Destination: destination,
    hopLimit: 255,
    advertisement: { router: false, solicited: true, override: true, target, options: [{ type: NdOptionType.TargetLinkLayerAddress, linkLayerAddress: RESPONDER }] },
  });
}

describe('bench probe plan', () => {
  it('builds valid multicast, unicast and DAD probes as a responder would see them', () => {
    assert.equal(
      probeLine(buildProbePlan(input({})), 0),
      '33:33:ff:0a:71:a5 2001:db8::1 > ff02::1:ff0a:71a5 hlim 255 who has 2001:db8::a:71a5 slla 02:00:00:00:00:01 sum ok',
    );
    assert.equal(
      probeLine(buildProbePlan(input({ mode: 'unicast', responderMac: RESPONDER })), 0),
      '02:00:00:00:00:99 2001:db8::1 > 2001:db8::a:71a5 hlim 255 who has 2001:db8::a:71a5 slla 02:00:00:00:00:01 sum ok',
    );
    // RFC 4862 §5.4.2: a DAD probe comes from :: and carries no SLLA.
    assert.equal(probeLine(buildProbePlan(input({ mode: 'dad' })), 0), '33:33:ff:0a:71:a5 :: > ff02::1:ff0a:71a5 hlim 255 who has 2001:db8::a:71a5 slla - sum ok');
  });

  it('enumerates every source/target pair when they fit, sources varying fastest', () => {
    const sources = [parseIpv6('2001:db8::1:1'), parseIpv6('2001:db8::1:2')];
    const plan = buildProbePlan(input({ sources: { kind: 'list', addresses: sources }, targets: [{ address: parseIpv6('2001:db8::a:71a4'), prefixLength: 126 }] }));
    assert.equal(plan.probeCount, 8);
    const pairs = Array.from({ length: 8 }, (_, i) => probeLine(plan, i).replace(/^\S+ (\S+) > .* who has (\S+) .*$/, '$1 for $2'));
    assert.deepEqual(pairs.slice(0, 3), ['2001:db8::1:1 for 2001:db8::a:71a4', '2001:db8::1:2 for 2001:db8::a:71a4', '2001:db8::1:1 for 2001:db8::a:71a5']);
  });

  it('samples distinct random targets inside a large prefix, and repeats probes contiguously past the end', () => {
    const plan = buildProbePlan(input({ targets: [{ address: parseIpv6('2001:db8:1::'), prefixLength: 64 }], maxProbes: 500 }), 16);
    assert.equal(plan.probeCount, 500);
    const targets = new Set(Array.from({ length: 500 }, (_, i) => formatIpv6(plan.keys, i * KEY_LENGTH)));
    assert.equal(targets.size, 500);
    for (const t of targets) assert.match(t, /^2001:db8:1:0:/);
    assert.equal(probeLine(plan, 500 + 3), probeLine(plan, 3));
  });

  it('gives random sources from the source prefix', () => {
    const plan = buildProbePlan(input({ sources: { kind: 'random', range: { address: parseIpv6('2001:db8:ffff::'), prefixLength: 48 } }, maxProbes: 50 }));
    assert.equal(plan.probeCount, 50);
    assert.match(probeLine(plan, 10), / 2001:db8:ffff:[0-9a-f:]+ > ff02::1:ff0a:71a5 /);
  });

  it('computes addresses inside a prefix with carries', () => {
    assert.equal(formatIpv6(addressAt({ address: parseIpv6('2001:db8::ff'), prefixLength: 120 }, 0x102)), '2001:db8::201');
  });
});

describe('bench answer matching', () => {
  it('credits answers first-in first-out per key and counts what matches nothing', () => {
    const sources = [parseIpv6('2001:db8::1:1'), parseIpv6('2001:db8::1:2')];
    const plan = buildProbePlan(input({ sources: { kind: 'list', addresses: sources } }));
    const matcher = new AnswerMatcher(plan, 6);
    const toSecond = answer(TARGET, sources[1]!);
    assert.equal(matcher.credit(toSecond, 0, toSecond.length, 1000, 6), 1);
    assert.equal(matcher.credit(toSecond, 0, toSecond.length, 2000, 6), 3, 'the next answer of the same key is the next send of that probe');
    assert.equal(matcher.credit(toSecond, 0, toSecond.length, 3000, 4), -1, 'send 5 has not gone out yet');
    const foreign = answer(parseIpv6('2001:db8::b:1'), sources[0]!);
    assert.equal(matcher.credit(foreign, 0, foreign.length, 4000, 6), -1);
    assert.equal(matcher.credit(Uint8Array.from(foreign).fill(0, 12, 14), 0, foreign.length, 4000, 6), -1, 'not IPv6');
    assert.equal(matcher.answered, 2);
    assert.equal(matcher.unmatched, 3);
    assert.deepEqual([...matcher.received].map((v) => (Number.isNaN(v) ? '-' : v)), ['-', 1000, '-', 2000, '-', '-']);
  });

  it('keys DAD answers by target and all-nodes', () => {
    const plan = buildProbePlan(input({ mode: 'dad' }));
    const index = new ProbeIndex(plan.keys);
    const na = answer(TARGET, ALL_NODES);
    assert.equal(index.find(na, 62, 38), 0);
    const wrong = answer(TARGET, parseIpv6('2001:db8::1'));
    assert.equal(index.find(wrong, 62, 38), -1);
  });
});

describe('bench options', () => {
  const ok = { interface: 'lan0', target: ['2001:db8::a:71a5'] };

  it('applies bounded defaults', () => {
    const options = parseBenchOptions(ok);
    assert.deepEqual([options.count, options.rate, options.durationMs, options.mode, options.sources.kind], [10_000, 10_000, 10_000, 'multicast', 'fixed']);
  });

  it('parses sources', () => {
    assert.deepEqual(parseSources('pool:64'), { kind: 'pool', size: 64 });
    const random = parseSources('random:2001:db8:ffff::/48');
    assert.equal(random.kind === 'random' ? random.text : '', '2001:db8:ffff::/48');
  });

  for (const [name, raw, message] of [
    ['no interface', { target: ['2001:db8::1'] }, /missing --interface/],
    ['no target', { interface: 'lan0' }, /missing --target/],
    ['IPv4 target', { ...ok, target: ['192.0.2.1'] }, /IPv4/],
    ['count 0', { ...ok, count: '0' }, /--count "0"/],
    ['count beyond the cap', { ...ok, count: '10000001' }, /--count/],
    ['fractional count', { ...ok, count: '1.5' }, /--count/],
    ['negative rate', { ...ok, rate: '-1' }, /--rate/],
    ['duration beyond the cap', { ...ok, duration: '301' }, /--duration/],
    ['unknown mode', { ...ok, mode: 'anycast' }, /--mode "anycast"/],
    ['bad sources', { ...ok, sources: 'pool:0' }, /--sources "pool:0"/],
    ['bad random prefix', { ...ok, sources: 'random:zz' }, /--sources "random:zz"/],
    ['unknown sources', { ...ok, sources: 'many' }, /fixed, pool:N or random:PREFIX/],
  ] as [string, RawBenchOptions, RegExp][]) {
    it(`refuses ${name} with exit 2`, () => {
      assert.throws(
        () => parseBenchOptions(raw),
        (error: unknown) => error instanceof UserError && error.exitCode === 2 && message.test(error.message),
      );
    });
  }
});
