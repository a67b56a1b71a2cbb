/**
 * What the in-kernel fast path and its loader agree on: the frame offsets it
 * reads (untagged Ethernet, IPv6 without extension headers, the NS body), its
 * maps, the counter slots, and the config value the daemon writes.
 */
import { MAC_ADDRESS_LENGTH } from '../address';
import { ETHERNET_HEADER_LENGTH } from '../ethernet';
import { IPV6_HEADER_LENGTH } from '../ipv6';
import { MapType } from './kernel-abi';

const IP = ETHERNET_HEADER_LENGTH;
const ICMP = ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH;

/** Byte offsets in the frame (RFC 2464, RFC 8200 §3, RFC 4861 §4.3/§4.4/§4.6). */
export const FrameOffset = {
  ethernetDestination: 0,
  ethernetSource: 6,
  etherType: 12,
  ipv6: IP,
  payloadLength: IP + 4,
  nextHeader: IP + 6,
  hopLimit: IP + 7,
  ipv6Source: IP + 8,
  ipv6Destination: IP + 24,
  icmpv6: ICMP,
  icmpv6Code: ICMP + 1,
  icmpv6Checksum: ICMP + 2,
  naFlags: ICMP + 4,
  target: ICMP + 8,
  /** The first ND option: type, length in 8-byte units, link-layer address. */
  option: ICMP + 24,
  optionAddress: ICMP + 26,
} as const;

/** Frame length through the target: the least a frame needs to be an NS. */
export const SOLICITATION_MIN_FRAME = FrameOffset.option;
/**
 * The one frame shape answered in the kernel: an NS with exactly one 8-byte option (a Source
 * Link-Layer Address), as Linux sends for address resolution and NUD. Its NA (with a TLLA) has
 * the same length, so the rewrite never resizes the frame.
 */
export const ANSWERED_ICMPV6_LENGTH = 32;
/** Frame length of that shape. */
export const ANSWERED_FRAME_LENGTH = FrameOffset.icmpv6 + ANSWERED_ICMPV6_LENGTH;

/** Slots of the per-CPU `counters` array (u64 each). */
export const FastPathCounter = {
  /** An NS for a target in the `targets` map (the socket filter's rows of the rule table). */
  matched: 0,
  /** Rewritten into the NA and sent back out of the receiving device. */
  answered: 1,
  /** Matched but left to userspace: a failed RFC 4861 §7.1.1 row, DAD probe, other shape, own frame. */
  deferred: 2,
} as const;

/** Number of counter slots. */
export const FAST_PATH_COUNTERS = Object.keys(FastPathCounter).length;

/** A map the program references by name: bpf(BPF_MAP_CREATE) parameters. */
export interface MapSpec {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
}

/** Default bound on the `targets` map (addresses answered in the kernel). */
export const DEFAULT_MAX_TARGETS = 4096;

/** The maps of the solicitation program, keyed by the names its `ldMap` uses. */
export function fastPathMaps(maxTargets = DEFAULT_MAX_TARGETS): Readonly<Record<'targets' | 'config' | 'counters', MapSpec>> {
  return {
    /** Key: the 16 target bytes. Value: u32, reserved (0). */
    targets: { type: MapType.HASH, keySize: 16, valueSize: 4, maxEntries: maxTargets },
    /** One entry, see {@link encodeFastPathConfig}. */
    config: { type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 },
    counters: { type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: FAST_PATH_COUNTERS },
  };
}

/** What the program writes into each NA besides the target. */
export interface FastPathConfig {
  /** The uplink's MAC: Ethernet source and Target Link-Layer Address. */
  readonly mac: Uint8Array;
  /** R flag (RFC 4861 §4.4): keep it stable across answers. */
  readonly router: boolean;
  /** O flag. S is always set: the kernel answers only solicitations from a unicast source. */
  readonly override: boolean;
}

/** Offset of the NA flags byte in the config value. */
export const CONFIG_FLAGS_OFFSET = MAC_ADDRESS_LENGTH;

/** The 8-byte `config` value: MAC (6), NA flags byte (R 0x80, O 0x20), reserved. */
export function encodeFastPathConfig(config: FastPathConfig): Uint8Array {
  if (config.mac.length !== MAC_ADDRESS_LENGTH) throw new RangeError('mac must be 6 bytes');
  const value = new Uint8Array(8);
  value.set(config.mac, 0);
  value[CONFIG_FLAGS_OFFSET] = (config.router ? 0x80 : 0) | (config.override ? 0x20 : 0);
  return value;
}
