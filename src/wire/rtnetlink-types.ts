import type { NetlinkMessageType } from './rtnetlink-constants';

type MessageTypes = typeof NetlinkMessageType;

/** Fields every decoded message carries from its nlmsghdr. */
export interface NetlinkHeaderFields {
  /** nlmsg_seq: the request's sequence number in replies; 0 or the requester's seq in notifications. */
  readonly seq: number;
  /** nlmsg_flags (NetlinkFlags / NetlinkAckFlags bits). */
  readonly flags: number;
}

/** RTM_NEWLINK / RTM_DELLINK: an interface and its state. */
export interface LinkMessage extends NetlinkHeaderFields {
  readonly kind: 'link';
  readonly type: MessageTypes['NewLink'] | MessageTypes['DelLink'];
  /** ifi_family: Unspec for ordinary link messages, Bridge for bridge-port events. */
  readonly family: number;
  readonly ifindex: number;
  /** ifi_flags (InterfaceFlags bits). */
  readonly interfaceFlags: number;
  readonly ifname?: string;
  /** IFLA_ADDRESS: the link-layer (MAC) address. */
  readonly mac?: Uint8Array;
  /** IFLA_OPERSTATE (OperState values). */
  readonly operstate?: number;
  readonly mtu?: number;
  /** IFLA_MASTER: ifindex of the bridge or bond this link is enslaved to. */
  readonly master?: number;
}

/** RTM_NEWADDR / RTM_DELADDR: an address assigned to an interface. */
export interface AddressMessage extends NetlinkHeaderFields {
  readonly kind: 'address';
  readonly type: MessageTypes['NewAddr'] | MessageTypes['DelAddr'];
  readonly family: number;
  readonly prefixLength: number;
  readonly ifindex: number;
  /** ifa_scope (RouteScope values). */
  readonly scope: number;
  readonly address?: Uint8Array;
  readonly local?: Uint8Array;
  /** IFA_FLAGS when present (it carries bits above 0xff), else ifa_flags (AddressFlags bits). */
  readonly addressFlags: number;
}

/** RTM_NEWROUTE / RTM_DELROUTE: a route, or the answer to an RTM_GETROUTE lookup. */
export interface RouteMessage extends NetlinkHeaderFields {
  readonly kind: 'route';
  readonly type: MessageTypes['NewRoute'] | MessageTypes['DelRoute'];
  readonly family: number;
  readonly destinationLength: number;
  /** RTA_TABLE when present (ids above 255 exist), else rtm_table. */
  readonly table: number;
  /** rtm_protocol (RouteProtocol values). */
  readonly protocol: number;
  /** rtm_scope (RouteScope values). */
  readonly scope: number;
  /** rtm_type (RouteType values). */
  readonly routeType: number;
  readonly destination?: Uint8Array;
  readonly gateway?: Uint8Array;
  /** RTA_OIF: the interface the route sends out of. */
  readonly outputInterface?: number;
  /** RTA_PRIORITY: the route metric. */
  readonly priority?: number;
  /** The rtnh_ifindex of each RTA_MULTIPATH next hop, in kernel order. */
  readonly multipathInterfaces?: number[];
}

/** RTM_NEWNEIGH / RTM_DELNEIGH: a neighbour cache or proxy entry. */
export interface NeighbourMessage extends NetlinkHeaderFields {
  readonly kind: 'neighbour';
  readonly type: MessageTypes['NewNeigh'] | MessageTypes['DelNeigh'];
  readonly family: number;
  readonly ifindex: number;
  /** ndm_state (NeighbourState bits); proxy entries report None. */
  readonly state: number;
  /** ndm_flags (NeighbourFlags bits); Proxy marks `ip -6 neigh add proxy` entries. */
  readonly neighbourFlags: number;
  readonly destination?: Uint8Array;
}

/** NLMSG_ERROR: an ACK when errno is 0, otherwise the failure of the request it echoes. */
export interface ErrorMessage extends NetlinkHeaderFields {
  readonly kind: 'error';
  readonly type: MessageTypes['Error'];
  /** Positive errno (17 = EEXIST); 0 means ACK. */
  readonly errno: number;
  /** nlmsg_type of the request this answers. */
  readonly requestType: number;
  /** NLMSGERR_ATTR_MSG: the kernel's extended-ACK text, when it sent one. */
  readonly message?: string;
}

/** NLMSG_DONE: the end of a multipart dump. */
export interface DoneMessage extends NetlinkHeaderFields {
  readonly kind: 'done';
  readonly type: MessageTypes['Done'];
  /** Positive errno if the dump ended in failure, else 0. */
  readonly errno: number;
}

/** Any other message type (NOOP, OVERRUN, GET requests, families this codec does not model). */
export interface OtherMessage extends NetlinkHeaderFields {
  readonly kind: 'other';
  readonly type: number;
}

/** One decoded netlink message, discriminated by `kind`. */
export type NetlinkMessage =
  | LinkMessage
  | AddressMessage
  | RouteMessage
  | NeighbourMessage
  | ErrorMessage
  | DoneMessage
  | OtherMessage;
