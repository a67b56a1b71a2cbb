/**
 * The one writer of the Neighbour Advertisements we answer with (RFC 4861 §4.4, §7.2.4): a
 * preallocated frame patched in place. The bytes that never change between answers (our MAC,
 * EtherType, IPv6 header constants, type, R/O flags, the TLLA option) are written once; each
 * answer copies the template and patches the Ethernet destination, IPv6 source and
 * destination, target, S flag and checksum, the checksum starting from the precomputed sum of
 * the constant words. Fields are read from (buffer, offset) pairs, so they can come straight
 * from a received frame: nothing is allocated per answer.
 */
import { ALL_NODES } from './address';
import { Icmpv6Type, addWords, fold, pseudoHeaderTail } from './icmpv6';
import { IpProtocol } from './ipv6';
import { NdOptionType } from './nd-options';

/** Length of the NA frames the template writes: Ethernet 14 + IPv6 40 + NA 24 + TLLA 8. */
const ADVERTISEMENT_FRAME_LENGTH = 86;

const IP = 14;
const ICMP = IP + 40;
const ICMP_LENGTH = ADVERTISEMENT_FRAME_LENGTH - ICMP;
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;
/** 33:33:00:00:00:01, the Ethernet group of ff02::1 (RFC 2464 §7). */
const ALL_NODES_MAC = Uint8Array.of(0x33, 0x33, 0, 0, 0, 1);

/** RFC 4861 §7.2.4: the Solicited flag of an answer to the 16 bytes at `destination[offset]`: set only for a unicast destination. */
export function solicitedFlag(destination: Uint8Array, offset: number): boolean {
  return destination[offset] !== 0xff;
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
    f[IP + 6] = IpProtocol.Icmpv6;
    f[IP + 7] = 255; // RFC 4861 §7.1.2: hop limit 255
    f[ICMP] = Icmpv6Type.NeighborAdvertisement;
    // RFC 4861 §7.2.4: always our link-layer address; a proxy has no other way to be reached.
    f[ICMP + 24] = NdOptionType.TargetLinkLayerAddress;
    f[ICMP + 25] = 1; // one 8-octet unit
    f.set(ethernetSource.subarray(0, 6), ICMP + 26);
    const flags = (router ? FLAG_ROUTER : 0) | (override ? FLAG_OVERRIDE : 0);
    f[ICMP + 4] = flags;
    // Pseudo-header length and next header, type/code, flags, TLLA type/length and MAC.
    const headerWords = pseudoHeaderTail(ICMP_LENGTH) + (Icmpv6Type.NeighborAdvertisement << 8) + (flags << 8);
    this.constantSum = addWords(f, ICMP + 24, ICMP + 32, headerWords);
  }

  /** Writes at `out[at]` the NA answering a DAD probe: to all-nodes ff02::1 (33:33:00:00:00:01), so S=0. */
  writeToAllNodes(out: Uint8Array, at: number, source: Uint8Array, sourceOffset: number, target: Uint8Array, targetOffset: number): number {
    return this.write(out, at, ALL_NODES_MAC, 0, source, sourceOffset, ALL_NODES, 0, target, targetOffset);
  }

  /** True when this template answers with `mac`, `router` and `override`. */
  fits(mac: Uint8Array, router: boolean, override: boolean): boolean {
    if (router !== this.router || override !== this.override) return false;
    for (let i = 0; i < 6; i++) if (mac[i] !== this.ethernetSource[i]) return false;
    return true;
  }

  /**
   * Writes at `out[at]` the NA to `destination` (Ethernet `ethernetDestination`) from `source`
   * for `target`, and returns its length. The Solicited flag follows the destination (RFC 4861
   * §7.2.4): 1 to the unicast source of a solicitation, 0 to a multicast group, where receivers
   * would drop S=1.
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
  ): number {
    const solicited = solicitedFlag(destination, destinationOffset) ? FLAG_SOLICITED : 0;
    out.set(this.frame, at);
    for (let i = 0; i < 6; i++) out[at + i] = ethernetDestination[ethernetDestinationOffset + i]!;
    let sum = this.constantSum + (solicited << 8);
    // One pass per 16-bit word of the three addresses: copy it and add it to the checksum.
    for (let i = 0; i < 16; i += 2) {
      const s0 = source[sourceOffset + i]!;
      const s1 = source[sourceOffset + i + 1]!;
      const d0 = destination[destinationOffset + i]!;
      const d1 = destination[destinationOffset + i + 1]!;
      const t0 = target[targetOffset + i]!;
      const t1 = target[targetOffset + i + 1]!;
      out[at + IP + 8 + i] = s0;
      out[at + IP + 9 + i] = s1;
      out[at + IP + 24 + i] = d0;
      out[at + IP + 25 + i] = d1;
      out[at + ICMP + 8 + i] = t0;
      out[at + ICMP + 9 + i] = t1;
      sum += ((s0 << 8) | s1) + ((d0 << 8) | d1) + ((t0 << 8) | t1);
    }
    out[at + ICMP + 4] = out[at + ICMP + 4]! | solicited;
    const checksum = ~fold(sum) & 0xffff;
    out[at + ICMP + 2] = checksum >> 8;
    out[at + ICMP + 3] = checksum & 0xff;
    return ADVERTISEMENT_FRAME_LENGTH;
  }
}
