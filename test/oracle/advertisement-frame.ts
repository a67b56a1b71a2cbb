/**
 * A whole Neighbour Advertisement frame from its fields, through the general codecs (Ethernet,
 * IPv6, the NA message, the checksum). The daemon answers with wire/advertisement-template.ts;
 * this encoder is the independent one tests compare it with, and builds NAs for tests to send.
 */
import { ETHERNET_HEADER_LENGTH, EtherType, encodeEthernetHeader } from '../../src/wire/ethernet';
import { ensureAvailable } from '../../src/wire/errors';
import { writeIcmpv6Checksum } from '../../src/wire/icmpv6';
import { IPV6_HEADER_LENGTH, IpProtocol, encodeIpv6Header } from '../../src/wire/ipv6';
import {
  encodeNeighborAdvertisement,
  neighborAdvertisementEncodingLength,
  type NeighborAdvertisement,
} from '../../src/wire/neighbor-advertisement';

/** Everything an NA frame holds. */
export interface AdvertisementFrameFields {
  ethernetDestination: Uint8Array;
  ethernetSource: Uint8Array;
  ipv6Source: Uint8Array;
  ipv6Destination: Uint8Array;
  hopLimit: number;
  advertisement: NeighborAdvertisement;
}

/** Length in bytes of the NA frame {@link encodeAdvertisementFrame} writes for `fields`. */
export function advertisementFrameLength(fields: AdvertisementFrameFields): number {
  return ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + neighborAdvertisementEncodingLength(fields.advertisement);
}

/**
 * Writes a complete NA frame (payload length and checksum filled in) into `bytes` at
 * `offset`, or into a new buffer, and returns the frame's view.
 */
export function encodeAdvertisementFrame(fields: AdvertisementFrameFields, bytes?: Uint8Array, offset = 0): Uint8Array {
  const total = advertisementFrameLength(fields);
  const out = bytes ?? new Uint8Array(offset + total);
  ensureAvailable(out, offset, total, 'advertisement frame');
  const ip = offset + ETHERNET_HEADER_LENGTH;
  const icmp = ip + IPV6_HEADER_LENGTH;
  const { ipv6Source: source, ipv6Destination: destination } = fields;
  encodeEthernetHeader({ destination: fields.ethernetDestination, source: fields.ethernetSource, etherType: EtherType.IPv6 }, out, offset);
  const payloadLength = total - ETHERNET_HEADER_LENGTH - IPV6_HEADER_LENGTH;
  encodeIpv6Header({ trafficClass: 0, flowLabel: 0, payloadLength, nextHeader: IpProtocol.Icmpv6, hopLimit: fields.hopLimit, source, destination }, out, ip);
  encodeNeighborAdvertisement(fields.advertisement, out, icmp);
  writeIcmpv6Checksum(source, destination, out, icmp, payloadLength);
  return out.subarray(offset, offset + total);
}
