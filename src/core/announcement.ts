import { multicastMac, solicitedNodeAddress } from '../wire/address';
import type { SolicitationFrameFields } from '../wire/frame';
import { NdOptionType } from '../wire/nd-options';

/** RFC 4861 §7.2.6 bounds unsolicited announcements: at most 3, at least 1 s apart. */
export const ANNOUNCE_COUNT = 3;
/** Spacing between announcements for one address, in milliseconds. */
export const ANNOUNCE_INTERVAL_MS = 1000;

/**
 * The NS that warms a router's neighbour cache for a new address: sent from the address, with
 * our MAC as SLLA, to the router's solicited-node group. An unsolicited NA would not do: it
 * never creates a cache entry (RFC 4861 §7.2.5), while an NS with SLLA does (§7.2.3).
 */
export function announcementFrame(address: Uint8Array, router: Uint8Array, uplinkMac: Uint8Array): SolicitationFrameFields {
  const group = solicitedNodeAddress(router);
  return {
    ethernetDestination: multicastMac(group),
    ethernetSource: uplinkMac,
    ipv6Source: address,
    ipv6Destination: group,
    hopLimit: 255,
    solicitation: { target: router, options: [{ type: NdOptionType.SourceLinkLayerAddress, linkLayerAddress: uplinkMac }] },
  };
}
