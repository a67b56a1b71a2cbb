/** Neighbor Solicitation message codec (RFC 4861 §4.3). */
import { Icmpv6Type } from './icmpv6';
import type { NdOption } from './nd-options';
import { decodeTargetMessage, encodeTargetMessage, targetMessageEncodingLength, type TargetMessageKind } from './target-message';

/** A Neighbor Solicitation: who has `target`? (RFC 4861 §4.3). */
export interface NeighborSolicitation {
  target: Uint8Array;
  options: NdOption[];
}

const KIND: TargetMessageKind = { type: Icmpv6Type.NeighborSolicitation, name: 'Neighbor Solicitation', short: 'NS', wrongType: 'not-solicitation' };

/**
 * Decodes the ICMPv6 message of `length` bytes at `offset`. Type must be 135;
 * the code and checksum are left to the caller (RFC 4861 §7.1.1 checks live in core).
 */
export function decodeNeighborSolicitation(bytes: Uint8Array, offset: number, length: number): NeighborSolicitation {
  const { target, options } = decodeTargetMessage(KIND, bytes, offset, length);
  return { target, options };
}

/** Encoded size of `ns` in bytes. */
export function neighborSolicitationEncodingLength(ns: NeighborSolicitation): number {
  return targetMessageEncodingLength(ns.options);
}

/** Writes `ns` with type 135, code 0 and checksum 0 (frame helpers fill it); returns bytes written. */
export function encodeNeighborSolicitation(ns: NeighborSolicitation, bytes: Uint8Array, offset: number): number {
  return encodeTargetMessage(KIND, { flags: 0, target: ns.target, options: ns.options }, bytes, offset);
}
