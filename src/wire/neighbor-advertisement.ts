/** Neighbor Advertisement message codec (RFC 4861 §4.4). */
import { IPV6_ADDRESS_LENGTH } from './address';
import { WireError, ensureAvailable } from './errors';
import { Icmpv6Type } from './icmpv6';
import { NdOption, decodeNdOptions, encodeNdOptions, ndOptionsEncodingLength } from './nd-options';

/** Type, code, checksum, flags + reserved (8 bytes) plus the 16-byte target (RFC 4861 §4.4). */
export const NEIGHBOR_ADVERTISEMENT_MIN_LENGTH = 24;

/** Flag bits in the first byte after the checksum (RFC 4861 §4.4). */
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;

/** A Neighbor Advertisement: `target` is at the link-layer address in the TLLA option (RFC 4861 §4.4). */
export interface NeighborAdvertisement {
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: Uint8Array;
  options: NdOption[];
}

/** Decodes the ICMPv6 message of `length` bytes at `offset`; type must be 136, reserved bits are ignored. */
export function decodeNeighborAdvertisement(bytes: Uint8Array, offset: number, length: number): NeighborAdvertisement {
  if (length < NEIGHBOR_ADVERTISEMENT_MIN_LENGTH) throw new WireError('bad-length', offset, `NA of ${length} bytes`);
  ensureAvailable(bytes, offset, length, 'Neighbor Advertisement');
  if (bytes[offset] !== Icmpv6Type.NeighborAdvertisement) {
    throw new WireError('not-advertisement', offset, `ICMPv6 type ${bytes[offset] ?? -1}`);
  }
  const flags = bytes[offset + 4] ?? 0;
  return {
    router: (flags & FLAG_ROUTER) !== 0,
    solicited: (flags & FLAG_SOLICITED) !== 0,
    override: (flags & FLAG_OVERRIDE) !== 0,
    target: bytes.slice(offset + 8, offset + 24),
    options: decodeNdOptions(bytes, offset + 24, offset + length),
  };
}

/** Encoded size of `na` in bytes. */
export function neighborAdvertisementEncodingLength(na: NeighborAdvertisement): number {
  return NEIGHBOR_ADVERTISEMENT_MIN_LENGTH + ndOptionsEncodingLength(na.options);
}

/** Writes `na` with type 136, code 0 and checksum 0 (frame helpers fill it); returns bytes written. */
export function encodeNeighborAdvertisement(na: NeighborAdvertisement, bytes: Uint8Array, offset: number): number {
  const length = neighborAdvertisementEncodingLength(na);
  ensureAvailable(bytes, offset, length, 'Neighbor Advertisement');
  if (na.target.length !== IPV6_ADDRESS_LENGTH) throw new WireError('bad-address', offset + 8, 'target is not 16 bytes');
  bytes[offset] = Icmpv6Type.NeighborAdvertisement;
  bytes.fill(0, offset + 1, offset + 8); // code, checksum, flags, reserved
  bytes[offset + 4] =
    (na.router ? FLAG_ROUTER : 0) | (na.solicited ? FLAG_SOLICITED : 0) | (na.override ? FLAG_OVERRIDE : 0);
  bytes.set(na.target, offset + 8);
  encodeNdOptions(na.options, bytes, offset + NEIGHBOR_ADVERTISEMENT_MIN_LENGTH);
  return length;
}
