/**
 * Which capabilities the responder needs, as a rule over a capability set: one home for
 * `run`'s preflight and `check`'s report (capabilities(7)).
 */

/** Capability numbers (linux/capability.h). */
export const Capability = { NetAdmin: 12, NetRaw: 13 } as const;

/** True when `set` (a CapEff bit mask) holds capability `bit`. */
export function hasCapability(set: bigint, bit: number): boolean {
  return (set & (1n << BigInt(bit))) !== 0n;
}

/** Why `run` cannot work with `set`, or undefined: CAP_NET_RAW always, CAP_NET_ADMIN for --configure-host. */
export function missingPrivilege(set: bigint, configureHost: boolean): string | undefined {
  if (!hasCapability(set, Capability.NetRaw)) return 'missing privileges: needs CAP_NET_RAW (and CAP_NET_ADMIN); run as root or grant the capabilities';
  if (configureHost && !hasCapability(set, Capability.NetAdmin)) return 'missing privileges: --configure-host needs CAP_NET_ADMIN';
  return undefined;
}
