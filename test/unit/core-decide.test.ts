/**
 * The answer pipeline on hand-built frames: the NA it writes (RFC 4861 §7.2.4), each §7.1.1
 * violation dropped with its reason, the documented precedence when a frame has several faults,
 * and each decision rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type DecisionContext } from '../../src/core/decide';
import { OutputBatch } from '../../src/core/output-batch';
import { AnswerPipeline } from '../../src/core/pipeline';
import { SolicitationView } from '../../src/core/solicitation-view';
import { validateSolicitation } from '../../src/core/validate';
import { type RouteInfo } from '../../src/model/target';
import { ResponderCounters } from '../../src/model/counters';
import { TargetSet } from '../../src/core/target-set';
import { toHex } from '../fixtures/hex';
import { type Target } from '../../src/model/target';
import { parseTarget } from '../../src/core/parse-target';
import { formatIpv6, formatMac, parseIpv6, parseMac, solicitedNodeAddress, multicastMac } from '../../src/wire/address';
import { decodeAdvertisementFrame, encodeSolicitationFrame, type SolicitationFrameFields } from '../../src/wire/frame';
import { findLinkLayerAddress, NdOptionType } from '../../src/wire/nd-options';
import { writeIcmpv6Checksum } from '../../src/wire/icmpv6';

const UPLINK_MAC = parseMac('02:00:00:00:00:02');
const LAN_MAC = parseMac('02:00:00:00:00:01');
const CONTAINER = '2001:db8::a:71a5';
const LAN_HOST = '2001:db8::1';

function context(overrides: Partial<DecisionContext> & { route?: RouteInfo; own?: string[] } = {}): DecisionContext {
  const own = new Set((overrides.own ?? ['2001:db8::2']).map((a) => toHex(parseIpv6(a))));
  const route = overrides.route ?? { kind: 'interface', ifname: 'br0' };
  return {
    targets: new TargetSet([parseTarget(CONTAINER), parseTarget('2001:db8::a:71a0/125'), parseTarget('2001:db8::2')]),
    uplink: 'eth0',
    uplinkMac: UPLINK_MAC,
    uplinkLinkLocal: parseIpv6('fe80::2'),
    linkUp: true,
    via: undefined,
    source: 'target',
    router: false,
    override: true,
    isOwnAddress: (a) => own.has(toHex(a)),
    routeOf: () => route,
    ...overrides,
  };
}

/** A multicast address-resolution NS from the LAN host, with SLLA, as the kernel sends it. */
function nsFields(overrides: Partial<SolicitationFrameFields> = {}, target = CONTAINER): SolicitationFrameFields {
  const group = solicitedNodeAddress(parseIpv6(target));
  return {
    ethernetDestination: multicastMac(group),
    ethernetSource: LAN_MAC,
    ipv6Source: parseIpv6(LAN_HOST),
    ipv6Destination: group,
    hopLimit: 255,
    solicitation: { target: parseIpv6(target), options: [{ type: NdOptionType.SourceLinkLayerAddress, linkLayerAddress: LAN_MAC }] },
    ...overrides,
  };
}

function respond(frame: Uint8Array, ctx = context()) {
  const out = new OutputBatch(4);
  const counters = new ResponderCounters();
  const meta = Uint32Array.of(frame.length, 0, 0, 0);
  new AnswerPipeline().process(frame, 1, meta, ctx, out, counters);
  if (out.count === 0) return { counters, na: undefined };
  const na = decodeAdvertisementFrame(out.bytes.subarray(0, out.lengths[0]!));
  return { counters, na };
}

