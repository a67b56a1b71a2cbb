/**
 * Conflict detection (docs/design.md "Floods"): another node answering for,
 * or probing with DAD for, an address we serve. Pure: frames and targets in, verdicts out.
 */
import { equalBytes } from '../wire/address';
import { WireError } from '../wire/errors';
import { decodeAdvertisementFrame } from '../wire/frame';
import { findLinkLayerAddress, NdOptionType } from '../wire/nd-options';
import type { TargetSet } from './target-set';
import type { Target } from '../model/target';

/** A conflicting advertisement: whose target, and the claimant's addresses. */
export interface AdvertisementConflict {
  readonly target: Target;
  readonly address: Uint8Array;
  readonly ethernetSource: Uint8Array;
  /** The claimed link-layer address (TLLA option), when present. */
  readonly linkLayerAddress: Uint8Array | undefined;
}

/**
 * The conflict an inbound frame shows, if it is a valid Neighbour Advertisement (RFC 4861
 * §7.1.2: hop limit 255, code 0, checksum) from another MAC for one of `targets`.
 * Anything else, including undecodable bytes, yields undefined: this never throws.
 */
export function advertisementConflict(
  bytes: Uint8Array,
  offset: number,
  length: number,
  ownMac: Uint8Array | undefined,
  targets: TargetSet,
): AdvertisementConflict | undefined {
  let frame;
  try {
    frame = decodeAdvertisementFrame(bytes, offset, length);
  } catch (error) {
    if (error instanceof WireError) return undefined;
    throw error;
  }
  // An NA that could have been forged off-link, or is damaged, proves nothing.
  if (frame.ipv6.hopLimit !== 255 || frame.icmpCode !== 0 || !frame.checksumValid || frame.fragmented) return undefined;
  if (ownMac !== undefined && equalBytes(frame.ethernet.source, 0, ownMac, 0, 6)) return undefined;
  const address = frame.advertisement.target;
  const target = targets.match(address);
  if (target === undefined) return undefined;
  return {
    target,
    address,
    ethernetSource: frame.ethernet.source,
    linkLayerAddress: findLinkLayerAddress(frame.advertisement.options, NdOptionType.TargetLinkLayerAddress),
  };
}
