/** ICMPv6 message types used by NDP and the ICMPv6 checksum (RFC 4443 §2.3). */
import { IPV6_ADDRESS_LENGTH } from './address';
import { WireError, ensureAvailable } from './errors';
import { IpProtocol } from './ipv6';

/** ICMPv6 types of the Neighbor Discovery messages (RFC 4861 §4). */
export const Icmpv6Type = {
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  Redirect: 137,
} as const;

/** Offset of the checksum field inside an ICMPv6 message (RFC 4443 §2.1). */
export const ICMPV6_CHECKSUM_OFFSET = 2;

/** Adds big-endian 16-bit words of bytes[start, end) to `sum`; an odd last byte is padded with zero. */
export function addWords(bytes: Uint8Array, start: number, end: number, sum: number): number {
  let acc = sum;
  let i = start;
  // Plain indexed reads: no DataView, no allocation. 2^53 headroom means no folding inside the loop.
  for (; i + 1 < end; i += 2) acc += ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  if (i < end) acc += (bytes[i] as number) << 8;
  return acc;
}

/** Folds carries into 16 bits (RFC 1071 §4.1). */
export function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function checkAddresses(source: Uint8Array, destination: Uint8Array): void {
  if (source.length !== IPV6_ADDRESS_LENGTH) throw new WireError('bad-address', 0, 'pseudo-header source is not 16 bytes');
  if (destination.length !== IPV6_ADDRESS_LENGTH) {
    throw new WireError('bad-address', 0, 'pseudo-header destination is not 16 bytes');
  }
}

/**
 * One's-complement checksum of the RFC 4443 §2.3 pseudo-header (RFC 8200 §8.1)
 * plus the `length` message bytes at `offset`, taking the checksum field as it
 * is in the bytes: over a message with a correct checksum the result is 0.
 */
export function icmpv6Checksum(
  source: Uint8Array,
  destination: Uint8Array,
  bytes: Uint8Array,
  offset: number,
  length: number,
): number {
  checkAddresses(source, destination);
  ensureAvailable(bytes, offset, length, 'ICMPv6 message');
  // Pseudo-header: source, destination, 32-bit upper-layer length, 24 zero bits, next header 58.
  let sum = addWords(source, 0, IPV6_ADDRESS_LENGTH, 0);
  sum = addWords(destination, 0, IPV6_ADDRESS_LENGTH, sum);
  sum = addWords(bytes, offset, offset + length, sum + pseudoHeaderTail(length));
  return ~fold(sum) & 0xffff;
}

/** The pseudo-header's words after the addresses: the 32-bit upper-layer length and next header 58. */
export function pseudoHeaderTail(length: number): number {
  return Math.floor(length / 0x10000) + (length & 0xffff) + IpProtocol.Icmpv6;
}

/**
 * True when the checksum of the ICMPv6 message of `length` bytes at `offset` is right, the
 * pseudo-header's addresses read in place from the IPv6 header at `ipOffset` (no copy, no
 * allocation: the received-frame form of {@link verifyIcmpv6Checksum}).
 */
export function checksumValidInFrame(bytes: Uint8Array, ipOffset: number, offset: number, length: number): boolean {
  const addresses = addWords(bytes, ipOffset + 8, ipOffset + 8 + 2 * IPV6_ADDRESS_LENGTH, 0);
  return fold(addWords(bytes, offset, offset + length, addresses + pseudoHeaderTail(length))) === 0xffff;
}

/** True when the stored checksum of the message at `offset` is right. */
export function verifyIcmpv6Checksum(
  source: Uint8Array,
  destination: Uint8Array,
  bytes: Uint8Array,
  offset: number,
  length: number,
): boolean {
  return icmpv6Checksum(source, destination, bytes, offset, length) === 0;
}

/** Zeroes the checksum field of the message at `offset`, then writes the correct checksum. */
export function writeIcmpv6Checksum(
  source: Uint8Array,
  destination: Uint8Array,
  bytes: Uint8Array,
  offset: number,
  length: number,
): void {
  if (length < ICMPV6_CHECKSUM_OFFSET + 2) throw new WireError('bad-length', offset, 'ICMPv6 message shorter than its header');
  ensureAvailable(bytes, offset, length, 'ICMPv6 message');
  bytes[offset + ICMPV6_CHECKSUM_OFFSET] = 0;
  bytes[offset + ICMPV6_CHECKSUM_OFFSET + 1] = 0;
  const checksum = icmpv6Checksum(source, destination, bytes, offset, length);
  bytes[offset + ICMPV6_CHECKSUM_OFFSET] = checksum >> 8;
  bytes[offset + ICMPV6_CHECKSUM_OFFSET + 1] = checksum & 0xff;
}