test('multicast NS → solicited NA to the source, TLLA = uplink MAC, hop limit 255, checksum valid', () => {
  const { na, counters } = respond(encodeSolicitationFrame(nsFields()));
  assert.ok(na);
  assert.equal(counters.advertised, 0); // the caller counts sends; the pipeline only queues
  assert.equal(formatMac(na.ethernet.destination), '02:00:00:00:00:01');
  assert.equal(formatMac(na.ethernet.source), '02:00:00:00:00:02');
  assert.equal(formatIpv6(na.ipv6.source), CONTAINER);
  assert.equal(formatIpv6(na.ipv6.destination), LAN_HOST);
  assert.equal(na.ipv6.hopLimit, 255);
  assert.equal(na.checksumValid, true);
  assert.deepEqual([na.advertisement.router, na.advertisement.solicited, na.advertisement.override], [false, true, true]);
  assert.equal(formatIpv6(na.advertisement.target), CONTAINER);
  const tlla = findLinkLayerAddress(na.advertisement.options, NdOptionType.TargetLinkLayerAddress);
  assert.ok(tlla);
  assert.equal(formatMac(tlla), '02:00:00:00:00:02');
});

test('unicast NUD NS without SLLA → answered to the frame source MAC', () => {
  const frame = encodeSolicitationFrame(
    nsFields({ ethernetDestination: UPLINK_MAC, ipv6Destination: parseIpv6(CONTAINER), solicitation: { target: parseIpv6(CONTAINER), options: [] } }),
  );
  const { na } = respond(frame);
  assert.ok(na);
  assert.equal(formatMac(na.ethernet.destination), '02:00:00:00:00:01');
  assert.equal(na.advertisement.solicited, true);
});

test('SLLA wins over the Ethernet source for the reply MAC', () => {
  const slla = parseMac('02:aa:bb:cc:dd:ee');
  const frame = encodeSolicitationFrame(nsFields({ solicitation: { target: parseIpv6(CONTAINER), options: [{ type: 1, linkLayerAddress: slla }] } }));
  assert.equal(formatMac(respond(frame).na!.ethernet.destination), '02:aa:bb:cc:dd:ee');
});

test('DAD probe (source ::) → NA to ff02::1 / 33:33:00:00:00:01 with S=0', () => {
  const frame = encodeSolicitationFrame(nsFields({ ipv6Source: parseIpv6('::'), solicitation: { target: parseIpv6(CONTAINER), options: [] } }));
  const { na } = respond(frame);
  assert.ok(na);
  assert.equal(formatIpv6(na.ipv6.destination), 'ff02::1');
  assert.equal(formatMac(na.ethernet.destination), '33:33:00:00:00:01');
  assert.equal(na.advertisement.solicited, false);
});

test('DAD probe behind a hop-by-hop header → the same NA to all-nodes with S=0', () => {
  const frame = encodeSolicitationFrame(nsFields({ ipv6Source: parseIpv6('::'), hopByHop: true, solicitation: { target: parseIpv6(CONTAINER), options: [] } }));
  const { na } = respond(frame);
  assert.ok(na);
  assert.deepEqual([formatIpv6(na.ipv6.destination), formatMac(na.ethernet.destination), na.advertisement.solicited], ['ff02::1', '33:33:00:00:00:01', false]);
});

test('--source link-local while the uplink has no link-local address yet → from the target', () => {
  const { na } = respond(encodeSolicitationFrame(nsFields()), context({ source: 'link-local', uplinkLinkLocal: undefined }));
  assert.equal(formatIpv6(na!.ipv6.source), CONTAINER);
});

test('options: --router, --no-override, --source link-local', () => {
  const frame = encodeSolicitationFrame(nsFields());
  const { na } = respond(frame, context({ router: true, override: false, source: 'link-local' }));
  assert.ok(na);
  assert.deepEqual([na.advertisement.router, na.advertisement.override], [true, false]);
  assert.equal(formatIpv6(na.ipv6.source), 'fe80::2');
});

test('prefix target: any address of the /125 is answered', () => {
  const { na } = respond(encodeSolicitationFrame(nsFields({}, '2001:db8::a:71a6')));
  assert.equal(formatIpv6(na!.advertisement.target), '2001:db8::a:71a6');
});

