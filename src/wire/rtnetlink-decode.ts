import {
  AddressAttribute,
  ExtendedAckAttribute,
  HeaderLength,
  LinkAttribute,
  NeighbourAttribute,
  NetlinkAckFlags,
  NetlinkMessageType as T,
  RouteAttribute,
  netlinkAlign,
} from './rtnetlink-constants';
import { RtnetlinkError } from './rtnetlink-error';
import {
  type NetlinkAttribute,
  type WireView,
  indexAttributes,
  readBytes,
  readString,
  readU32,
  readU8,
  wireView,
} from './rtnetlink-attributes';
import type {
  AddressMessage,
  DoneMessage,
  ErrorMessage,
  LinkMessage,
  NeighbourMessage,
  NetlinkMessage,
  RouteMessage,
} from './rtnetlink-types';

/** A validated nlmsghdr and the byte range of its body. */
interface Header {
  readonly offset: number;
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly body: number;
  readonly end: number;
}

/** Decodes every message in one datagram read from a NETLINK_ROUTE socket (host byte order, little-endian here). */
export function decodeNetlinkDatagram(bytes: Uint8Array): NetlinkMessage[] {
  const wire = wireView(bytes);
  const messages: NetlinkMessage[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const header = readHeader(wire, offset);
    messages.push(decodeMessage(wire, header));
    // NLMSG_NEXT: the last message's padding may be missing from the datagram.
    offset = Math.min(header.offset + netlinkAlign(header.end - header.offset), bytes.length);
  }
  return messages;
}

function readHeader(wire: WireView, offset: number): Header {
  const left = wire.bytes.length - offset;
  if (left < HeaderLength.Netlink) {
    throw new RtnetlinkError('TRUNCATED_HEADER', offset, `${left} bytes left, nlmsghdr needs ${HeaderLength.Netlink}`);
  }
  const length = wire.view.getUint32(offset, true);
  if (length < HeaderLength.Netlink) {
    throw new RtnetlinkError('BAD_MESSAGE_LENGTH', offset, `nlmsg_len ${length} is below ${HeaderLength.Netlink}`);
  }
  if (length > left) {
    throw new RtnetlinkError('MESSAGE_OVERRUN', offset, `nlmsg_len ${length} exceeds the ${left} bytes left`);
  }
  return {
    offset,
    type: wire.view.getUint16(offset + 4, true),
    flags: wire.view.getUint16(offset + 6, true),
    seq: wire.view.getUint32(offset + 8, true),
    body: offset + HeaderLength.Netlink,
    end: offset + length,
  };
}

function decodeMessage(wire: WireView, header: Header): NetlinkMessage {
  switch (header.type) {
    case T.NewLink:
    case T.DelLink:
      return decodeLink(wire, header, header.type);
    case T.NewAddr:
    case T.DelAddr:
      return decodeAddress(wire, header, header.type);
    case T.NewRoute:
    case T.DelRoute:
      return decodeRoute(wire, header, header.type);
    case T.NewNeigh:
    case T.DelNeigh:
      return decodeNeighbour(wire, header, header.type);
    case T.Error:
      return decodeError(wire, header);
    case T.Done:
      return decodeDone(wire, header);
    default:
      return { kind: 'other', type: header.type, seq: header.seq, flags: header.flags };
  }
}

function requireBody(header: Header, size: number, what: string): void {
  if (header.end - header.body < size) {
    throw new RtnetlinkError('TRUNCATED_PAYLOAD', header.body, `${what} needs ${size} bytes, message has ${header.end - header.body}`);
  }
}

/** Drops keys whose value is undefined so absent attributes are absent properties. */
function compact<M extends object>(message: M): M {
  for (const key of Object.keys(message) as (keyof M)[]) {
    if (message[key] === undefined) delete message[key];
  }
  return message;
}

function decodeLink(wire: WireView, header: Header, type: LinkMessage['type']): LinkMessage {
  requireBody(header, HeaderLength.LinkInfo, 'ifinfomsg');
  const { view } = wire;
  const at = indexAttributes(wire, header.body + HeaderLength.LinkInfo, header.end);
  return compact<LinkMessage>({
    kind: 'link',
    type,
    seq: header.seq,
    flags: header.flags,
    family: view.getUint8(header.body),
    ifindex: view.getInt32(header.body + 4, true),
    interfaceFlags: view.getUint32(header.body + 8, true),
    ifname: readString(wire, at.get(LinkAttribute.IfName)),
    mac: readBytes(wire, at.get(LinkAttribute.Address)),
    operstate: readU8(wire, at.get(LinkAttribute.OperState)),
    mtu: readU32(wire, at.get(LinkAttribute.Mtu)),
    master: readU32(wire, at.get(LinkAttribute.Master)),
  });
}

function decodeAddress(wire: WireView, header: Header, type: AddressMessage['type']): AddressMessage {
  requireBody(header, HeaderLength.AddressInfo, 'ifaddrmsg');
  const { view } = wire;
  const at = indexAttributes(wire, header.body + HeaderLength.AddressInfo, header.end);
  return compact<AddressMessage>({
    kind: 'address',
    type,
    seq: header.seq,
    flags: header.flags,
    family: view.getUint8(header.body),
    prefixLength: view.getUint8(header.body + 1),
    scope: view.getUint8(header.body + 3),
    ifindex: view.getUint32(header.body + 4, true),
    address: readBytes(wire, at.get(AddressAttribute.Address)),
    local: readBytes(wire, at.get(AddressAttribute.Local)),
    addressFlags: readU32(wire, at.get(AddressAttribute.Flags)) ?? view.getUint8(header.body + 2),
  });
}

