import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressFamily,
  AddressFlags as AF,
  InterfaceFlags as IF,
  NeighbourFlags,
  NeighbourState,
  NetlinkAckFlags,
  NetlinkFlags as F,
  NetlinkMessageType as T,
  OperState,
  RouteProtocol,
  RouteScope,
  RouteTable,
  RouteType,
  decodeNetlinkDatagram,
  type NetlinkMessage,
} from '../../src/wire/rtnetlink';
import { ipv6, seqOf } from '../fixtures/rtnetlink-hex';
import * as get from '../fixtures/rtnetlink-route-get';
import * as change from '../fixtures/rtnetlink-route-change';
import * as dump from '../fixtures/rtnetlink-route-dump';
import * as link from '../fixtures/rtnetlink-link';
import * as address from '../fixtures/rtnetlink-address';
import * as neighbour from '../fixtures/rtnetlink-neighbour';

function only(bytes: Uint8Array): NetlinkMessage {
  const messages = decodeNetlinkDatagram(bytes);
  assert.equal(messages.length, 1);
  return messages[0] as NetlinkMessage;
}

function ofKind<K extends NetlinkMessage['kind']>(messages: NetlinkMessage[], kind: K): Extract<NetlinkMessage, { kind: K }>[] {
  return messages.filter((m): m is Extract<NetlinkMessage, { kind: K }> => m.kind === kind);
}

const routeGetHeader = { kind: 'route', type: T.NewRoute, flags: 0, family: AddressFamily.Inet6, destinationLength: 128 } as const;

describe('rtnetlink decode: RTM_GETROUTE answers (ip -6 route get)', () => {
  it('reports the output interface of an on-link destination', () => {
    assert.deepEqual(only(get.routeGetOnLinkReply), {
      ...routeGetHeader, seq: seqOf(get.routeGetOnLinkReply), table: RouteTable.Main, protocol: RouteProtocol.Kernel,
      scope: RouteScope.Universe, routeType: RouteType.Unicast, destination: ipv6('2001:db8::5'), outputInterface: 3, priority: 256,
    });
  });

  it('reports one of our own addresses as a LOCAL route in the local table out of lo', () => {
    assert.deepEqual(only(get.routeGetLocalReply), {
      ...routeGetHeader, seq: seqOf(get.routeGetLocalReply), table: RouteTable.Local, protocol: RouteProtocol.Kernel,
      scope: RouteScope.Universe, routeType: RouteType.Local, destination: ipv6('2001:db8::1'), outputInterface: 1, priority: 0,
    });
  });

  it('reports the one next hop the kernel chose from a multipath route, with its gateway', () => {
    const route = only(get.routeGetMultipathReply);
    assert.equal(route.kind, 'route');
    if (route.kind !== 'route') return;
    assert.deepEqual(route.gateway, ipv6('fe80::2'));
    assert.equal(route.outputInterface, 4);
    assert.equal(route.multipathInterfaces, undefined);
  });

  const failures = [
    { name: 'unreachable route', bytes: get.routeGetUnreachableError, errno: 113 }, // EHOSTUNREACH
    { name: 'no route at all', bytes: get.routeGetNoRouteError, errno: 101 }, // ENETUNREACH
    { name: 'blackhole route', bytes: get.routeGetBlackholeError, errno: 22 }, // EINVAL
    { name: 'prohibit route', bytes: get.routeGetProhibitError, errno: 13 }, // EACCES
  ];
  for (const { name, bytes, errno } of failures) {
    it(`answers a lookup that hits a ${name} with NLMSG_ERROR errno ${errno}`, () => {
      assert.deepEqual(only(bytes), { kind: 'error', type: T.Error, seq: seqOf(bytes), flags: 0, errno, requestType: T.GetRoute });
    });
  }
});

