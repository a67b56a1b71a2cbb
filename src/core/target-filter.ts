/**
 * Which targets the kernel's BPF program compares, so solicitations for addresses we do not
 * serve are dropped before they wake userspace (a foreign-target flood then costs no JS time).
 */
import { MAX_FILTER_TARGETS, type FilterOptions } from '../wire/bpf';
import type { Target } from './target-set';

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