function decodeRoute(wire: WireView, header: Header, type: RouteMessage['type']): RouteMessage {
  requireBody(header, HeaderLength.Route, 'rtmsg');
  const { view } = wire;
  const b = header.body;
  const at = indexAttributes(wire, b + HeaderLength.Route, header.end);
  return compact<RouteMessage>({
    kind: 'route',
    type,
    seq: header.seq,
    flags: header.flags,
    family: view.getUint8(b),
    destinationLength: view.getUint8(b + 1),
    table: readU32(wire, at.get(RouteAttribute.Table)) ?? view.getUint8(b + 4),
    protocol: view.getUint8(b + 5),
    scope: view.getUint8(b + 6),
    routeType: view.getUint8(b + 7),
    destination: readBytes(wire, at.get(RouteAttribute.Dst)),
    gateway: readBytes(wire, at.get(RouteAttribute.Gateway)),
    outputInterface: readU32(wire, at.get(RouteAttribute.Oif)),
    priority: readU32(wire, at.get(RouteAttribute.Priority)),
    multipathInterfaces: readNextHopInterfaces(wire, at.get(RouteAttribute.Multipath)),
  });
}

/** Walks the struct rtnexthop list inside RTA_MULTIPATH (each entry may carry its own attributes). */
function readNextHopInterfaces(wire: WireView, attribute: NetlinkAttribute | undefined): number[] | undefined {
  if (attribute === undefined) return undefined;
  const interfaces: number[] = [];
  const end = attribute.start + attribute.length;
  let offset = attribute.start;
  while (offset < end) {
    const left = end - offset;
    const length = left >= 2 ? wire.view.getUint16(offset, true) : 0;
    if (left < HeaderLength.NextHop || length < HeaderLength.NextHop || length > left) {
      throw new RtnetlinkError('BAD_NEXTHOP_LENGTH', offset, `rtnh_len ${length} with ${left} bytes left`);
    }
    interfaces.push(wire.view.getInt32(offset + 4, true));
    offset = Math.min(offset + netlinkAlign(length), end);
  }
  return interfaces;
}

function decodeNeighbour(wire: WireView, header: Header, type: NeighbourMessage['type']): NeighbourMessage {
  requireBody(header, HeaderLength.Neighbour, 'ndmsg');
  const { view } = wire;
  const at = indexAttributes(wire, header.body + HeaderLength.Neighbour, header.end);
  return compact<NeighbourMessage>({
    kind: 'neighbour',
    type,
    seq: header.seq,
    flags: header.flags,
    family: view.getUint8(header.body),
    ifindex: view.getInt32(header.body + 4, true),
    state: view.getUint16(header.body + 8, true),
    neighbourFlags: view.getUint8(header.body + 10),
    destination: readBytes(wire, at.get(NeighbourAttribute.Dst)),
  });
}

/** Kernel errors are negative errno values; report them positive and never as -0. */
function positiveErrno(raw: number): number {
  return raw === 0 ? 0 : -raw;
}

function decodeError(wire: WireView, header: Header): ErrorMessage {
  requireBody(header, HeaderLength.ErrorCode + HeaderLength.Netlink, 'nlmsgerr');
  const echoed = header.body + HeaderLength.ErrorCode;
  return compact<ErrorMessage>({
    kind: 'error',
    type: T.Error,
    seq: header.seq,
    flags: header.flags,
    errno: positiveErrno(wire.view.getInt32(header.body, true)),
    requestType: wire.view.getUint16(echoed + 4, true),
    message: readExtendedAckMessage(wire, header, echoed),
  });
}

/** Finds NLMSGERR_ATTR_MSG after the echoed request: just its header when CAPPED, else all of it. */
function readExtendedAckMessage(wire: WireView, header: Header, echoed: number): string | undefined {
  if ((header.flags & NetlinkAckFlags.AckTlvs) === 0) return undefined;
  const echoedLength =
    (header.flags & NetlinkAckFlags.Capped) !== 0 ? HeaderLength.Netlink : netlinkAlign(wire.view.getUint32(echoed, true));
  const start = echoed + echoedLength;
  if (echoedLength < HeaderLength.Netlink || start > header.end) {
    throw new RtnetlinkError('TRUNCATED_PAYLOAD', echoed, `echoed request of ${echoedLength} bytes overruns the error`);
  }
  return readString(wire, indexAttributes(wire, start, header.end).get(ExtendedAckAttribute.Message));
}

function decodeDone(wire: WireView, header: Header): DoneMessage {
  const hasCode = header.end - header.body >= HeaderLength.ErrorCode;
  return {
    kind: 'done',
    type: T.Done,
    seq: header.seq,
    flags: header.flags,
    errno: hasCode ? positiveErrno(wire.view.getInt32(header.body, true)) : 0,
  };
}
