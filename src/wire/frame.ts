/**
 * Whole-frame helpers: Ethernet → IPv6 → extension headers → ND message.
 * Decoders throw WireError only for structure; semantic checks of RFC 4861
 * §7.1.1 (hop limit, code, checksum) and RFC 6980 (fragments) are reported in
 * fields for the core layer to judge and count.
 */
import { WireError, WireErrorCode, ensureAvailable } from './errors';
import { ETHERNET_HEADER_LENGTH, EtherType, EthernetHeader, decodeEthernetHeader, encodeEthernetHeader } from './ethernet';
import { IPV6_HEADER_LENGTH, IpProtocol, Ipv6Header, decodeIpv6Header, encodeIpv6Header, walkExtensionHeaders } from './ipv6';
import { Icmpv6Type, verifyIcmpv6Checksum, writeIcmpv6Checksum } from './icmpv6';
import {
  NeighborSolicitation,
  decodeNeighborSolicitation,
  encodeNeighborSolicitation,
  neighborSolicitationEncodingLength,
} from './neighbor-solicitation';
import { NeighborAdvertisement, decodeNeighborAdvertisement } from './neighbor-advertisement';

/** Ethernet plus IPv6 fixed header: where the ICMPv6 message starts when there are no extension headers. */
const HEADERS_LENGTH = ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH;

/** Hop-by-hop header holding one 4-byte PadN option (RFC 8200 §4.2, §4.3), next header ICMPv6. */
const PADDED_HOP_BY_HOP = Uint8Array.of(IpProtocol.Icmpv6, 0, 1, 4, 0, 0, 0, 0);

/** The layers around an ICMPv6 message, with what core needs to validate it. */
interface IcmpFrame {
  ethernet: EthernetHeader;
  ipv6: Ipv6Header;
  /** Absolute offset of the ICMPv6 message in the decoded buffer. */
  icmpOffset: number;
  /** ICMPv6 length: IPv6 payload length minus extension headers (frame padding excluded). */
  icmpLength: number;
  icmpCode: number;
  checksumValid: boolean;
  fragmented: boolean;
}

/** A received Neighbor Solicitation with its headers and semantic facts for validation. */
export interface SolicitationFrame extends IcmpFrame {
  solicitation: NeighborSolicitation;
}

/** A received Neighbor Advertisement with its headers (used by tests, test peers, the benchmark). */
export interface AdvertisementFrame extends IcmpFrame {
  advertisement: NeighborAdvertisement;
}

/** Addressing shared by the frames we build. */
interface FrameAddressing {
  ethernetDestination: Uint8Array;
  ethernetSource: Uint8Array;
  ipv6Source: Uint8Array;
  ipv6Destination: Uint8Array;
  hopLimit: number;
}

/** What a test peer fills in to build an NS frame. */
export interface SolicitationFrameFields extends FrameAddressing {
  solicitation: NeighborSolicitation;
  /** Insert an 8-byte hop-by-hop header holding PadN, for tests. */
  hopByHop?: boolean;
}

/** Decodes the layers down to an ICMPv6 message of `type`; throws `wrongKind` for anything else. */
function decodeIcmpFrame(bytes: Uint8Array, offset: number, length: number, type: number, wrongKind: WireErrorCode): IcmpFrame {
  if (offset < 0 || length < 0 || offset + length > bytes.length) {
    throw new WireError('truncated', offset, `frame of ${length} bytes does not fit in ${bytes.length}`);
  }
  // A view ending at the frame end, so no layer can read past `length`.
  const frame = bytes.subarray(0, offset + length);
  const ethernet = decodeEthernetHeader(frame, offset);
  if (ethernet.etherType !== EtherType.IPv6) throw new WireError(wrongKind, offset + 12, `EtherType ${ethernet.etherType}`);
  const ipOffset = offset + ETHERNET_HEADER_LENGTH;
  const ipv6 = decodeIpv6Header(frame, ipOffset);
  // The payload length, not the frame length, bounds the message: Ethernet pads short frames to 60 bytes.
  const payloadEnd = ipOffset + IPV6_HEADER_LENGTH + ipv6.payloadLength;
  ensureAvailable(frame, ipOffset + IPV6_HEADER_LENGTH, ipv6.payloadLength, 'IPv6 payload');
  const walk = walkExtensionHeaders(frame, ipOffset + IPV6_HEADER_LENGTH, ipv6.nextHeader, payloadEnd);
  if (walk.protocol !== IpProtocol.Icmpv6) throw new WireError(wrongKind, walk.offset, `next header ${walk.protocol}`);
  const icmpLength = payloadEnd - walk.offset;
  if (icmpLength < 4) throw new WireError('bad-length', walk.offset, `ICMPv6 message of ${icmpLength} bytes`);
  if (frame[walk.offset] !== type) throw new WireError(wrongKind, walk.offset, `ICMPv6 type ${frame[walk.offset] ?? -1}`);
  return {
    ethernet,
    ipv6,
    icmpOffset: walk.offset,
    icmpLength,
    icmpCode: frame[walk.offset + 1] ?? 0,
    checksumValid: verifyIcmpv6Checksum(ipv6.source, ipv6.destination, frame, walk.offset, icmpLength),
    fragmented: walk.fragmented,
  };
}

