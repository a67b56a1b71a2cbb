/** Why a netlink datagram could not be decoded or a request could not be encoded. */
export type RtnetlinkErrorCode =
  | 'TRUNCATED_HEADER' // fewer bytes left than a struct nlmsghdr
  | 'BAD_MESSAGE_LENGTH' // nlmsg_len smaller than the netlink header
  | 'MESSAGE_OVERRUN' // nlmsg_len runs past the end of the datagram
  | 'TRUNCATED_PAYLOAD' // message too short for its family header
  | 'TRUNCATED_ATTRIBUTE' // 1-3 stray bytes where an attribute header should be
  | 'BAD_ATTRIBUTE_LENGTH' // rta_len smaller than the attribute header
  | 'ATTRIBUTE_OVERRUN' // rta_len runs past the end of its container
  | 'BAD_ATTRIBUTE_SIZE' // attribute payload too short for its type
  | 'BAD_NEXTHOP_LENGTH' // rtnh_len out of bounds inside RTA_MULTIPATH
  | 'INVALID_ARGUMENT'; // an encoder was given a value the wire cannot carry

/** Thrown for every decode or encode failure; `offset` is the byte offset in the datagram (0 for encoder arguments). */
export class RtnetlinkError extends Error {
  override readonly name = 'RtnetlinkError';

  constructor(
    readonly code: RtnetlinkErrorCode,
    readonly offset: number,
    detail: string,
  ) {
    super(`${code} at offset ${offset}: ${detail}`);
  }
}
