import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitGate } from '../../src/core/answer-gate';
import { NO_FLOW_LIMIT } from '../../src/core/rate-limit';
import { advertisementConflict } from '../../src/core/conflict';
import type { DecisionContext } from '../../src/core/decide';
import { OutputBatch } from '../../src/core/output-batch';
import { AnswerPipeline } from '../../src/core/pipeline';
import { ResponderCounters } from '../../src/model/counters';
import { TargetSet } from '../../src/core/target-set';
import { parseTarget } from '../../src/core/parse-target';
import { ALL_NODES, formatIpv6, formatMac, multicastMac, parseIpv6, parseMac, solicitedNodeAddress } from '../../src/wire/address';
import { encodeSolicitationFrame } from '../../src/wire/frame';
import { encodeAdvertisementFrame, type AdvertisementFrameFields } from '../oracle/advertisement-frame';
import { NdOptionType } from '../../src/wire/nd-options';

const OWN_MAC = parseMac('02:00:00:00:00:02');
const PEER_MAC = parseMac('02:00:00:00:00:01');
const TARGETS = new TargetSet([parseTarget('2001:db8::a:71a0/125'), parseTarget('2001:db8::5')]);

/** An unsolicited NA to all-nodes, as a node that took the address sends it after DAD. */
function na(target: string, overrides: Partial<AdvertisementFrameFields> = {}): Uint8Array {
  return encodeAdvertisementFrame({
    ethernetDestination: multicastMac(ALL_NODES),
    ethernetSource: PEER_MAC,
    ipv6Source: parseIpv6(target),
    ipv6Destination: ALL_NODES,
    hopLimit: 255,
    advertisement: { router: false, solicited: false, override: true, target: parseIpv6(target), options: [{ type: NdOptionType.TargetLinkLayerAddress, linkLayerAddress: PEER_MAC }] },
    ...overrides,
  });
}

describe('advertisementConflict', () => {
  test('an NA from another MAC for a prefix target or a single target is a conflict', () => {
    for (const [address, target] of [['2001:db8::a:71a5', '2001:db8::a:71a0/125'], ['2001:db8::5', '2001:db8::5']] as const) {
      const frame = na(address);
      const found = advertisementConflict(frame, 0, frame.length, OWN_MAC, TARGETS);
      assert.ok(found, address);
      assert.equal(found.target.text, target);
      assert.equal(formatIpv6(found.address), address);
      assert.equal(formatMac(found.ethernetSource), '02:00:00:00:00:01');
      assert.equal(found.linkLayerAddress && formatMac(found.linkLayerAddress), '02:00:00:00:00:01');
    }
  });

  test('no conflict: other targets, our own MAC, hop limit below 255, damaged or foreign frames', () => {
    const cases: [string, Uint8Array][] = [
      ['not ours', na('2001:db8::99')],
      ['our own NA looped back', na('2001:db8::5', { ethernetSource: OWN_MAC })],
      ['forwarded (hop limit 64)', na('2001:db8::5', { hopLimit: 64 })],
      ['bad checksum', (() => { const f = na('2001:db8::5'); f[57] = f[57]! ^ 0xff; return f; })()],
      ['an NS, not an NA', encodeSolicitationFrame({ ethernetDestination: multicastMac(ALL_NODES), ethernetSource: PEER_MAC, ipv6Source: parseIpv6('2001:db8::1'), ipv6Destination: solicitedNodeAddress(parseIpv6('2001:db8::5')), hopLimit: 255, solicitation: { target: parseIpv6('2001:db8::5'), options: [] } })],
      ['truncated', na('2001:db8::5').subarray(0, 70)],
      ['empty', new Uint8Array(0)],
    ];
    for (const [name, frame] of cases) assert.equal(advertisementConflict(frame, 0, frame.length, OWN_MAC, TARGETS), undefined, name);
  });

  test('never throws on random bytes', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) & 0xff;
    const base = na('2001:db8::5');
    for (let i = 0; i < 5000; i++) {
      const frame = Uint8Array.from(base);
      for (let j = 0; j < 4; j++) frame[random() % frame.length] = random();
      advertisementConflict(frame, 0, random() % (frame.length + 1), OWN_MAC, TARGETS);
    }
  });
});

describe('the answer pipeline with the rate-limit gate', () => {
  const context = (gate: RateLimitGate): DecisionContext => ({
    targets: TARGETS,
    uplink: 'eth0',
    uplinkMac: OWN_MAC,
    uplinkLinkLocal: undefined,
    linkUp: true,
    via: undefined,
    source: 'target',
    router: false,
    override: true,
    isOwnAddress: () => false,
    routeOf: () => ({ kind: 'interface', ifname: 'br0' }),
    answerGate: gate,
  });
  const ns = (source: string): Uint8Array => {
    const group = solicitedNodeAddress(parseIpv6('2001:db8::5'));
    return encodeSolicitationFrame({ ethernetDestination: multicastMac(group), ethernetSource: PEER_MAC, ipv6Source: parseIpv6(source), ipv6Destination: group, hopLimit: 255, solicitation: { target: parseIpv6('2001:db8::5'), options: [] } });
  };

  test('answers past the per-source burst are refused and counted as rate-limited', () => {
    const gate = new RateLimitGate({ ...NO_FLOW_LIMIT, perSource: { perSecond: 1, burst: 3 }, global: { perSecond: 1000, burst: 1000 }, maxSources: 16 }, 0);
    const frames = [...Array<Uint8Array>(10).fill(ns('2001:db8::1')), ns('2001:db8::2')];
    const data = Buffer.concat(frames);
    const meta = new Uint32Array(frames.length * 4);
    frames.forEach((f, i) => (meta[i * 4] = f.length));
    const out = new OutputBatch(64);
    const counters = new ResponderCounters();
    const queued = new AnswerPipeline().process(data, frames.length, meta, context(gate), out, counters);
    assert.equal(queued, 4, 'three for the noisy source, one for the other');
    assert.equal(counters.ignored['rate-limited'], 7);
  });
});
