/** Shared vocabulary of what we answer for and where the kernel routes it. Imports nothing. */

/** One configured target: a single address (/128) or a prefix. */
export interface Target {
  /** Network address, 16 bytes, host bits zero. */
  readonly address: Uint8Array;
  /** 0..128; 128 for a single address. */
  readonly prefixLength: number;
  /** How the user wrote it, normalised (e.g. "2001:db8::a:71a0/125"); used in logs. */
  readonly text: string;
  /** Interface the target must be routed out of, overriding the global `--via` (Docker bridges). */
  readonly via?: string | undefined;
  /** Free-form origin for logs: "static", "docker:NAME/CONTAINER". */
  readonly origin?: string | undefined;
}

/** Where the kernel routes a target, as learned from rtnetlink. */
export type RouteInfo =
  | { readonly kind: 'interface'; readonly ifname: string }
  | { readonly kind: 'local' }
  | { readonly kind: 'none' };

/** Which IPv6 source address answers carry (docs/design.md "Answering"). */
export type SourceMode = 'target' | 'link-local';
