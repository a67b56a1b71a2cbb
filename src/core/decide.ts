import { ALL_NODES, isLinkLocal, multicastMac } from '../wire/address';
import type { AdvertisementFrameFields } from '../wire/frame';
import { NdOptionType } from '../wire/nd-options';
import type { AnswerGate } from './answer-gate';
import type { IgnoreReason } from '../model/reasons';
import type { RouteInfo, SourceMode, Target } from '../model/target';
import type { TargetSet } from './target-set';
import type { Solicitation } from './validate';

/** Everything `decideAdvertisement` needs to know about the world, passed in. */
export interface DecisionContext {
  readonly targets: TargetSet;
  /** Name of the uplink the solicitation arrived on. */
  readonly uplink: string;
  readonly uplinkMac: Uint8Array;
  readonly uplinkLinkLocal: Uint8Array | undefined;
  readonly linkUp: boolean;
  /** Global `--via`; a target's own `via` takes precedence. */
  readonly via: string | undefined;
  readonly source: SourceMode;
  readonly router: boolean;
  readonly override: boolean;
  isOwnAddress(address: Uint8Array): boolean;
  routeOf(target: Target): RouteInfo;
  /** Rate limits and DAD-conflict accounting, consulted just before an answer is queued. */
  readonly answerGate?: AnswerGate | undefined;
}

/** Either an advertisement to send, or an ignore with its reason. */
export type Decision =
  | { readonly action: 'advertise'; readonly target: Target; readonly frame: AdvertisementFrameFields }
  | { readonly action: 'ignore'; readonly reason: IgnoreReason; readonly target?: Target };

const ALL_NODES_MAC = multicastMac(ALL_NODES);
const HOP_LIMIT = 255;

function ignore(reason: IgnoreReason, target?: Target): Decision {
  return target === undefined ? { action: 'ignore', reason } : { action: 'ignore', reason, target };
}

/** Whether the kernel's route for `target` lets us answer without black-holing traffic. */
export function routeReason(target: Target, context: DecisionContext): IgnoreReason | undefined {
  const route = context.routeOf(target);
  if (route.kind === 'local') return 'own-address';
  if (route.kind === 'none') return 'no-route';
  // Answering for an address routed back out of the uplink would loop it into a black hole.
  if (route.ifname === context.uplink) return 'route-via-uplink';
  const via = target.via ?? context.via;
  if (via !== undefined && route.ifname !== via) return 'route-not-via';
  return undefined;
}

/**
 * Decide whether to answer a valid solicitation, and build the answer.
 * Pure: the caller supplies the target set, routes and link state.
 */
export function decideAdvertisement(ns: Solicitation, context: DecisionContext): Decision {
  if (!context.linkUp) return ignore('link-down');
  // Link-local addresses are never proxied: they are only meaningful on their own link.
  if (isLinkLocal(ns.target)) return ignore('link-local-target');
  const target = context.targets.match(ns.target);
  if (target === undefined) return ignore('not-a-target');
  // The kernel answers for the host's own addresses; a second answer would only confuse.
  if (context.isOwnAddress(ns.target)) return ignore('own-address', target);
  const blocked = routeReason(target, context);
  if (blocked !== undefined) return ignore(blocked, target);
  return { action: 'advertise', target, frame: buildAdvertisement(ns, context) };
}

/** The Neighbour Advertisement answering `ns` (RFC 4861 §7.2.4), as frame fields. */
export function buildAdvertisement(ns: Solicitation, context: DecisionContext): AdvertisementFrameFields {
  const dad = ns.duplicateAddressDetection;
  // §7.2.4: a DAD probe (source ::) is answered to all-nodes with S=0; S=1 to a multicast
  // destination would be dropped by receivers.
  const ipv6Destination = dad ? ALL_NODES : ns.source;
  const ethernetDestination = dad ? ALL_NODES_MAC : (ns.sourceLinkLayerAddress ?? ns.ethernetSource);
  const ipv6Source =
    context.source === 'link-local' && context.uplinkLinkLocal !== undefined ? context.uplinkLinkLocal : ns.target;
  return {
    ethernetDestination,
    ethernetSource: context.uplinkMac,
    ipv6Source,
    ipv6Destination,
    hopLimit: HOP_LIMIT,
    advertisement: {
      router: context.router,
      solicited: !dad,
      override: context.override,
      target: ns.target,
      // §7.2.4: always include our link-layer address; a proxy has no other way to be reached.
      options: [{ type: NdOptionType.TargetLinkLayerAddress, linkLayerAddress: context.uplinkMac }],
    },
  };
}
