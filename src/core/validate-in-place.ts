/**
 * The zero-copy twin of {@link validateSolicitationFrame} for the common shape of frame:
 * Ethernet, IPv6 with no extension header, an NS with well-formed options and a specified
 * source. It reads fields where they lie in the receive buffer and records offsets, never
 * copies. Every other shape (extension headers, DAD probes, anything a decoder would reject)
 * is handed back as 'slow' for the reference path, so the two can never disagree on a
 * reason. The fast-path property test checks that on thousands of mutated frames.
 */
import { MAX_ND_OPTIONS, NdOptionType } from '../wire/nd-options';
import type { IgnoreReason } from '../model/reasons';

/** Offsets (into the buffer given to {@link validateInPlace}) of what decisions need. */
export class SolicitationView {
  /** Ethernet source MAC: the reply's fallback destination. */
  ethernetSource = 0;
  /** IPv6 source: the reply's destination. */
  source = 0;
  /** The address asked about. */
  target = 0;
  /** The first 6-byte Source Link-Layer Address, or -1 when there is none. */
  sourceLinkLayerAddress = -1;
}

/** 'ok', a reason to ignore the frame, or 'slow' for the reference path. */
export type InPlaceResult = 'ok' | 'slow' | IgnoreReason;

const ETHERNET = 14;
const IPV6 = 40;
const NS_FIXED = 24;
const ICMPV6 = 58;
const NEIGHBOR_SOLICITATION = 135;

/** Sum of the 16-bit big-endian words of bytes[start, start + length), odd tail padded. */
function sumWords(bytes: Uint8Array, start: number, length: number): number {
  let sum = 0;
  const end = start + length;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** RFC 4443 §2.3: the pseudo-header plus the message sum to 0xffff when the checksum is right. */
function checksumValid(bytes: Uint8Array, ip: number, icmp: number, icmpLength: number): boolean {
  let sum = sumWords(bytes, ip + 8, 32) + icmpLength + ICMPV6 + sumWords(bytes, icmp, icmpLength);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum === 0xffff;
}

/**
 * Walks the options of the NS at `icmp` and records the first 6-byte SLLA in `view`.
 * False when they are not well formed (zero or overrunning length, too many): 'slow'.
 */
function scanOptions(bytes: Uint8Array, icmp: number, end: number, view: SolicitationView): boolean {
  view.sourceLinkLayerAddress = -1;
  let count = 0;
  for (let at = icmp + NS_FIXED; at < end; ) {
    if (at + 2 > end || count === MAX_ND_OPTIONS) return false;
    const length = bytes[at + 1]! * 8;
    if (length === 0 || at + length > end) return false;
    // RFC 4861 §4.6.1: on Ethernet the SLLA option is exactly 8 bytes; others stay raw.
    if (bytes[at] === NdOptionType.SourceLinkLayerAddress && length === 8 && view.sourceLinkLayerAddress < 0) {
      view.sourceLinkLayerAddress = at + 2;
    }
    count++;
    at += length;
  }
  return true;
}

/** True when the 16 bytes at `offset` are all zero (the unspecified address). */
function isUnspecifiedAt(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 16; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

/**
 * Validates the frame at `offset` per RFC 4861 §7.1.1 without copying, filling `view`.
 * Same reasons as the reference path for every frame it does not return 'slow' for.
 */
export function validateInPlace(
  bytes: Uint8Array,
  offset: number,
  length: number,
  ownMac: Uint8Array | undefined,
  view: SolicitationView,
): InPlaceResult {
  if (offset < 0 || offset + length > bytes.length || length < ETHERNET + IPV6 + NS_FIXED) return 'slow';
  const ip = offset + ETHERNET;
  if (bytes[offset + 12] !== 0x86 || bytes[offset + 13] !== 0xdd || bytes[ip]! >> 4 !== 6) return 'slow';
  const payloadLength = (bytes[ip + 4]! << 8) | bytes[ip + 5]!;
  if (bytes[ip + 6] !== ICMPV6 || payloadLength < NS_FIXED || ETHERNET + IPV6 + payloadLength > length) return 'slow';
  const icmp = ip + IPV6;
  if (bytes[icmp] !== NEIGHBOR_SOLICITATION || isUnspecifiedAt(bytes, ip + 8)) return 'slow';
  if (!scanOptions(bytes, icmp, icmp + payloadLength, view)) return 'slow';
  // Our own transmissions can loop back on some drivers; never answer ourselves.
  if (ownMac !== undefined && ownMac.length >= 6) {
    let same = true;
    for (let i = 0; i < 6; i++) if (bytes[offset + 6 + i] !== ownMac[i]) same = false;
    if (same) return 'own-frame';
  }
  // §7.1.1: hop limit 255 proves the sender is on-link; code 0; a valid checksum.
  if (bytes[ip + 7] !== 255) return 'bad-hop-limit';
  if (bytes[icmp + 1] !== 0) return 'bad-code';
  if (!checksumValid(bytes, ip, icmp, payloadLength)) return 'bad-checksum';
  if (bytes[icmp + 8] === 0xff) return 'multicast-target';
  view.ethernetSource = offset + 6;
  view.source = ip + 8;
  view.target = icmp + 8;
  return 'ok';
}
