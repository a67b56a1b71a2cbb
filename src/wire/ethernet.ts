/** Ethernet II header codec (IEEE 802.3 framing as used by RFC 2464). */
import { MAC_ADDRESS_LENGTH } from './address';
import { WireError, ensureAvailable } from './errors';

/** EtherType values this project reads or writes. */
export const EtherType = {
  /** IPv6 over Ethernet (RFC 2464 §3). */
  IPv6: 0x86dd,
} as const;

/** Length of an untagged Ethernet II header: destination, source, EtherType. */
export const ETHERNET_HEADER_LENGTH = 14;

/** An Ethernet II header; addresses are 6-byte MACs. */
export interface EthernetHeader {
  destination: Uint8Array;
  source: Uint8Array;
  etherType: number;
}

/** Decodes the 14-byte header at `offset`; the MACs are copies, so the buffer may be reused. */
export function decodeEthernetHeader(bytes: Uint8Array, offset = 0): EthernetHeader {
  ensureAvailable(bytes, offset, ETHERNET_HEADER_LENGTH, 'Ethernet header');
  return {
    destination: bytes.slice(offset, offset + 6),
    source: bytes.slice(offset + 6, offset + 12),
    etherType: ((bytes[offset + 12] ?? 0) << 8) | (bytes[offset + 13] ?? 0),
  };
}

/** Writes `h` at `offset` and returns the number of bytes written (14). */
export function encodeEthernetHeader(h: EthernetHeader, bytes: Uint8Array, offset = 0): number {
  ensureAvailable(bytes, offset, ETHERNET_HEADER_LENGTH, 'Ethernet header');
  if (h.destination.length !== MAC_ADDRESS_LENGTH) throw new WireError('bad-address', offset, 'destination MAC is not 6 bytes');
  if (h.source.length !== MAC_ADDRESS_LENGTH) throw new WireError('bad-address', offset + 6, 'source MAC is not 6 bytes');
  bytes.set(h.destination, offset);
  bytes.set(h.source, offset + 6);
  bytes[offset + 12] = (h.etherType >> 8) & 0xff;
  bytes[offset + 13] = h.etherType & 0xff;
  return ETHERNET_HEADER_LENGTH;
}
