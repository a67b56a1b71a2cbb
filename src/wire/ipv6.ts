/** IPv6 fixed header codec and extension-header walk (RFC 8200 §3, §4). */
import { IPV6_ADDRESS_LENGTH } from './address';
import { WireError, ensureAvailable } from './errors';

/** Length of the IPv6 fixed header (RFC 8200 §3). */
export const IPV6_HEADER_LENGTH = 40;

/** At most this many extension headers are walked before giving up (bounds work per frame). */
export const MAX_EXTENSION_HEADERS = 8;

/** Next Header values (IANA "Assigned Internet Protocol Numbers"). */
export const IpProtocol = {
  HopByHop: 0,
  Routing: 43,
  Fragment: 44,
  Icmpv6: 58,
  NoNext: 59,
  DestinationOptions: 60,
} as const;

/** The IPv6 fixed header; addresses are 16 bytes. */
export interface Ipv6Header {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  source: Uint8Array;
  destination: Uint8Array;
}

/** Where the upper-layer payload starts after any extension headers. */
export interface ExtensionWalk {
  /** Next Header value of the first non-extension header. */
  protocol: number;
  /** Absolute offset of that header in the buffer. */
  offset: number;
  /** A Fragment header was seen: RFC 6980 §5 says ND messages in fragments must be dropped. */
  fragmented: boolean;
  /** The extension header protocol numbers walked, in order. */
  extensionHeaders: number[];
}

/** Decodes the fixed header at `offset`; throws 'bad-version' unless version is 6. Addresses are copies. */
export function decodeIpv6Header(bytes: Uint8Array, offset = 0): Ipv6Header {
  ensureAvailable(bytes, offset, IPV6_HEADER_LENGTH, 'IPv6 header');
  const b0 = bytes[offset] ?? 0;
  const b1 = bytes[offset + 1] ?? 0;
  if (b0 >> 4 !== 6) throw new WireError('bad-version', offset, `IP version ${b0 >> 4}`);
  return {
    trafficClass: ((b0 & 0x0f) << 4) | (b1 >> 4),
    flowLabel: ((b1 & 0x0f) << 16) | ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0),
    payloadLength: ((bytes[offset + 4] ?? 0) << 8) | (bytes[offset + 5] ?? 0),
    nextHeader: bytes[offset + 6] ?? 0,
    hopLimit: bytes[offset + 7] ?? 0,
    source: bytes.slice(offset + 8, offset + 24),
    destination: bytes.slice(offset + 24, offset + 40),
  };
}

/** Writes `h` at `offset` (version 6) and returns the number of bytes written (40). */
export function encodeIpv6Header(h: Ipv6Header, bytes: Uint8Array, offset = 0): number {
  ensureAvailable(bytes, offset, IPV6_HEADER_LENGTH, 'IPv6 header');
  if (h.source.length !== IPV6_ADDRESS_LENGTH) throw new WireError('bad-address', offset + 8, 'source is not 16 bytes');
  if (h.destination.length !== IPV6_ADDRESS_LENGTH) {
    throw new WireError('bad-address', offset + 24, 'destination is not 16 bytes');
  }
  bytes[offset] = 0x60 | ((h.trafficClass >> 4) & 0x0f);
  bytes[offset + 1] = ((h.trafficClass & 0x0f) << 4) | ((h.flowLabel >> 16) & 0x0f);
  bytes[offset + 2] = (h.flowLabel >> 8) & 0xff;
  bytes[offset + 3] = h.flowLabel & 0xff;
  bytes[offset + 4] = (h.payloadLength >> 8) & 0xff;
  bytes[offset + 5] = h.payloadLength & 0xff;
  bytes[offset + 6] = h.nextHeader & 0xff;
  bytes[offset + 7] = h.hopLimit & 0xff;
  bytes.set(h.source, offset + 8);
  bytes.set(h.destination, offset + 24);
  return IPV6_HEADER_LENGTH;
}

/** Length of the extension header at `offset`, or -1 if `protocol` is not one we walk. */
function extensionLength(protocol: number, bytes: Uint8Array, offset: number, end: number): number {
  switch (protocol) {
    case IpProtocol.Fragment:
      return 8; // RFC 8200 §4.5: fixed size.
    case IpProtocol.HopByHop:
    case IpProtocol.Routing:
    case IpProtocol.DestinationOptions:
      // RFC 8200 §4.3/4.4/4.6: Hdr Ext Len in 8-octet units, not counting the first 8.
      if (offset + 2 > end) throw new WireError('bad-length', offset, 'extension header past payload end');
      return ((bytes[offset + 1] ?? 0) + 1) * 8;
    default:
      return -1;
  }
}

/**
 * Walks the extension headers from `offset` (just after the fixed header)
 * to the upper-layer header, staying within `end` (end of the IPv6 payload).
 * A non-first fragment stops the walk at the fragment header's successor,
 * whose bytes are not a header: callers drop fragments anyway (RFC 6980).
 */
export function walkExtensionHeaders(bytes: Uint8Array, offset: number, nextHeader: number, end: number): ExtensionWalk {
  if (end > bytes.length) throw new WireError('truncated', bytes.length, `payload ends at ${end}, buffer at ${bytes.length}`);
  let protocol = nextHeader;
  let at = offset;
  let fragmented = false;
  const extensionHeaders: number[] = [];
  for (;;) {
    const length = extensionLength(protocol, bytes, at, end);
    if (length < 0) return { protocol, offset: at, fragmented, extensionHeaders };
    if (extensionHeaders.length === MAX_EXTENSION_HEADERS) {
      throw new WireError('too-many-headers', at, `more than ${MAX_EXTENSION_HEADERS} extension headers`);
    }
    if (at + length > end) throw new WireError('bad-length', at, 'extension header past payload end');
    extensionHeaders.push(protocol);
    if (protocol === IpProtocol.Fragment) fragmented = true;
    protocol = bytes[at] ?? IpProtocol.NoNext;
    at += length;
  }
}