// RFC 4861 §7.1.1 and RFC 6980: each violation is dropped silently with its own reason.
const invalid: [string, () => Uint8Array, string][] = [
  ['hop limit 254', () => encodeSolicitationFrame(nsFields({ hopLimit: 254 })), 'bad-hop-limit'],
  ['ICMP code 1', () => withByte(encodeSolicitationFrame(nsFields()), 55, 1, true), 'bad-code'],
  ['bad checksum', () => withByte(encodeSolicitationFrame(nsFields()), 57, 0x5a, false), 'bad-checksum'],
  ['multicast target', () => encodeSolicitationFrame(nsFields({ solicitation: { target: parseIpv6('ff02::1'), options: [] } })), 'multicast-target'],
  ['DAD to a unicast destination', () => encodeSolicitationFrame(nsFields({ ipv6Source: parseIpv6('::'), ipv6Destination: parseIpv6(CONTAINER), solicitation: { target: parseIpv6(CONTAINER), options: [] } })), 'dad-bad-destination'],
  ['DAD with SLLA', () => encodeSolicitationFrame(nsFields({ ipv6Source: parseIpv6('::') })), 'dad-with-slla'],
  ['zero-length option', () => withByte(encodeSolicitationFrame(nsFields()), 79, 0, true), 'bad-option-length'],
  ['truncated to 20 bytes of ICMPv6', () => encodeSolicitationFrame(nsFields()).subarray(0, 74), 'malformed'],
  ['our own frame', () => encodeSolicitationFrame(nsFields({ ethernetSource: UPLINK_MAC })), 'own-frame'],
];

/** Patch one byte; with `fixChecksum` the ICMPv6 checksum is recomputed so only the intended field is wrong. */
function withByte(frame: Uint8Array, offset: number, value: number, fixChecksum: boolean): Uint8Array {
  const copy = Uint8Array.from(frame);
  copy[offset] = value;
  if (fixChecksum) writeIcmpv6Checksum(copy.subarray(22, 38), copy.subarray(38, 54), copy, 54, copy.length - 54);
  return copy;
}

/** The NS with its payload length, next header and following bytes rewritten, the checksum kept right. */
function withChain(frame: Uint8Array, nextHeader: number, extension: number[]): Uint8Array {
  const out = new Uint8Array(frame.length + extension.length);
  out.set(frame.subarray(0, 54));
  out.set(extension, 54);
  out.set(frame.subarray(54), 54 + extension.length);
  out[19] = out[19]! + extension.length;
  out[20] = nextHeader;
  return out;
}

