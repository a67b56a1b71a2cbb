import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAdvertisement, type DecisionContext } from '../../src/core/decide';
import { type RouteInfo } from '../../src/model/target';
import { OutputBatch, processBatch } from '../../src/core/responder';
import { ResponderCounters } from '../../src/model/counters';
import { TargetSet, addressKey } from '../../src/core/target-set';
import { type Target } from '../../src/model/target';
import { validateSolicitationFrame, type Solicitation } from '../../src/core/validate';
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
  const own = new Set((overrides.own ?? ['2001:db8::2']).map((a) => addressKey(parseIpv6(a))));
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
    isOwnAddress: (a) => own.has(addressKey(a)),
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
  processBatch(frame, 1, meta, ctx, out, counters);
  if (out.count === 0) return { counters, na: undefined };
  const na = decodeAdvertisementFrame(out.bytes.subarray(0, out.lengths[0]!));
  return { counters, na };
}

test('multicast NS → solicited NA to the source, TLLA = uplink MAC, hop limit 255, checksum valid', () => {
  const { na, counters } = respond(encodeSolicitationFrame(nsFields()));
  assert.ok(na);
  assert.equal(counters.advertised, 0); // the caller counts sends; processBatch only queues
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

for (const [name, build, reason] of invalid) {
  test(`§7.1.1: ${name} → silence (${reason})`, () => {
    const { na, counters } = respond(build());
    assert.equal(na, undefined);
    assert.equal(counters.ignored[reason as keyof typeof counters.ignored], 1);
  });
}

function solicitation(target: string, source = LAN_HOST): Solicitation {
  const frame = encodeSolicitationFrame(nsFields({ ipv6Source: parseIpv6(source) }, target));
  const v = validateSolicitationFrame(frame, 0, frame.length, undefined);
  assert.ok(v.ok, 'fixture must be valid');
  return v.solicitation;
}

const decisions: [string, string, Partial<DecisionContext> & { route?: RouteInfo }, string][] = [
  ['non-target', '2001:db8::99', {}, 'not-a-target'],
  ['host own address', '2001:db8::2', {}, 'own-address'],
  ['route via the uplink', CONTAINER, { route: { kind: 'interface', ifname: 'eth0' } }, 'route-via-uplink'],
  ['no route', CONTAINER, { route: { kind: 'none' } }, 'no-route'],
  ['local route', CONTAINER, { route: { kind: 'local' } }, 'own-address'],
  ['--via br0 but route via docker0', CONTAINER, { via: 'br0', route: { kind: 'interface', ifname: 'docker0' } }, 'route-not-via'],
  ['link down', CONTAINER, { linkUp: false }, 'link-down'],
];
for (const [name, target, overrides, reason] of decisions) {
  test(`decide: ${name} → ignore ${reason}`, () => {
    const decision = decideAdvertisement(solicitation(target), context(overrides));
    assert.equal(decision.action, 'ignore');
    assert.equal(decision.action === 'ignore' && decision.reason, reason);
  });
}

test('decide: --via br0 with route via br0 → advertise; a target-specific via wins', () => {
  assert.equal(decideAdvertisement(solicitation(CONTAINER), context({ via: 'br0' })).action, 'advertise');
  const perTarget: Target = { ...parseTarget(CONTAINER), via: 'docker0' };
  const ctx = context({ via: 'br0', targets: new TargetSet([perTarget]), route: { kind: 'interface', ifname: 'docker0' } });
  assert.equal(decideAdvertisement(solicitation(CONTAINER), ctx).action, 'advertise');
});
