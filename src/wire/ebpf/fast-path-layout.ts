/**
 * What the in-kernel fast path and its loader agree on: the frame offsets it
 * reads (untagged Ethernet, IPv6 without extension headers, the NS body), its
 * maps, the counter slots, and the config value the daemon writes.
 */
import { MAC_ADDRESS_LENGTH } from '../address';
import { ETHERNET_HEADER_LENGTH } from '../ethernet';
import { IPV6_HEADER_LENGTH } from '../ipv6';
import { MapFlags, MapType } from './kernel-abi';

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

/**
 * The program's stack, every slot in one place (offsets below the frame pointer, r10): the
 * solicitation program, its rule checks and its checksum share it, so none may overlap.
 */
export const StackSlot = {
  /** u32 key of the `counters` slot being counted. */
  counterKey: -4,
  /** u32 key 0: the `config` entry, and the one-entry `global` array. */
  configKey: -8,
  /** 8 bytes: the checksum pseudo-header's tail (upper-layer length, next header). */
  pseudoTail: -16,
  /** u64: ktime_get_ns() when the limits are applied. */
  now: -24,
  /** u64: a new bucket's arrival time, for bpf_map_update_elem. */
  newArrival: -32,
  /** 32 bytes: the flow key, the NS's source (the per-source key too), then its target. */
  flowKey: -64,
  /** 20 bytes: the `targets` trie key (prefix length 128, then the target). */
  targetKey: -88,
} as const;

/** Fixed slots of the per-CPU `counters` array (u64 each); per-rule pass slots follow them. */
export const FastPathCounter = {
  /** An NS for a target in the `targets` map (the socket filter's rows of the rule table). */
  matched: 0,
  /** Rewritten into the NA and sent back out of the receiving device. */
  answered: 1,
  /** Matched but left to userspace (any pass reason below). */
  deferred: 2,
  /** Valid and answerable, refused by an answer limit (dropped in the kernel, as the socket path drops it). */
  limited: 3,
} as const;

/**
 * Why a matched NS passed to the socket path, one counter slot each after the fixed ones:
 * `shape` (not the one frame shape answered in place: other length, options, trailing bytes),
 * `dad-probe` (source ::, answered to ff02::1 from userspace), `no-config` (the daemon has not
 * written the config yet), and the name of every other rule-table row the kernel checks
 * (e.g. `hop-limit`, `checksum`): the socket path then counts the frame under that row's reason.
 */
export const PASS_REASONS = [
  'shape',
  'dad-probe',
  'no-config',
  'ip-version',
  'own-mac',
  'hop-limit',
  'icmpv6-code',
  'checksum',
  'target-not-multicast',
  'source-not-multicast',
  'other',
] as const;

/** A pass reason of {@link PASS_REASONS}. */
export type PassReason = (typeof PASS_REASONS)[number];

/** Counter slot of a pass reason. */
export function passSlot(reason: PassReason): number {
  return Object.keys(FastPathCounter).length + PASS_REASONS.indexOf(reason);
}

/** Number of counter slots. */
export const FAST_PATH_COUNTERS = Object.keys(FastPathCounter).length + PASS_REASONS.length;

/** A map the program references by name: bpf(BPF_MAP_CREATE) parameters. */
export interface MapSpec {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
}

/** Bytes of a `targets` key: the prefix length (u32, host order), then the 16 address bytes. */
export const TARGET_KEY_LENGTH = 20;

/** What a `targets` entry says: answer in the kernel, or leave to userspace (e.g. the host's own address inside a served prefix). */
export const TargetAction = { PASS: 0, ANSWER: 1 } as const;

/** The `targets` key for `address`/`prefixLength`. */
export function encodeTargetKey(address: Uint8Array, prefixLength: number): Uint8Array {
  if (address.length !== 16) throw new RangeError('address must be 16 bytes');
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 128) throw new RangeError(`prefix length ${prefixLength}`);
  const key = new Uint8Array(TARGET_KEY_LENGTH);
  new DataView(key.buffer).setUint32(0, prefixLength, true);
  key.set(address, 4);
  return key;
}

/** Default bound on the `targets` map (addresses answered in the kernel). */
export const DEFAULT_MAX_TARGETS = 4096;

/** Names of the maps the program references. */
export type FastPathMapName = 'targets' | 'config' | 'counters' | 'flows' | 'sources' | 'global';

/** Bounds of the maps whose size the caller chooses. */
export interface FastPathMapSizes {
  readonly maxTargets?: number;
  /** Flows the per-flow limit tracks (least recently used forgotten, so a forgotten flow returns full). */
  readonly maxFlows?: number;
  /** Sources the per-source limit tracks. */
  readonly maxSources?: number;
}

/** Bytes of a per-flow key: the NS's IPv6 source then its target. */
export const FLOW_KEY_LENGTH = 32;