describe('rtnetlink decode: ACKs and errors for route changes', () => {
  it('decodes a capped ACK as errno 0 naming the request type', () => {
    const ack = { kind: 'error', type: T.Error, flags: NetlinkAckFlags.Capped, errno: 0 } as const;
    assert.deepEqual(only(change.routeAddAck), { ...ack, seq: seqOf(change.routeAddAck), requestType: T.NewRoute });
    assert.deepEqual(only(change.routeDeleteAck), { ...ack, seq: seqOf(change.routeDeleteAck), requestType: T.DelRoute });
  });

  it('decodes EEXIST (17) for a route that is already there', () => {
    assert.deepEqual(only(change.routeAddExistsError), {
      kind: 'error', type: T.Error, seq: seqOf(change.routeAddExistsError), flags: 0, errno: 17, requestType: T.NewRoute,
    });
  });

  it("surfaces the kernel's extended-ACK text", () => {
    const error = only(change.routeAddExtendedAckError);
    assert.equal(error.kind, 'error');
    if (error.kind !== 'error') return;
    assert.equal(error.errno, 22);
    assert.equal(error.message, 'Egress device not specified');
  });

  it('decodes route notifications, which carry the seq of the request that caused them', () => {
    const added = only(change.routeAddedNotification);
    const deleted = only(change.routeDeletedNotification);
    assert.equal(added.kind, 'route');
    assert.equal(deleted.kind, 'route');
    if (added.kind !== 'route' || deleted.kind !== 'route') return;
    assert.equal(added.type, T.NewRoute);
    assert.equal(added.flags, F.Create | F.Excl);
    assert.notEqual(added.seq, 0);
    assert.equal(deleted.type, T.DelRoute);
    for (const route of [added, deleted]) {
      assert.deepEqual(route.destination, ipv6('2001:db8:c0de::'));
      assert.equal(route.destinationLength, 48);
      assert.equal(route.protocol, RouteProtocol.Static);
      assert.equal(route.priority, 64);
      assert.equal(route.outputInterface, 3);
    }
  });
});

describe('rtnetlink decode: route dump (ip -6 route show table all)', () => {
  const routes = ofKind(decodeNetlinkDatagram(dump.routeDumpDatagram), 'route');

  it('decodes every route of every table in the datagram', () => {
    assert.equal(routes.length, 19);
    assert.ok(routes.every((r) => r.flags === (F.Multi | F.DumpFiltered) && r.type === T.NewRoute));
    assert.equal(routes.filter((r) => r.table === RouteTable.Local).length, 9);
  });

  it('walks RTA_MULTIPATH into the interfaces of each next hop', () => {
    const multipath = routes.find((r) => r.multipathInterfaces !== undefined);
    assert.deepEqual(multipath?.destination, ipv6('2001:db8:2::'));
    assert.deepEqual(multipath?.multipathInterfaces, [3, 4]);
    assert.equal(multipath?.outputInterface, undefined);
  });

  it('keeps reject routes distinguishable by type', () => {
    const byType = (type: number) => routes.filter((r) => r.routeType === type).map((r) => r.destination);
    assert.deepEqual(byType(RouteType.Unreachable), [ipv6('2001:db8:dead::')]);
    assert.deepEqual(byType(RouteType.Blackhole), [ipv6('2001:db8:b1ac::')]);
    assert.deepEqual(byType(RouteType.Prohibit), [ipv6('2001:db8:9a0::')]);
  });

  it('ends with NLMSG_DONE in its own datagram (which the kernel does not mark DUMP_FILTERED)', () => {
    assert.deepEqual(decodeNetlinkDatagram(dump.routeDumpDone), [
      { kind: 'done', type: T.Done, seq: seqOf(dump.routeDumpDone), flags: F.Multi, errno: 0 },
    ]);
  });
});

describe('rtnetlink decode: links (ip addr show, ip monitor link)', () => {
  it('decodes interface name, flags, MAC, MTU, operstate and bridge master', () => {
    const links = decodeNetlinkDatagram(link.linkDumpDatagram);
    const common = { kind: 'link', type: T.NewLink, seq: seqOf(link.linkDumpDatagram), flags: F.Multi, family: AddressFamily.Unspec } as const;
    assert.deepEqual(links, [
      { ...common, ifindex: 1, ifname: 'lo', interfaceFlags: IF.Up | IF.Loopback | IF.Running | IF.LowerUp,
        mac: new Uint8Array(6), operstate: OperState.Unknown, mtu: 65536 },
      { ...common, ifindex: 2, ifname: 'veth1', interfaceFlags: IF.Up | IF.Broadcast | IF.Running | IF.Multicast | IF.LowerUp,
        mac: Uint8Array.of(2, 0, 0, 0, 0x71, 0xa6), operstate: OperState.Up, mtu: 1500, master: 4 },
    ]);
  });

  it('decodes a deleted link notification', () => {
    const gone = only(link.linkDeletedNotification);
    assert.equal(gone.kind, 'link');
    if (gone.kind !== 'link') return;
    assert.equal(gone.type, T.DelLink);
    assert.equal(gone.seq, 0);
    assert.equal(gone.ifindex, 6);
    assert.equal(gone.ifname, 'vtest0');
    assert.equal(gone.interfaceFlags & IF.Up, 0);
  });

  it('decodes requests it does not model (RTM_GETLINK) and a lone DONE', () => {
    assert.deepEqual(only(link.linkDumpRequest), { kind: 'other', type: T.GetLink, seq: seqOf(link.linkDumpRequest), flags: F.Request | F.Dump });
    assert.equal(only(link.linkDumpDone).kind, 'done');
  });
});