/**
 * Decodes an Ethernet frame carrying a Neighbor Solicitation. Throws
 * 'not-solicitation' for another EtherType, protocol or ICMPv6 type.
 */
export function decodeSolicitationFrame(bytes: Uint8Array, offset = 0, length = bytes.length - offset): SolicitationFrame {
  const icmp = decodeIcmpFrame(bytes, offset, length, Icmpv6Type.NeighborSolicitation, 'not-solicitation');
  const solicitation = decodeNeighborSolicitation(bytes, icmp.icmpOffset, icmp.icmpLength);
  return { ...icmp, solicitation };
}

/** Decodes an Ethernet frame carrying a Neighbor Advertisement; 'not-advertisement' for anything else. */
export function decodeAdvertisementFrame(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
): AdvertisementFrame {
  const icmp = decodeIcmpFrame(bytes, offset, length, Icmpv6Type.NeighborAdvertisement, 'not-advertisement');
  const advertisement = decodeNeighborAdvertisement(bytes, icmp.icmpOffset, icmp.icmpLength);
  return { ...icmp, advertisement };
}

/** Writes Ethernet and IPv6 headers (plus `extension` bytes); returns the ICMPv6 offset. */
function writeHeaders(fields: FrameAddressing, extension: Uint8Array, icmpLength: number, out: Uint8Array, offset: number): number {
  encodeEthernetHeader(
    { destination: fields.ethernetDestination, source: fields.ethernetSource, etherType: EtherType.IPv6 },
    out,
    offset,
  );
  const header: Ipv6Header = {
    trafficClass: 0,
    flowLabel: 0,
    payloadLength: extension.length + icmpLength,
    nextHeader: extension.length > 0 ? IpProtocol.HopByHop : IpProtocol.Icmpv6,
    hopLimit: fields.hopLimit,
    source: fields.ipv6Source,
    destination: fields.ipv6Destination,
  };
  encodeIpv6Header(header, out, offset + ETHERNET_HEADER_LENGTH);
  out.set(extension, offset + HEADERS_LENGTH);
  return offset + HEADERS_LENGTH + extension.length;
}

/** Length in bytes of the NS frame {@link encodeSolicitationFrame} writes for `fields`. */
export function solicitationFrameLength(fields: SolicitationFrameFields): number {
  const extension = fields.hopByHop === true ? PADDED_HOP_BY_HOP.length : 0;
  return HEADERS_LENGTH + extension + neighborSolicitationEncodingLength(fields.solicitation);
}

/** Writes a complete NS frame (optionally behind a hop-by-hop header) and returns the frame's view. */
export function encodeSolicitationFrame(fields: SolicitationFrameFields, bytes?: Uint8Array, offset = 0): Uint8Array {
  const total = solicitationFrameLength(fields);
  const out = bytes ?? new Uint8Array(offset + total);
  ensureAvailable(out, offset, total, 'solicitation frame');
  const extension = fields.hopByHop === true ? PADDED_HOP_BY_HOP : new Uint8Array(0);
  const icmpLength = total - HEADERS_LENGTH - extension.length;
  const icmpOffset = writeHeaders(fields, extension, icmpLength, out, offset);
  encodeNeighborSolicitation(fields.solicitation, out, icmpOffset);
  writeIcmpv6Checksum(fields.ipv6Source, fields.ipv6Destination, out, icmpOffset, icmpLength);
  return out.subarray(offset, offset + total);
}
