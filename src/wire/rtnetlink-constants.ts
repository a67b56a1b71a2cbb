/**
 * Protocol numbers for rtnetlink (NETLINK_ROUTE), from the Linux UAPI headers
 * linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h,
 * linux/neighbour.h and linux/if.h.
 *
 * Netlink is host byte order, not network byte order: every multi-byte field
 * in this codec is read and written little-endian, which is correct on x86_64
 * and aarch64 Linux (the only targets of this project).
 */

/** nlmsghdr.nlmsg_type values: netlink control messages and the rtnetlink families we use. */
export const NetlinkMessageType = {
  Noop: 1,
  Error: 2,
  Done: 3,
  Overrun: 4,
  NewLink: 16,
  DelLink: 17,
  GetLink: 18,
  NewAddr: 20,
  DelAddr: 21,
  GetAddr: 22,
  NewRoute: 24,
  DelRoute: 25,
  GetRoute: 26,
  NewNeigh: 28,
  DelNeigh: 29,
  GetNeigh: 30,
} as const;

/** nlmsghdr.nlmsg_flags bits (NLM_F_*); the 0x100-0x400 bits mean different things for GET and NEW requests. */
export const NetlinkFlags = {
  Request: 0x1,
  Multi: 0x2,
  Ack: 0x4,
  Echo: 0x8,
  DumpIntr: 0x10,
  DumpFiltered: 0x20,
  Root: 0x100,
  Match: 0x200,
  Dump: 0x300,
  Replace: 0x100,
  Excl: 0x200,
  Create: 0x400,
} as const;

/** nlmsg_flags bits that only appear on NLMSG_ERROR messages (NLM_F_CAPPED, NLM_F_ACK_TLVS). */
export const NetlinkAckFlags = {
  Capped: 0x100,
  AckTlvs: 0x200,
} as const;

/** Legacy multicast group bitmask (RTMGRP_*) for sockaddr_nl.nl_groups at bind time. */
export const RtnetlinkGroups = {
  Link: 0x1,
  Neigh: 0x4,
  Ipv6Ifaddr: 0x100,
  Ipv6Route: 0x400,
} as const;

/** Address families (AF_*) as they appear in rtnetlink family headers. */
export const AddressFamily = {
  Unspec: 0,
  Inet: 2,
  Bridge: 7,
  Inet6: 10,
} as const;

/** ifinfomsg.ifi_flags bits (IFF_*). */
export const InterfaceFlags = {
  Up: 0x1,
  Broadcast: 0x2,
  Loopback: 0x8,
  PointToPoint: 0x10,
  Running: 0x40,
  NoArp: 0x80,
  Promisc: 0x100,
  Multicast: 0x1000,
  LowerUp: 0x10000,
  Dormant: 0x20000,
} as const;

/** IFLA_OPERSTATE values (RFC 2863 operational status). */
export const OperState = {
  Unknown: 0,
  NotPresent: 1,
  Down: 2,
  LowerLayerDown: 3,
  Testing: 4,
  Dormant: 5,
  Up: 6,
} as const;

/** ifa_flags / IFA_FLAGS bits (IFA_F_*). */
export const AddressFlags = {
  Secondary: 0x01,
  NoDad: 0x02,
  Optimistic: 0x04,
  DadFailed: 0x08,
  HomeAddress: 0x10,
  Deprecated: 0x20,
  Tentative: 0x40,
  Permanent: 0x80,
  ManageTempAddr: 0x100,
  NoPrefixRoute: 0x200,
} as const;

/** rtmsg.rtm_type values (RTN_*). */
export const RouteType = {
  Unspec: 0,
  Unicast: 1,
  Local: 2,
  Broadcast: 3,
  Anycast: 4,
  Multicast: 5,
  Blackhole: 6,
  Unreachable: 7,
  Prohibit: 8,
  Throw: 9,
} as const;

/** Well-known routing table ids (RT_TABLE_*); ids above 255 travel only in RTA_TABLE. */
export const RouteTable = {
  Unspec: 0,
  Main: 254,
  Local: 255,
} as const;

/** rtmsg.rtm_protocol values (RTPROT_*): who installed a route. */
export const RouteProtocol = {
  Unspec: 0,
  Kernel: 2,
  Boot: 3,
  Static: 4,
} as const;

/** rtmsg.rtm_scope values (RT_SCOPE_*). */
export const RouteScope = {
  Universe: 0,
  Link: 253,
  Host: 254,
  Nowhere: 255,
} as const;

/** ndmsg.ndm_flags bits (NTF_*); Proxy marks `ip -6 neigh add proxy` entries. */
export const NeighbourFlags = {
  Use: 0x01,
  Self: 0x02,
  Master: 0x04,
  Proxy: 0x08,
  ExtLearned: 0x10,
  Offloaded: 0x20,
  Sticky: 0x40,
  Router: 0x80,
} as const;

/** ndmsg.ndm_state bits (NUD_*); proxy entries report None. */
export const NeighbourState = {
  None: 0x00,
  Incomplete: 0x01,
  Reachable: 0x02,
  Stale: 0x04,
  Delay: 0x08,
  Probe: 0x10,
  Failed: 0x20,
  NoArp: 0x40,
  Permanent: 0x80,
} as const;

/** IFLA_* attribute types this codec reads from link messages. */
export const LinkAttribute = {
  Address: 1,
  IfName: 3,
  Mtu: 4,
  Master: 10,
  OperState: 16,
} as const;

/** IFA_* attribute types this codec reads from address messages. */
export const AddressAttribute = {
  Address: 1,
  Local: 2,
  Flags: 8,
} as const;

/** RTA_* attribute types this codec reads or writes in route messages. */
export const RouteAttribute = {
  Dst: 1,
  Oif: 4,
  Gateway: 5,
  Priority: 6,
  Multipath: 9,
  Table: 15,
} as const;

/** NDA_* attribute types this codec reads from neighbour messages. */
export const NeighbourAttribute = {
  Dst: 1,
} as const;

/** NLMSGERR_ATTR_* extended-ACK attribute types found after an NLMSG_ERROR body. */
export const ExtendedAckAttribute = {
  Message: 1,
} as const;

/** Fixed sizes in bytes of the headers this codec walks. */
export const HeaderLength = {
  Netlink: 16, // struct nlmsghdr
  Attribute: 4, // struct rtattr / nlattr
  LinkInfo: 16, // struct ifinfomsg
  AddressInfo: 8, // struct ifaddrmsg
  Route: 12, // struct rtmsg
  Neighbour: 12, // struct ndmsg
  NextHop: 8, // struct rtnexthop
  ErrorCode: 4, // the int error at the start of struct nlmsgerr
} as const;

/** Rounds a length up to the 4-byte netlink alignment (NLMSG_ALIGN and RTA_ALIGN agree). */
export function netlinkAlign(length: number): number {
  return (length + 3) & ~3;
}
