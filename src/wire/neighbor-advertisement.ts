/** Neighbor Advertisement message codec (RFC 4861 §4.4). */
import { Icmpv6Type } from './icmpv6';
import type { NdOption } from './nd-options';
import { decodeTargetMessage, encodeTargetMessage, targetMessageEncodingLength, type TargetMessageKind } from './target-message';

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

const KIND: TargetMessageKind = { type: Icmpv6Type.NeighborAdvertisement, name: 'Neighbor Advertisement', short: 'NA', wrongType: 'not-advertisement' };

/** Decodes the ICMPv6 message of `length` bytes at `offset`; type must be 136, reserved bits are ignored. */
export function decodeNeighborAdvertisement(bytes: Uint8Array, offset: number, length: number): NeighborAdvertisement {
  const { flags, target, options } = decodeTargetMessage(KIND, bytes, offset, length);
  return {
    router: (flags & FLAG_ROUTER) !== 0,
    solicited: (flags & FLAG_SOLICITED) !== 0,
    override: (flags & FLAG_OVERRIDE) !== 0,
    target,
    options,
  };
}

/** Encoded size of `na` in bytes. */
export function neighborAdvertisementEncodingLength(na: NeighborAdvertisement): number {
  return targetMessageEncodingLength(na.options);
}

/** Writes `na` with type 136, code 0 and checksum 0 (frame helpers fill it); returns bytes written. */
export function encodeNeighborAdvertisement(na: NeighborAdvertisement, bytes: Uint8Array, offset: number): number {
  const flags = (na.router ? FLAG_ROUTER : 0) | (na.solicited ? FLAG_SOLICITED : 0) | (na.override ? FLAG_OVERRIDE : 0);
  return encodeTargetMessage(KIND, { flags, target: na.target, options: na.options }, bytes, offset);
}
