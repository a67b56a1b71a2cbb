import {
  AddressFamily,
  HeaderLength,
  NeighbourFlags,
  NetlinkFlags as F,
  NetlinkMessageType as T,
  RouteAttribute,
  RouteProtocol,
  RouteScope,
  RouteTable,
  RouteType,
  netlinkAlign,
} from './rtnetlink-constants';
import { RtnetlinkError } from './rtnetlink-error';
import { u32Payload, wireView, writeAttribute } from './rtnetlink-attributes';

/**
 * Request encoders. Each returns a fresh Uint8Array holding one netlink
 * message in host byte order (little-endian here), addressed to the kernel
 * (nlmsg_pid 0). Field choices mirror what iproute2 6.1 sends for the same
 * request, so the bytes can be compared with `strace` captures of `ip`.
 */

/** What `encodeRouteChangeRequest` adds or deletes. */
export interface RouteChange {
  readonly op: 'add' | 'delete';
  /** 16-byte IPv6 destination prefix. */
  readonly destination: Uint8Array;
  readonly prefixLength: number;
  readonly outputInterface: number;
  /** Routing table id; default Main. Ids above 255 are sent in RTA_TABLE. */
  readonly table?: number;
  /** rtm_protocol; default Boot for add and Unspec for delete, where a non-zero value only matches routes of that protocol. */
  readonly protocol?: number;
  /** RTA_PRIORITY; omitted lets the kernel pick (1024 for IPv6) on add and match any metric on delete. */
  readonly metric?: number;
}

type Attribute = readonly [type: number, payload: Uint8Array];

const U32_MAX = 0xffffffff;

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RtnetlinkError('INVALID_ARGUMENT', 0, `${name} ${value} is not an integer in [${min}, ${max}]`);
  }
}

function requireIpv6(name: string, address: Uint8Array): void {
  if (address.length !== 16) {
    throw new RtnetlinkError('INVALID_ARGUMENT', 0, `${name} has ${address.length} bytes, an IPv6 address has 16`);
  }
}

/** Lays out nlmsghdr, the family header and the attributes into one fresh buffer. */
function buildMessage(type: number, flags: number, seq: number, familyHeader: Uint8Array, attributes: readonly Attribute[] = []): Uint8Array {
  requireInteger('seq', seq, 0, U32_MAX);
  const attributeBytes = attributes.reduce((sum, [, payload]) => sum + netlinkAlign(HeaderLength.Attribute + payload.length), 0);
  const length = HeaderLength.Netlink + familyHeader.length + attributeBytes;
  const wire = wireView(new Uint8Array(length));
  wire.view.setUint32(0, length, true);
  wire.view.setUint16(4, type, true);
  wire.view.setUint16(6, flags, true);
  wire.view.setUint32(8, seq, true);
  wire.view.setUint32(12, 0, true); // nlmsg_pid: the kernel
  wire.bytes.set(familyHeader, HeaderLength.Netlink);
  let offset = HeaderLength.Netlink + familyHeader.length;
  for (const [attributeType, payload] of attributes) {
    offset += writeAttribute(wire, offset, attributeType, payload);
  }
  return wire.bytes;
}

/** Fields of struct rtmsg; unset ones are zero. */
interface RtmsgFields {
  readonly family: number;
  readonly destinationLength?: number;
  readonly table?: number;
  readonly protocol?: number;
  readonly scope?: number;
  readonly routeType?: number;
}

function rtmsg(fields: RtmsgFields): Uint8Array {
  const header = new Uint8Array(HeaderLength.Route);
  header[0] = fields.family;
  header[1] = fields.destinationLength ?? 0;
  // header[2] rtm_src_len and header[3] rtm_tos stay 0; so does rtm_flags (bytes 8-11).
  header[4] = fields.table ?? 0;
  header[5] = fields.protocol ?? 0;
  header[6] = fields.scope ?? 0;
  header[7] = fields.routeType ?? 0;
  return header;
}

function familyOnly(size: number, family: number): Uint8Array {
  requireInteger('family', family, 0, 255);
  const header = new Uint8Array(size);
  header[0] = family;
  return header;
}

