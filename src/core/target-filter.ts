/**
 * Which targets the kernel's BPF program compares, so solicitations for addresses we do not
 * serve are dropped before they wake userspace (a foreign-target flood then costs no JS time).
 */
import { formatIpv6, multicastMac, solicitedNodeAddress } from '../wire/address';
import { MAX_FILTER_TARGETS, type FilterOptions } from '../wire/bpf-targets';
import type { Target } from '../model/target';

/** Number of leading bits `a` and `b` share, at most `limit`. */
function commonBits(a: Uint8Array, b: Uint8Array, limit: number): number {
  for (let bit = 0; bit < limit; bit++) {
    const mask = 0x80 >> (bit & 7);
    if (((a[bit >> 3] ?? 0) & mask) !== ((b[bit >> 3] ?? 0) & mask)) return bit;
  }
  return limit;
}

/**
 * The kernel filter's target options: every address and prefix when they fit the program's
 * budget ({@link MAX_FILTER_TARGETS} entries); for larger sets, the longest prefix common to
 * all targets (e.g. the LAN /64 for 100 000 container addresses), so at least solicitations
 * for other prefixes stay in the kernel; with nothing in common, no target check at all.
 */
export function kernelTargetFilter(targets: readonly Target[]): FilterOptions {
  if (targets.length <= MAX_FILTER_TARGETS) {
    return {
      targets: targets.filter((t) => t.prefixLength === 128).map((t) => t.address),
      prefixes: targets.filter((t) => t.prefixLength < 128).map((t) => ({ address: t.address, prefixLength: t.prefixLength })),
    };
  }
  const first = targets[0]!;
  let length = first.prefixLength;
  for (const target of targets) length = commonBits(first.address, target.address, Math.min(length, target.prefixLength));
  return length === 0 ? {} : { prefixes: [{ address: first.address, prefixLength: length }] };
}

/** Above this many single-address targets, ALLMULTI replaces per-group joins (NIC filter tables are small). */
export const MAX_GROUP_JOINS = 256;

/** Multicast memberships the uplink needs for a target set. */
export interface MulticastPlan {
  /** Solicited-node groups to join, as text (for IPV6_JOIN_GROUP / MLD). */
  readonly groups: readonly string[];
  /** Their multicast MACs (for PACKET_ADD_MEMBERSHIP). */
  readonly groupMacs: readonly Uint8Array[];
  /** Prefix targets, or too many groups: take every multicast frame instead. */
  readonly allMulticast: boolean;
}

/** One solicited-node group per distinct single-address target, or ALLMULTI (docs/design.md "Receiving"). */
export function multicastPlan(targets: readonly Target[]): MulticastPlan {
  const singles = targets.filter((t) => t.prefixLength === 128);
  const hasPrefixes = singles.length < targets.length;
  if (singles.length > MAX_GROUP_JOINS) return { groups: [], groupMacs: [], allMulticast: true };
  const byText = new Map<string, Uint8Array>();
  for (const target of singles) {
    const group = solicitedNodeAddress(target.address);
    byText.set(formatIpv6(group), group);
  }
  return { groups: [...byText.keys()], groupMacs: [...byText.values()].map((g) => multicastMac(g)), allMulticast: hasPrefixes };
}
