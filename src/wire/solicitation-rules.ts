/**
 * The checks a received Neighbour Solicitation must pass, as data: one row per check, in the
 * order they apply, so the first row a frame fails names its ignore reason (the documented
 * precedence). The userspace validator (core/validate.ts) interprets every row; the classic-BPF
 * socket filter (wire/bpf.ts) is generated from the rows marked `kernel`. Each row is described
 * completely (where it reads, what it compares, or a named special kind with its parameters),
 * so an in-kernel program could be generated from all of them.
 */
import { SOLICITED_NODE_PREFIX } from './address';
import { PACKET_OUTGOING, SKF_AD_PKTTYPE } from './bpf-assembler';
import { EtherType } from './ethernet';
import { Icmpv6Type } from './icmpv6';
import { IpProtocol } from './ipv6';
import { MAX_ND_OPTIONS, NdOptionType } from './nd-options';
import type { IgnoreReason } from '../model/reasons';

/**
 * Where a field is read. `ethernet`: from the frame's first byte; `ipv6`: from the IPv6 fixed
 * header; `icmpv6`: from the ICMPv6 message, wherever the header chain puts it; `metadata`: a
 * Linux socket-filter ancillary field (offset = SKF_AD_*), visible to kernel programs only.
 */
export type RuleLayer = 'metadata' | 'ethernet' | 'ipv6' | 'icmpv6';

/** What every row carries. */
interface RuleBase {
  /** Stable short name, for tests and documentation. */
  readonly name: string;
  /** Counted and logged when a frame fails this row. */
  readonly reason: IgnoreReason;
  /** What makes it a rule: an RFC section, or the design note for our own rules. */
  readonly rfc: string;
  /** True when the classic-BPF socket filter applies the row too. */
  readonly kernel: boolean;
}

/** `(field & mask) op value` on one big-endian field of 1, 2 or 4 bytes; a read past the data fails. */
export interface FieldRule extends RuleBase {
  readonly kind: 'field';
  readonly layer: RuleLayer;
  readonly offset: number;
  readonly width: 1 | 2 | 4;
  readonly mask: number;
  readonly op: 'eq' | 'ne';
  readonly value: number;
}

/** The frame holds the IPv6 fixed header and the payload length (ipv6 `lengthOffset`, 2 bytes) it declares. */
export interface PayloadRule extends RuleBase {
  readonly kind: 'ipv6-payload';
  readonly lengthOffset: number;
  readonly headerLength: number;
}

/**
 * The header chain from the Next Header byte (ipv6 `nextHeaderOffset`): `upperLayer` directly,
 * or after exactly one `hopByHop` header (its length byte counts 8-octet units after the first
 * 8). A `fragment` header, directly or after hop-by-hop, fails with `fragmentReason`; any
 * other chain, or a hop-by-hop header overrunning the payload, with `reason`.
 */
export interface HeaderChainRule extends RuleBase {
  readonly kind: 'header-chain';
  readonly nextHeaderOffset: number;
  readonly upperLayer: number;
  readonly hopByHop: number;
  readonly fragment: number;
  readonly fragmentReason: IgnoreReason;
}

/** The ICMPv6 message (payload minus extension headers) is at least `minimum` bytes. */
export interface LengthRule extends RuleBase {
  readonly kind: 'icmpv6-length';
  readonly minimum: number;
}

/**
 * The ND options from icmpv6 `offset` to the message end: each has a length byte (at +1,
 * 8-octet units) above 0 and ends within the message; more than `maximum` options fail with
 * `tooManyReason`.
 */
export interface OptionsRule extends RuleBase {
  readonly kind: 'options';
  readonly offset: number;
  readonly maximum: number;
  readonly tooManyReason: IgnoreReason;
}

/** The 6 bytes at ethernet `offset` (the source MAC) differ from the uplink's MAC, known only at run time. */
export interface OwnMacRule extends RuleBase {
  readonly kind: 'own-mac';
  readonly offset: number;
}

