/**
 * The decision on a valid solicitation (docs/design.md "Deciding"): answer only for our
 * targets, never for link-local ones, the host's own addresses, or addresses the kernel would
 * not route through the inner side. Pure and allocation-free: the caller supplies the target
 * set, routes and link state, and the solicitation as a view into the receive buffer.
 */
import { isLinkLocal } from '../wire/address';
import type { AnswerGate } from './answer-gate';
import type { IgnoreReason } from '../model/reasons';
import type { RouteInfo, SourceMode, Target } from '../model/target';
import type { TargetSet } from './target-set';
import type { SolicitationView } from './solicitation-view';

/** Everything the decision and the answer need to know about the world, passed in. */
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

/** The target copied out for `isOwnAddress`, which takes a 16-byte address; reused, never kept. */
const scratchTarget = new Uint8Array(16);

/**
 * Decides on the valid solicitation `view` describes in `bytes`: the matched Target to answer
 * for, or the reason not to. The checks apply in this order, the first that fails naming the
 * reason: link down, link-local target, not a target, own address, then the route.
 */
export function decide(bytes: Uint8Array, view: SolicitationView, context: DecisionContext): Target | IgnoreReason {
  if (!context.linkUp) return 'link-down';
  const at = view.target;
  // Link-local addresses are never proxied: they are only meaningful on their own link.
  if (isLinkLocal(bytes, at)) return 'link-local-target';
  const target = context.targets.matchAt(bytes, at);
  if (target === undefined) return 'not-a-target';
  for (let i = 0; i < 16; i++) scratchTarget[i] = bytes[at + i]!;
  // The kernel answers for the host's own addresses; a second answer would only confuse.
  if (context.isOwnAddress(scratchTarget)) return 'own-address';
  return routeReason(target, context) ?? target;
}