describe('rtnetlink decode: addresses (ip -6 addr show, ip monitor address)', () => {
  const messages = decodeNetlinkDatagram(address.addressDumpDatagram);

  it('decodes a multipart dump of several addresses followed by DONE in one datagram', () => {
    assert.deepEqual(messages.map((m) => m.kind), ['address', 'address', 'address', 'address', 'address', 'address', 'done']);
    assert.ok(messages.every((m) => m.seq === seqOf(address.addressDumpDatagram) && m.flags === F.Multi));
  });

  it('decodes prefix, scope, interface and IFA_FLAGS', () => {
    const global = ofKind(messages, 'address').find((m) => m.ifindex === 3 && m.scope === RouteScope.Universe);
    assert.deepEqual(global, {
      kind: 'address', type: T.NewAddr, seq: seqOf(address.addressDumpDatagram), flags: F.Multi, family: AddressFamily.Inet6,
      prefixLength: 64, ifindex: 3, scope: RouteScope.Universe, address: ipv6('2001:db8::1'), addressFlags: AF.Permanent | AF.NoDad,
    });
    const linkLocal = ofKind(messages, 'address').filter((m) => m.scope === RouteScope.Link);
    assert.equal(linkLocal.length, 3);
  });

  it('decodes added and deleted address notifications', () => {
    const added = only(address.addressAddedNotification);
    const deleted = only(address.addressDeletedNotification);
    assert.equal(added.type, T.NewAddr);
    assert.equal(deleted.type, T.DelAddr);
    for (const m of [added, deleted]) {
      assert.equal(m.kind, 'address');
      if (m.kind === 'address') assert.deepEqual(m.address, ipv6('2001:db8::77'));
    }
  });
});

describe('rtnetlink decode: neighbours (ip -6 neigh show [proxy])', () => {
  it('decodes a kernel proxy entry as NTF_PROXY with no NUD state', () => {
    assert.deepEqual(decodeNetlinkDatagram(neighbour.neighbourProxyDumpDatagram), [
      { kind: 'neighbour', type: T.NewNeigh, seq: seqOf(neighbour.neighbourProxyDumpDatagram), flags: F.Multi, family: AddressFamily.Inet6,
        ifindex: 3, state: NeighbourState.None, neighbourFlags: NeighbourFlags.Proxy, destination: ipv6('2001:db8::a:71a5') },
      { kind: 'done', type: T.Done, seq: seqOf(neighbour.neighbourProxyDumpDatagram), flags: F.Multi, errno: 0 },
    ]);
  });

  it('decodes the ordinary cache, which never lists proxy entries', () => {
    const entries = ofKind(decodeNetlinkDatagram(neighbour.neighbourDumpDatagram), 'neighbour');
    assert.equal(entries.length, 10);
    assert.ok(entries.every((e) => (e.neighbourFlags & NeighbourFlags.Proxy) === 0));
    const permanent = entries.filter((e) => e.state === NeighbourState.Permanent);
    assert.deepEqual(permanent.map((e) => e.destination), [ipv6('2001:db8::99')]);
  });

  it('decodes added and deleted neighbour notifications', () => {
    const added = only(neighbour.neighbourAddedNotification);
    const deleted = only(neighbour.neighbourDeletedNotification);
    assert.equal(added.kind, 'neighbour');
    assert.equal(deleted.kind, 'neighbour');
    if (added.kind !== 'neighbour' || deleted.kind !== 'neighbour') return;
    assert.equal(added.type, T.NewNeigh);
    assert.equal(added.state, NeighbourState.Permanent);
    assert.equal(deleted.type, T.DelNeigh);
    assert.deepEqual(deleted.destination, ipv6('2001:db8::98'));
  });
});
