import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressFamily,
  NetlinkFlags as F,
  NetlinkMessageType as T,
  RouteProtocol,
  RouteScope,
  RouteTable,
  RouteType,
  RtnetlinkError,
  decodeNetlinkDatagram,
  encodeAddressDumpRequest,
  encodeLinkDumpRequest,
  encodeNeighbourDumpRequest,
  encodeRouteChangeRequest,
  encodeRouteDumpRequest,
  encodeRouteGetRequest,
  type RouteChange,
} from '../../src/wire/rtnetlink';
import { hex, ipv6, seqOf } from '../fixtures/rtnetlink-hex';
import { routeGetRequest } from '../fixtures/rtnetlink-route-get';
import * as change from '../fixtures/rtnetlink-route-change';
import { routeDumpRequest } from '../fixtures/rtnetlink-route-dump';
import { addressDumpRequest } from '../fixtures/rtnetlink-address';
import { neighbourDumpRequest, neighbourProxyDumpRequest } from '../fixtures/rtnetlink-neighbour';
import { linkDumpRequest } from '../fixtures/rtnetlink-link';

const beef = { destination: ipv6('2001:db8:beef::'), prefixLength: 48, outputInterface: 3 } as const;

describe('rtnetlink encode: byte-identical to what ip sends', () => {
  const cases: { name: string; captured: Uint8Array; encode: (seq: number) => Uint8Array }[] = [
    { name: 'ip -6 route get 2001:db8::5', captured: routeGetRequest, encode: (seq) => encodeRouteGetRequest(seq, ipv6('2001:db8::5')) },
    { name: 'ip -6 route show table all', captured: routeDumpRequest, encode: (seq) => encodeRouteDumpRequest(seq) },
    { name: 'ip -6 addr show', captured: addressDumpRequest, encode: (seq) => encodeAddressDumpRequest(seq) },
    { name: 'ip -6 neigh show proxy', captured: neighbourProxyDumpRequest, encode: (seq) => encodeNeighbourDumpRequest(seq) },
    { name: 'ip -6 neigh show', captured: neighbourDumpRequest, encode: (seq) => encodeNeighbourDumpRequest(seq, AddressFamily.Inet6, { proxy: false }) },
    { name: 'ip -6 route add … dev veth0 metric 300', captured: change.routeAddRequest, encode: (seq) => encodeRouteChangeRequest(seq, { op: 'add', ...beef, metric: 300 }) },
    { name: 'ip -6 route del … dev veth0 metric 300', captured: change.routeDeleteRequest, encode: (seq) => encodeRouteChangeRequest(seq, { op: 'delete', ...beef, metric: 300 }) },
    { name: 'ip -6 route add … dev veth0', captured: change.routeAddNoMetricRequest, encode: (seq) => encodeRouteChangeRequest(seq, { op: 'add', ...beef }) },
    { name: 'ip -6 route del … dev veth0', captured: change.routeDeleteNoMetricRequest, encode: (seq) => encodeRouteChangeRequest(seq, { op: 'delete', ...beef }) },
    {
      name: 'ip -6 route add … table 1000 proto static metric 300 dev veth0',
      captured: change.routeAddTableRequest,
      encode: (seq) => encodeRouteChangeRequest(seq, { op: 'add', ...beef, table: 1000, protocol: RouteProtocol.Static, metric: 300 }),
    },
    {
      name: 'ip -6 route del … table 1000 proto static metric 300 dev veth0',
      captured: change.routeDeleteTableRequest,
      encode: (seq) => encodeRouteChangeRequest(seq, { op: 'delete', ...beef, table: 1000, protocol: RouteProtocol.Static, metric: 300 }),
    },
  ];
  for (const { name, captured, encode } of cases) {
    it(name, () => assert.deepEqual(encode(seqOf(captured)), captured));
  }

  it('ip addr show link dump, minus the IFLA_EXT_MASK attribute we do not send', () => {
    const withoutExtMask = linkDumpRequest.slice(0, 32);
    new DataView(withoutExtMask.buffer).setUint32(0, 32, true);
    assert.deepEqual(encodeLinkDumpRequest(seqOf(linkDumpRequest)), withoutExtMask);
  });
});