// Several faults at once: the first row of SOLICITATION_RULES that fails names the reason.
const precedence: [string, () => Uint8Array, string][] = [
  ['hop-by-hop then a fragment, hop limit 64', () => withChain(encodeSolicitationFrame(nsFields({ hopLimit: 64 })), 0, [44, 0, 1, 4, 0, 0, 0, 0]), 'fragmented'],
  ['a fragment header directly, from our own MAC', () => withChain(encodeSolicitationFrame(nsFields({ ethernetSource: UPLINK_MAC })), 44, [58, 0, 0, 0, 0, 0, 0, 1]), 'fragmented'],
  ['destination options before the NS', () => withChain(encodeSolicitationFrame(nsFields()), 60, [58, 0, 1, 4, 0, 0, 0, 0]), 'malformed'],
  ['two hop-by-hop headers', () => withChain(encodeSolicitationFrame(nsFields()), 0, [0, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0]), 'malformed'],
  ['hop-by-hop longer than the payload', () => withChain(encodeSolicitationFrame(nsFields()), 0, [58, 9, 1, 4, 0, 0, 0, 0]), 'malformed'],
  ['an ICMPv6 echo request of 8 bytes', () => withByte(withByte(encodeSolicitationFrame(nsFields()).subarray(0, 62), 19, 8, false), 54, 128, false), 'malformed'],
  ['an NS of 20 bytes, payload length saying so', () => withByte(encodeSolicitationFrame(nsFields({ solicitation: { target: parseIpv6(CONTAINER), options: [] } })).subarray(0, 74), 19, 20, true), 'too-short'],
  ['zero-length option from our own MAC', () => withByte(encodeSolicitationFrame(nsFields({ ethernetSource: UPLINK_MAC })), 79, 0, true), 'bad-option-length'],
  ['65 options', () => encodeSolicitationFrame(nsFields({ solicitation: { target: parseIpv6(CONTAINER), options: Array.from({ length: 65 }, () => ({ type: 14 as const, nonce: new Uint8Array(6) })) } })), 'malformed'],
  ['our own MAC, hop limit 64', () => encodeSolicitationFrame(nsFields({ ethernetSource: UPLINK_MAC, hopLimit: 64 })), 'own-frame'],
  ['hop limit 64 and code 1', () => withByte(encodeSolicitationFrame(nsFields({ hopLimit: 64 })), 55, 1, true), 'bad-hop-limit'],
  ['bad checksum and a multicast target', () => withByte(encodeSolicitationFrame(nsFields({ solicitation: { target: parseIpv6('ff02::1'), options: [] } })), 57, 0x5a, false), 'bad-checksum'],
  ['DAD to a unicast destination, with SLLA', () => encodeSolicitationFrame(nsFields({ ipv6Source: parseIpv6('::'), ipv6Destination: parseIpv6(CONTAINER) })), 'dad-bad-destination'],
];
for (const [name, build, reason] of precedence) invalid.push([`${name} (several faults)`, build, reason]);

for (const [name, build, reason] of invalid) {
  test(`§7.1.1: ${name} → silence (${reason})`, () => {
    const { na, counters } = respond(build());
    assert.equal(na, undefined);
    assert.equal(counters.ignored[reason as keyof typeof counters.ignored], 1);
  });
}

/** The decision on a valid NS for `target` from `source`. */
function decision(target: string, ctx: DecisionContext, source = LAN_HOST): Target | string {
  const frame = encodeSolicitationFrame(nsFields({ ipv6Source: parseIpv6(source) }, target));
  const view = new SolicitationView();
  assert.equal(validateSolicitation(frame, 0, frame.length, undefined, view), undefined, 'fixture must be valid');
  return decide(frame, view, ctx);
}

const decisions: [string, string, Partial<DecisionContext> & { route?: RouteInfo }, string][] = [
  ['non-target', '2001:db8::99', {}, 'not-a-target'],
  ['link-local target', 'fe80::5', {}, 'link-local-target'],
  ['host own address', '2001:db8::2', {}, 'own-address'],
  ['route via the uplink', CONTAINER, { route: { kind: 'interface', ifname: 'eth0' } }, 'route-via-uplink'],
  ['no route', CONTAINER, { route: { kind: 'none' } }, 'no-route'],
  ['local route', CONTAINER, { route: { kind: 'local' } }, 'own-address'],
  ['--via br0 but route via docker0', CONTAINER, { via: 'br0', route: { kind: 'interface', ifname: 'docker0' } }, 'route-not-via'],
  ['link down', CONTAINER, { linkUp: false }, 'link-down'],
  ['link down, non-target: link-down comes first', '2001:db8::99', { linkUp: false }, 'link-down'],
];
for (const [name, target, overrides, reason] of decisions) {
  test(`decide: ${name} → ignore ${reason}`, () => {
    assert.equal(decision(target, context(overrides)), reason);
  });
}

test('decide: --via br0 with route via br0 → advertise; a target-specific via wins', () => {
  assert.equal((decision(CONTAINER, context({ via: 'br0' })) as Target).text, CONTAINER);
  const perTarget: Target = { ...parseTarget(CONTAINER), via: 'docker0' };
  const ctx = context({ via: 'br0', targets: new TargetSet([perTarget]), route: { kind: 'interface', ifname: 'docker0' } });
  assert.equal(decision(CONTAINER, ctx), perTarget);
});
