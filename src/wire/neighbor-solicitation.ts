/** Neighbor Solicitation message codec (RFC 4861 §4.3). */
import { IPV6_ADDRESS_LENGTH } from './address';
import { WireError, ensureAvailable } from './errors';
import { Icmpv6Type } from './icmpv6';
import { NdOption, decodeNdOptions, encodeNdOptions, ndOptionsEncodingLength } from './nd-options';

/** Type, code, checksum, reserved (8 bytes) plus the 16-byte target (RFC 4861 §4.3). */
export const NEIGHBOR_SOLICITATION_MIN_LENGTH = 24;

/** A Neighbor Solicitation: who has `target`? (RFC 4861 §4.3). */
export interface NeighborSolicitation {
  target: Uint8Array;
  options: NdOption[];
}

/**
 * Decodes the ICMPv6 message of `length` bytes at `offset`. Type must be 135;
 * the code and checksum are left to the caller (RFC 4861 §7.1.1 checks live in core).
 */
export function decodeNeighborSolicitation(bytes: Uint8Array, offset: number, length: number): NeighborSolicitation {
  if (length < NEIGHBOR_SOLICITATION_MIN_LENGTH) throw new WireError('bad-length', offset, `NS of ${length} bytes`);
  ensureAvailable(bytes, offset, length, 'Neighbor Solicitation');
  if (bytes[offset] !== Icmpv6Type.NeighborSolicitation) {
    throw new WireError('not-solicitation', offset, `ICMPv6 type ${bytes[offset] ?? -1}`);
  }
  return {
    target: bytes.slice(offset + 8, offset + 24),
    options: decodeNdOptions(bytes, offset + 24, offset + length),
  };
}

/** Encoded size of `ns` in bytes. */
export function neighborSolicitationEncodingLength(ns: NeighborSolicitation): number {
  return NEIGHBOR_SOLICITATION_MIN_LENGTH + ndOptionsEncodingLength(ns.options);
}

/** Writes `ns` with type 135, code 0 and checksum 0 (frame helpers fill it); returns bytes written. */
export function encodeNeighborSolicitation(ns: NeighborSolicitation, bytes: Uint8Array, offset: number): number {
  const length = neighborSolicitationEncodingLength(ns);
  ensureAvailable(bytes, offset, length, 'Neighbor Solicitation');
  if (ns.target.length !== IPV6_ADDRESS_LENGTH) throw new WireError('bad-address', offset + 8, 'target is not 16 bytes');
  bytes[offset] = Icmpv6Type.NeighborSolicitation;
  bytes.fill(0, offset + 1, offset + 8); // code, checksum, reserved
  bytes.set(ns.target, offset + 8);
  encodeNdOptions(ns.options, bytes, offset + NEIGHBOR_SOLICITATION_MIN_LENGTH);
  return length;
}
