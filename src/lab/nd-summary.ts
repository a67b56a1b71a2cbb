/**
 * Just enough decoding of captured frames for lab assertions ("an NS for X went out, no NA came back").
 * The real codecs live in src/wire; this stays independent so the lab can check them.
 */

/** tcpdump filter for Neighbour Solicitations and Advertisements without extension headers. */
export const ND_CAPTURE_FILTER = 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)';

/** A captured NS or NA, reduced to what tests compare. */
export interface NdSummary {
  readonly kind: 'NS' | 'NA';
  readonly ethernetSource: string;
  readonly ethernetDestination: string;
  readonly source: string;
  readonly destination: string;
  readonly hopLimit: number;
  readonly target: string;
  /** R, S, O flags of an NA (all false for an NS). */
  readonly flags: { readonly router: boolean; readonly solicited: boolean; readonly override: boolean };
  /** The Target (NA) or Source (NS) Link-Layer Address option; undefined when the frame has none. */
  readonly linkLayerAddress: string | undefined;
}

const ETHERNET_HEADER = 14;
const IPV6_HEADER = 40;
const ICMPV6 = ETHERNET_HEADER + IPV6_HEADER;
const ND_MINIMUM = ICMPV6 + 24;
/** RFC 4861 §4.6.1 option types: Source and Target Link-Layer Address. */
const SLLA = 1;
const TLLA = 2;

/** RFC 5952 text form of the 16 bytes at `offset`. */
export function formatIpv6At(bytes: Uint8Array, offset: number): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 16);
  const groups = Array.from({ length: 8 }, (_, i) => view.getUint16(i * 2, false));
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Colon-separated lower-case MAC at `offset`. */
function formatMacAt(bytes: Uint8Array, offset: number): string {
  return Array.from(bytes.subarray(offset, offset + 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * The MAC in the first option of `type` after the NS/NA fixed part; options are walked by their
 * length (8-octet units) and the walk stops at a zero length or one that overruns the frame.
 */
function linkLayerOption(frame: Uint8Array, type: number): string | undefined {
  for (let at = ND_MINIMUM; at + 2 <= frame.length; ) {
    const length = (frame[at + 1] ?? 0) * 8;
    if (length === 0 || at + length > frame.length) return undefined;
    if (frame[at] === type && length >= 8) return formatMacAt(frame, at + 2);
    at += length;
  }
  return undefined;
}

/** Summarise an Ethernet frame carrying an NS or NA directly after the IPv6 header; undefined otherwise. */
export function summarizeNd(frame: Uint8Array): NdSummary | undefined {
  if (frame.length < ND_MINIMUM) return undefined;
  if (frame[12] !== 0x86 || frame[13] !== 0xdd || frame[ETHERNET_HEADER + 6] !== 58) return undefined;
  const type = frame[ICMPV6];
  if (type !== 135 && type !== 136) return undefined;
  const flagByte = type === 136 ? (frame[ICMPV6 + 4] ?? 0) : 0;
  return {
    kind: type === 135 ? 'NS' : 'NA',
    ethernetDestination: formatMacAt(frame, 0),
    ethernetSource: formatMacAt(frame, 6),
    source: formatIpv6At(frame, ETHERNET_HEADER + 8),
    destination: formatIpv6At(frame, ETHERNET_HEADER + 24),
    hopLimit: frame[ETHERNET_HEADER + 7] ?? 0,
    target: formatIpv6At(frame, ICMPV6 + 8),
    flags: { router: (flagByte & 0x80) !== 0, solicited: (flagByte & 0x40) !== 0, override: (flagByte & 0x20) !== 0 },
    linkLayerAddress: linkLayerOption(frame, type === 136 ? TLLA : SLLA),
  };
}