/** The ICMPv6 checksum (stored at icmpv6 `offset`) is right over the pseudo-header and the message. */
export interface ChecksumRule extends RuleBase {
  readonly kind: 'checksum';
  readonly offset: number;
}

/**
 * Only when the 16-byte IPv6 source (ipv6 `sourceOffset`) is :: (a DAD probe): the destination
 * (ipv6 `destinationOffset`) starts with the first `prefixLength` bits of `prefix`.
 */
export interface DadDestinationRule extends RuleBase {
  readonly kind: 'dad-destination';
  readonly sourceOffset: number;
  readonly destinationOffset: number;
  readonly prefix: Uint8Array;
  readonly prefixLength: number;
}

/**
 * Only when the IPv6 source (ipv6 `sourceOffset`) is ::: no ND option of type `option`,
 * whatever its length, among the options from icmpv6 `optionsOffset`.
 */
export interface DadOptionRule extends RuleBase {
  readonly kind: 'dad-no-option';
  readonly sourceOffset: number;
  readonly optionsOffset: number;
  readonly option: number;
}

/** The 16-byte target at icmpv6 `offset` is one we serve (the target set; the kernel compares the filter's list). */
export interface TargetRule extends RuleBase {
  readonly kind: 'target';
  readonly offset: number;
}

/** One row of a rule table ({@link SOLICITATION_RULES}, {@link ADVERTISEMENT_FILTER_RULES}). */
export type NdRule =
  | FieldRule
  | PayloadRule
  | HeaderChainRule
  | LengthRule
  | OptionsRule
  | OwnMacRule
  | ChecksumRule
  | DadDestinationRule
  | DadOptionRule
  | TargetRule;

/** RFC 2464 §3: IPv6 over Ethernet. */
const ETHERTYPE: FieldRule = {
  kind: 'field', name: 'ethertype', layer: 'ethernet', offset: 12, width: 2, mask: 0xffff, op: 'eq', value: EtherType.IPv6,
  reason: 'malformed', rfc: 'RFC 2464 §3', kernel: true,
};
/** Frames we send come back to packet sockets marked outgoing; userspace relies on {@link OWN_MAC}. */
const NOT_OUTGOING: FieldRule = {
  kind: 'field', name: 'not-outgoing', layer: 'metadata', offset: SKF_AD_PKTTYPE, width: 4, mask: 0xffffffff, op: 'ne', value: PACKET_OUTGOING,
  reason: 'own-frame', rfc: 'docs/design.md "Receiving"', kernel: true,
};
/** RFC 8200 §4.3, RFC 6980 §5: at most one hop-by-hop header; fragmented ND is dropped. */
const HEADER_CHAIN: HeaderChainRule = {
  kind: 'header-chain', name: 'header-chain', nextHeaderOffset: 6, upperLayer: IpProtocol.Icmpv6, hopByHop: IpProtocol.HopByHop,
  fragment: IpProtocol.Fragment, reason: 'malformed', fragmentReason: 'fragmented', rfc: 'RFC 8200 §4.3, RFC 6980 §5', kernel: true,
};
/** The comparison of the target with what we serve; userspace applies it in core/decide.ts. */
const TARGET: TargetRule = { kind: 'target', name: 'target', offset: 8, reason: 'not-a-target', rfc: 'docs/design.md "Deciding"', kernel: true };

/** The ICMPv6 type row for ND message `type` (RFC 4861 §4.3, §4.4). */
function icmpv6Type(type: number): FieldRule {
  return {
    kind: 'field', name: 'icmpv6-type', layer: 'icmpv6', offset: 0, width: 1, mask: 0xff, op: 'eq', value: type,
    reason: 'malformed', rfc: 'RFC 4861 §4.3', kernel: true,
  };
}

/** Freezes every row and the list: the table is shared by every interpreter and generator. */
function table<T extends object>(rows: T[]): readonly T[] {
  for (const row of rows) Object.freeze(row);
  return Object.freeze(rows);
}

