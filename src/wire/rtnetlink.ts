/**
 * rtnetlink (NETLINK_ROUTE) codec: pure functions from datagram bytes to
 * values and from request values to bytes. No sockets: the native addon reads
 * and writes the datagrams. Netlink is host byte order, which is
 * little-endian on every target of this project (x86_64, aarch64).
 */
export * from './rtnetlink-constants';
export * from './rtnetlink-error';
export * from './rtnetlink-types';
export { decodeNetlinkDatagram } from './rtnetlink-decode';
export {
  type RouteChange,
  encodeAddressDumpRequest,
  encodeLinkDumpRequest,
  encodeNeighbourDumpRequest,
  encodeRouteChangeRequest,
  encodeRouteDumpRequest,
  encodeRouteGetRequest,
} from './rtnetlink-encode';