/** RTM_GETLINK dump of every interface (ifinfomsg with AF_UNSPEC, no filter attributes). */
export function encodeLinkDumpRequest(seq: number): Uint8Array {
  return buildMessage(T.GetLink, F.Request | F.Dump, seq, familyOnly(HeaderLength.LinkInfo, AddressFamily.Unspec));
}

/** RTM_GETADDR dump of every address of one family (IPv6 by default). */
export function encodeAddressDumpRequest(seq: number, family: number = AddressFamily.Inet6): Uint8Array {
  return buildMessage(T.GetAddr, F.Request | F.Dump, seq, familyOnly(HeaderLength.AddressInfo, family));
}

/** RTM_GETROUTE dump of every route of one family in every table (IPv6 by default). */
export function encodeRouteDumpRequest(seq: number, family: number = AddressFamily.Inet6): Uint8Array {
  return buildMessage(T.GetRoute, F.Request | F.Dump, seq, familyOnly(HeaderLength.Route, family));
}

/** RTM_GETNEIGH dump; by default of proxy entries only (ndm_flags exactly NTF_PROXY), else of the neighbour cache only. */
export function encodeNeighbourDumpRequest(
  seq: number,
  family: number = AddressFamily.Inet6,
  options: { readonly proxy?: boolean } = {},
): Uint8Array {
  const header = familyOnly(HeaderLength.Neighbour, family);
  // The kernel switches to the proxy table only when ndm_flags == NTF_PROXY.
  header[10] = (options.proxy ?? true) ? NeighbourFlags.Proxy : 0;
  return buildMessage(T.GetNeigh, F.Request | F.Dump, seq, header);
}

/** RTM_GETROUTE lookup of one IPv6 address; the kernel answers with the FIB result (RTA_OIF) or an NLMSG_ERROR. */
export function encodeRouteGetRequest(seq: number, destination: Uint8Array): Uint8Array {
  requireIpv6('destination', destination);
  const header = rtmsg({ family: AddressFamily.Inet6, destinationLength: 128 });
  return buildMessage(T.GetRoute, F.Request, seq, header, [[RouteAttribute.Dst, destination]]);
}

function validateRouteChange(change: RouteChange): void {
  requireIpv6('destination', change.destination);
  requireInteger('prefixLength', change.prefixLength, 0, 128);
  requireInteger('outputInterface', change.outputInterface, 1, 0x7fffffff);
  if (change.table !== undefined) requireInteger('table', change.table, 1, U32_MAX);
  if (change.protocol !== undefined) requireInteger('protocol', change.protocol, 0, 255);
  if (change.metric !== undefined) requireInteger('metric', change.metric, 0, U32_MAX);
}

/** RTM_NEWROUTE (create, fail if it exists) or RTM_DELROUTE for an IPv6 unicast route out of one interface, asking for an ACK. */
export function encodeRouteChangeRequest(seq: number, change: RouteChange): Uint8Array {
  validateRouteChange(change);
  const add = change.op === 'add';
  const table = change.table ?? RouteTable.Main;
  const header = rtmsg({
    family: AddressFamily.Inet6,
    destinationLength: change.prefixLength,
    table: table <= 0xff ? table : RouteTable.Unspec,
    protocol: change.protocol ?? (add ? RouteProtocol.Boot : RouteProtocol.Unspec),
    scope: RouteScope.Universe,
    // iproute2 leaves the type unset on delete; IPv6 deletion does not match on it.
    routeType: add ? RouteType.Unicast : RouteType.Unspec,
  });
  const attributes: Attribute[] = [[RouteAttribute.Dst, change.destination]];
  if (table > 0xff) attributes.push([RouteAttribute.Table, u32Payload(table)]);
  if (change.metric !== undefined) attributes.push([RouteAttribute.Priority, u32Payload(change.metric)]);
  attributes.push([RouteAttribute.Oif, u32Payload(change.outputInterface)]);
  const flags = add ? F.Request | F.Ack | F.Create | F.Excl : F.Request | F.Ack;
  return buildMessage(add ? T.NewRoute : T.DelRoute, flags, seq, header, attributes);
}
