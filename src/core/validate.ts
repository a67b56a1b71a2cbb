import { WireError } from '../wire/errors';
import { decodeSolicitationFrame } from '../wire/frame';
import { equalBytes, isMulticast, isSolicitedNodeMulticast, isUnspecified } from '../wire/address';
import { findLinkLayerAddress, NdOptionType } from '../wire/nd-options';
import type { IgnoreReason } from '../model/reasons';

/** A Neighbour Solicitation that passed RFC 4861 §7.1.1, reduced to what decisions need. */
export interface Solicitation {
  /** Ethernet source of the frame: the reply's fallback destination MAC. */
  readonly ethernetSource: Uint8Array;
  /** IPv6 source; the unspecified address for a DAD probe. */
  readonly source: Uint8Array;
  /** IPv6 destination: solicited-node multicast (resolution, DAD) or unicast (NUD). */
  readonly destination: Uint8Array;
  /** The address being asked about. */
  readonly target: Uint8Array;
  /** Source Link-Layer Address option, when present. */
  readonly sourceLinkLayerAddress: Uint8Array | undefined;
  /** True for a Duplicate Address Detection probe (source ::, RFC 4862 §5.4.2). */
  readonly duplicateAddressDetection: boolean;
}

/** The outcome of validating one received frame. */
export type Validation =
  | { readonly ok: true; readonly solicitation: Solicitation }
  | { readonly ok: false; readonly reason: IgnoreReason };

const ICMPV6_NS_MINIMUM_LENGTH = 24;

function reject(reason: IgnoreReason): Validation {
  return { ok: false, reason };
}

function wireReason(error: WireError): IgnoreReason {
  if (error.code === 'bad-option-length') return 'bad-option-length';
  if (error.code === 'bad-length') return 'too-short';
  return 'malformed';
}

/**
 * Decode and validate one Ethernet frame as a Neighbour Solicitation (RFC 4861 §7.1.1).
 * Anything invalid yields a reason and must be dropped silently.
 */
export function validateSolicitationFrame(
  bytes: Uint8Array,
  offset: number,
  length: number,
  ownMac: Uint8Array | undefined,
): Validation {
  let frame;
  try {
    frame = decodeSolicitationFrame(bytes, offset, length);
  } catch (error) {
    if (error instanceof WireError) return reject(wireReason(error));
    throw error;
  }
  const { ethernet, ipv6, solicitation } = frame;
  // Our own transmissions can loop back on some drivers; never answer ourselves.
  if (ownMac !== undefined && equalBytes(ethernet.source, 0, ownMac, 0, 6)) return reject('own-frame');
  // RFC 6980 §5: fragmented ND messages are dropped.
  if (frame.fragmented) return reject('fragmented');
  // §7.1.1: hop limit 255 proves the sender is on-link.
  if (ipv6.hopLimit !== 255) return reject('bad-hop-limit');
  if (frame.icmpCode !== 0) return reject('bad-code');
  if (!frame.checksumValid) return reject('bad-checksum');
  if (frame.icmpLength < ICMPV6_NS_MINIMUM_LENGTH) return reject('too-short');
  if (isMulticast(solicitation.target)) return reject('multicast-target');
  const slla = solicitation.options.find((o) => o.type === NdOptionType.SourceLinkLayerAddress);
  // A malformed-length SLLA is kept raw; it still counts as present for the DAD rule below.
  const sllaBytes = findLinkLayerAddress(solicitation.options, NdOptionType.SourceLinkLayerAddress);
  const dad = isUnspecified(ipv6.source);
  if (dad) {
    // §7.1.1: a DAD probe goes to a solicited-node group and carries no SLLA.
    if (!isSolicitedNodeMulticast(ipv6.destination)) return reject('dad-bad-destination');
    if (slla !== undefined) return reject('dad-with-slla');
  }
  return {
    ok: true,
    solicitation: {
      ethernetSource: ethernet.source,
      source: ipv6.source,
      destination: ipv6.destination,
      target: solicitation.target,
      sourceLinkLayerAddress: sllaBytes,
      duplicateAddressDetection: dad,
    },
  };
}