describe('rtnetlink encode: layout details', () => {
  it('writes host-order (little-endian) seq and a zero port id', () => {
    assert.deepEqual(encodeLinkDumpRequest(0x01020304).subarray(8, 16), hex('04030201 00000000'));
  });

  it('honours the family argument of dump requests', () => {
    assert.equal(encodeAddressDumpRequest(1, AddressFamily.Unspec)[16], 0);
    assert.equal(encodeRouteDumpRequest(1, AddressFamily.Inet)[16], AddressFamily.Inet);
  });

  it('returns a fresh buffer on every call', () => {
    const first = encodeRouteGetRequest(7, ipv6('2001:db8::5'));
    const second = encodeRouteGetRequest(7, ipv6('2001:db8::5'));
    assert.notEqual(first, second);
    first.fill(0);
    assert.deepEqual(second, encodeRouteGetRequest(7, ipv6('2001:db8::5')));
  });

  it('keeps a table below 256 in rtm_table without RTA_TABLE', () => {
    const bytes = encodeRouteChangeRequest(1, { op: 'add', ...beef, table: 100 });
    assert.equal(bytes[20], 100);
    assert.equal(bytes.length, 56);
  });
});

describe('rtnetlink encode: route changes decode back to what was asked', () => {
  const asked: RouteChange[] = [
    { op: 'add', ...beef },
    { op: 'add', destination: ipv6('2001:db8::a:71a5'), prefixLength: 128, outputInterface: 7, table: 4242, protocol: 99, metric: 1 },
    { op: 'delete', destination: ipv6('::'), prefixLength: 0, outputInterface: 0x7fffffff, metric: 0xffffffff },
  ];
  for (const request of asked) {
    it(`${request.op} /${request.prefixLength}`, () => {
      const [route, ...rest] = decodeNetlinkDatagram(encodeRouteChangeRequest(9, request));
      assert.equal(rest.length, 0);
      const add = request.op === 'add';
      const expected = {
        kind: 'route', type: add ? T.NewRoute : T.DelRoute, seq: 9, flags: add ? F.Request | F.Ack | F.Create | F.Excl : F.Request | F.Ack,
        family: AddressFamily.Inet6, destinationLength: request.prefixLength, table: request.table ?? RouteTable.Main,
        protocol: request.protocol ?? (add ? RouteProtocol.Boot : RouteProtocol.Unspec), scope: RouteScope.Universe,
        routeType: add ? RouteType.Unicast : RouteType.Unspec, destination: request.destination, outputInterface: request.outputInterface,
        ...(request.metric === undefined ? {} : { priority: request.metric }),
      };
      assert.deepEqual(route, expected);
    });
  }
});

describe('rtnetlink encode: arguments the wire cannot carry', () => {
  const bad: { name: string; run: () => Uint8Array }[] = [
    { name: 'a 4-byte destination', run: () => encodeRouteGetRequest(1, Uint8Array.of(192, 0, 2, 1)) },
    { name: 'a negative seq', run: () => encodeLinkDumpRequest(-1) },
    { name: 'a seq above 2^32-1', run: () => encodeRouteDumpRequest(2 ** 32) },
    { name: 'a fractional seq', run: () => encodeAddressDumpRequest(1.5) },
    { name: 'a family above 255', run: () => encodeNeighbourDumpRequest(1, 256) },
    { name: 'prefix length 129', run: () => encodeRouteChangeRequest(1, { op: 'add', ...beef, prefixLength: 129 }) },
    { name: 'output interface 0', run: () => encodeRouteChangeRequest(1, { op: 'add', ...beef, outputInterface: 0 }) },
    { name: 'table 0', run: () => encodeRouteChangeRequest(1, { op: 'add', ...beef, table: 0 }) },
    { name: 'protocol 256', run: () => encodeRouteChangeRequest(1, { op: 'delete', ...beef, protocol: 256 }) },
    { name: 'a negative metric', run: () => encodeRouteChangeRequest(1, { op: 'add', ...beef, metric: -1 }) },
  ];
  for (const { name, run } of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(run, (error: unknown) => error instanceof RtnetlinkError && error.code === 'INVALID_ARGUMENT');
    });
  }
});