/**
 * Every check of a received Neighbour Solicitation, in precedence order. The §7.1.1 rows stay
 * out of the classic-BPF filter so their per-reason counters stay visible to operators
 * (docs/design.md "Receiving").
 */
export const SOLICITATION_RULES: readonly NdRule[] = table<NdRule>([
  ETHERTYPE,
  NOT_OUTGOING,
  { kind: 'field', name: 'ip-version', layer: 'ipv6', offset: 0, width: 1, mask: 0xf0, op: 'eq', value: 0x60, reason: 'malformed', rfc: 'RFC 8200 §3', kernel: false },
  { kind: 'ipv6-payload', name: 'payload-in-frame', lengthOffset: 4, headerLength: 40, reason: 'malformed', rfc: 'RFC 8200 §3', kernel: false },
  HEADER_CHAIN,
  icmpv6Type(Icmpv6Type.NeighborSolicitation),
  { kind: 'icmpv6-length', name: 'ns-length', minimum: 24, reason: 'too-short', rfc: 'RFC 4861 §7.1.1', kernel: false },
  {
    kind: 'options', name: 'options', offset: 24, maximum: MAX_ND_OPTIONS, reason: 'bad-option-length', tooManyReason: 'malformed',
    rfc: 'RFC 4861 §7.1.1, §4.6', kernel: false,
  },
  { kind: 'own-mac', name: 'own-mac', offset: 6, reason: 'own-frame', rfc: 'docs/design.md "Receiving"', kernel: false },
  { kind: 'field', name: 'hop-limit', layer: 'ipv6', offset: 7, width: 1, mask: 0xff, op: 'eq', value: 255, reason: 'bad-hop-limit', rfc: 'RFC 4861 §7.1.1', kernel: false },
  { kind: 'field', name: 'icmpv6-code', layer: 'icmpv6', offset: 1, width: 1, mask: 0xff, op: 'eq', value: 0, reason: 'bad-code', rfc: 'RFC 4861 §7.1.1', kernel: false },
  { kind: 'checksum', name: 'checksum', offset: 2, reason: 'bad-checksum', rfc: 'RFC 4861 §7.1.1, RFC 4443 §2.3', kernel: false },
  {
    kind: 'field', name: 'target-not-multicast', layer: 'icmpv6', offset: 8, width: 1, mask: 0xff, op: 'ne', value: 0xff,
    reason: 'multicast-target', rfc: 'RFC 4861 §7.1.1', kernel: false,
  },
  {
    // A multicast source is never valid (RFC 4291 §2.7); answering it would send NAs to a group.
    kind: 'field', name: 'source-not-multicast', layer: 'ipv6', offset: 8, width: 1, mask: 0xff, op: 'ne', value: 0xff,
    reason: 'multicast-source', rfc: 'RFC 4291 §2.7, RFC 4861 §7.2.4', kernel: false,
  },
  {
    kind: 'dad-destination', name: 'dad-destination', sourceOffset: 8, destinationOffset: 24, prefix: SOLICITED_NODE_PREFIX, prefixLength: 104,
    reason: 'dad-bad-destination', rfc: 'RFC 4861 §7.1.1', kernel: false,
  },
  {
    kind: 'dad-no-option', name: 'dad-no-slla', sourceOffset: 8, optionsOffset: 24, option: NdOptionType.SourceLinkLayerAddress,
    reason: 'dad-with-slla', rfc: 'RFC 4861 §7.1.1', kernel: false,
  },
  TARGET,
]);

/** The rows of the Neighbour Advertisement filter (the conflict monitor's socket): the frame rows, type 136, the target. */
export const ADVERTISEMENT_FILTER_RULES: readonly NdRule[] = table<NdRule>([
  ETHERTYPE,
  NOT_OUTGOING,
  HEADER_CHAIN,
  icmpv6Type(Icmpv6Type.NeighborAdvertisement),
  TARGET,
]);
