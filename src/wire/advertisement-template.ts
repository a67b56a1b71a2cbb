/**
 * A preallocated Neighbor Advertisement frame (RFC 4861 §4.4) patched in place: the bytes
 * that never change between answers (our MAC, EtherType, IPv6 header constants, type, R/O
 * flags, the TLLA option) are written once; each answer copies the template and patches
 * the Ethernet destination, IPv6 source and destination, target, S flag and checksum. The
 * checksum starts from the precomputed sum of the constant words. The result is byte for
 * byte what {@link encodeAdvertisementFrame} writes for the same fields.
 */
import { Icmpv6Type } from './icmpv6';
import { NdOptionType } from './nd-options';

/** Length of the NA frames the template writes: Ethernet 14 + IPv6 40 + NA 24 + TLLA 8. */
export const ADVERTISEMENT_FRAME_LENGTH = 86;

const IP = 14;
const ICMP = IP + 40;
const ICMP_LENGTH = ADVERTISEMENT_FRAME_LENGTH - ICMP;
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;

/** Sum of the eight big-endian 16-bit words of the 16 bytes at `offset`. */
function sumAddress(bytes: Uint8Array, offset: number): number {
  let sum = 0;
  for (let i = offset; i < offset + 16; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  return sum;
}

/** NA frames from one MAC with fixed Router and Override flags. */
export class AdvertisementTemplate {
  private readonly frame = new Uint8Array(ADVERTISEMENT_FRAME_LENGTH);
  /** One's-complement sum of the pseudo-header and message words that never change. */
  private readonly constantSum: number;

  constructor(
    readonly ethernetSource: Uint8Array,
    readonly router: boolean,
    readonly override: boolean,
  ) {
    const f = this.frame;
    f.set(ethernetSource.subarray(0, 6), 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    f[IP] = 0x60; // version 6, traffic class and flow label 0
    f[IP + 5] = ICMP_LENGTH; // payload length (high byte 0)
    f[IP + 6] = 58; // next header ICMPv6
    f[IP + 7] = 255; // RFC 4861 §7.1.2: hop limit 255
    f[ICMP] = Icmpv6Type.NeighborAdvertisement;
    f[ICMP + 24] = NdOptionType.TargetLinkLayerAddress;
    f[ICMP + 25] = 1; // one 8-octet unit
    f.set(ethernetSource.subarray(0, 6), ICMP + 26);
    const flags = (router ? FLAG_ROUTER : 0) | (override ? FLAG_OVERRIDE : 0);
    f[ICMP + 4] = flags;
    // Pseudo-header length and next header, type/code, flags, TLLA type/length and MAC.
    let sum = ICMP_LENGTH + 58 + (Icmpv6Type.NeighborAdvertisement << 8) + (flags << 8);
    for (let i = ICMP + 24; i < ICMP + 32; i += 2) sum += (f[i]! << 8) | f[i + 1]!;
    this.constantSum = sum;
  }

  /** True when this template answers with `mac`, `router` and `override`. */
  fits(mac: Uint8Array, router: boolean, override: boolean): boolean {
    if (router !== this.router || override !== this.override) return false;
    for (let i = 0; i < 6; i++) if (mac[i] !== this.ethernetSource[i]) return false;
    return true;
  }

  /**
   * Writes one NA at `out[at]` and returns its length. Each field is given as a buffer and
   * an offset into it, so fields can be read straight from a received frame.
   */
  write(
    out: Uint8Array,
    at: number,
    ethernetDestination: Uint8Array,
    ethernetDestinationOffset: number,
    source: Uint8Array,
    sourceOffset: number,
    destination: Uint8Array,
    destinationOffset: number,
    target: Uint8Array,
    targetOffset: number,
    solicited: boolean,
  ): number {
    out.set(this.frame, at);
    for (let i = 0; i < 6; i++) out[at + i] = ethernetDestination[ethernetDestinationOffset + i]!;
    for (let i = 0; i < 16; i++) {
      out[at + IP + 8 + i] = source[sourceOffset + i]!;
      out[at + IP + 24 + i] = destination[destinationOffset + i]!;
      out[at + ICMP + 8 + i] = target[targetOffset + i]!;
    }
    let sum = this.constantSum + sumAddress(source, sourceOffset) + sumAddress(destination, destinationOffset) + sumAddress(target, targetOffset);
    if (solicited) {
      out[at + ICMP + 4] = out[at + ICMP + 4]! | FLAG_SOLICITED;
      sum += FLAG_SOLICITED << 8;
    }
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const checksum = ~sum & 0xffff;
    out[at + ICMP + 2] = checksum >> 8;
    out[at + ICMP + 3] = checksum & 0xff;
    return ADVERTISEMENT_FRAME_LENGTH;
  }
}