/** The maps of the solicitation program, keyed by the names its `ldMap` uses. */
export function fastPathMaps(sizes: FastPathMapSizes = {}): Readonly<Record<FastPathMapName, MapSpec>> {
  return {
    /**
     * Longest-prefix match: single addresses (/128) and prefixes. Key: see {@link encodeTargetKey}.
     * Value: u32 {@link TargetAction}; a PASS entry (a host address inside a served prefix) is as
     * good as no entry.
     */
    targets: { type: MapType.LPM_TRIE, keySize: TARGET_KEY_LENGTH, valueSize: 4, maxEntries: sizes.maxTargets ?? DEFAULT_MAX_TARGETS, flags: MapFlags.NO_PREALLOC },
    /** One entry, see {@link encodeFastPathConfig}. */
    config: { type: MapType.ARRAY, keySize: 4, valueSize: CONFIG_LENGTH, maxEntries: 1 },
    counters: { type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: FAST_PATH_COUNTERS },
    /** Key: source and target (32 bytes). Value: the flow's theoretical arrival time (u64 ns), see {@link limitParameters}. */
    flows: { type: MapType.LRU_HASH, keySize: FLOW_KEY_LENGTH, valueSize: 8, maxEntries: Math.max(1, sizes.maxFlows ?? 16_384) },
    /** Key: the source (16 bytes). Value: as for flows. */
    sources: { type: MapType.LRU_HASH, keySize: 16, valueSize: 8, maxEntries: Math.max(1, sizes.maxSources ?? 4096) },
    /** One entry: the global limit's theoretical arrival time. */
    global: { type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 },
  };
}

/** A token-bucket rate as the socket path states it (core/token-bucket.ts); 0 per second: no limit. */
export interface LimitRate {
  readonly perSecond: number;
  readonly burst: number;
}

/** What the program writes into each NA besides the target, and the answer limits it applies. */
export interface FastPathConfig {
  /** The uplink's MAC: Ethernet source and Target Link-Layer Address. */
  readonly mac: Uint8Array;
  /** R flag (RFC 4861 §4.4): keep it stable across answers. */
  readonly router: boolean;
  /** O flag. S is always set: the kernel answers only solicitations from a unicast source. */
  readonly override: boolean;
  /** `--source link-local` with the uplink's link-local address known: the NA's source. Else the target. */
  readonly source?: Uint8Array;
  /** The answer limits of the socket path; absent: none. */
  readonly limits?: { readonly perFlow: LimitRate; readonly perSource: LimitRate; readonly global: LimitRate };
}

/** Offset of the NA flags byte in the config value. */
export const CONFIG_FLAGS_OFFSET = MAC_ADDRESS_LENGTH;
/** Offset of the source mode byte: 0 the target, 1 the address at {@link CONFIG_SOURCE_OFFSET}. */
export const CONFIG_SOURCE_MODE_OFFSET = MAC_ADDRESS_LENGTH + 1;
/** Offset of the NA's source address when the mode byte is 1. */
export const CONFIG_SOURCE_OFFSET = 8;
/**
 * Offsets of each limit's two u64s: the emission interval (ns per answer, 0: no limit) and the
 * tolerance (ns a flow may run ahead: the burst beyond the first answer).
 */
export const CONFIG_LIMIT_OFFSET = { flow: 24, source: 40, global: 56 } as const;
/** Bytes of the config value. */
export const CONFIG_LENGTH = 72;

/**
 * A token bucket (rate r per second, burst b) as the kernel applies it: the generic cell rate
 * algorithm with one u64 per bucket, its theoretical arrival time (TAT). An answer at `now` is
 * allowed when max(TAT, now) - now <= tolerance, and then TAT = max(TAT, now) + interval. With
 * interval = 1/r and tolerance = (b - 1)/r it admits exactly what the bucket admits: b at once
 * from full, then r per second. A bucket the kernel has never seen (or forgot) is full.
 */
export function limitParameters(rate: LimitRate): { intervalNs: bigint; toleranceNs: bigint } {
  if (!(rate.perSecond > 0)) return { intervalNs: 0n, toleranceNs: 0n };
  const interval = Math.max(1, Math.round(1e9 / rate.perSecond));
  return { intervalNs: BigInt(interval), toleranceNs: BigInt(Math.round(Math.max(0, rate.burst - 1) * interval)) };
}

/** The `config` value: MAC (6), NA flags (R 0x80, O 0x20), source mode, source address, limits. */
export function encodeFastPathConfig(config: FastPathConfig): Uint8Array {
  if (config.mac.length !== MAC_ADDRESS_LENGTH) throw new RangeError('mac must be 6 bytes');
  if (config.source !== undefined && config.source.length !== 16) throw new RangeError('source must be 16 bytes');
  const value = new Uint8Array(CONFIG_LENGTH);
  const view = new DataView(value.buffer);
  value.set(config.mac, 0);
  value[CONFIG_FLAGS_OFFSET] = (config.router ? 0x80 : 0) | (config.override ? 0x20 : 0);
  if (config.source !== undefined) {
    value[CONFIG_SOURCE_MODE_OFFSET] = 1;
    value.set(config.source, CONFIG_SOURCE_OFFSET);
  }
  const limits = config.limits;
  if (limits !== undefined) {
    for (const [name, rate] of [['flow', limits.perFlow], ['source', limits.perSource], ['global', limits.global]] as const) {
      const { intervalNs, toleranceNs } = limitParameters(rate);
      view.setBigUint64(CONFIG_LIMIT_OFFSET[name], intervalNs, true);
      view.setBigUint64(CONFIG_LIMIT_OFFSET[name] + 8, toleranceNs, true);
    }
  }
  return value;
}
