/**
 * The probes of a benchmark run: which (source, target) pairs are solicited, as ready-made
 * NS frames packed back to back, plus the key each answer carries (target and NA
 * destination). Pure: randomness is passed in, so tests can replay a plan.
 */
import { ALL_NODES, IPV6_ADDRESS_LENGTH, UNSPECIFIED, multicastMac, solicitedNodeAddress } from '../wire/address';
import { encodeSolicitationFrame, solicitationFrameLength, type SolicitationFrameFields } from '../wire/frame';
import { NdOptionType } from '../wire/nd-options';

/** How probes are addressed: multicast NS (address resolution), unicast NS (NUD), or DAD probes. */
export type ProbeMode = 'multicast' | 'unicast' | 'dad';
/** The modes, in the order the CLI lists them. */
export const PROBE_MODES: readonly ProbeMode[] = ['multicast', 'unicast', 'dad'];

/** An address (prefixLength 128) or a prefix whose addresses are probed at random. */
export interface AddressRange {
  address: Uint8Array;
  prefixLength: number;
}

/** Where probe sources come from: a fixed list (round robin) or random addresses in a prefix. */
export type SourceSpace = { kind: 'list'; addresses: readonly Uint8Array[] } | { kind: 'random'; range: AddressRange };

/** Everything a plan is built from. */
export interface PlanInput {
  mode: ProbeMode;
  targets: readonly AddressRange[];
  sources: SourceSpace;
  /** Our MAC: Ethernet source and SLLA option (absent in DAD probes, RFC 4862 §5.4.2). */
  localMac: Uint8Array;
  /** Ethernet destination of unicast probes (the responder's MAC). */
  responderMac?: Uint8Array;
  /** At most this many distinct probes (the sender cycles through them). */
  maxProbes: number;
  /** Fills `bytes` with random bytes (crypto.randomFillSync in production, seeded in tests). */
  fillRandom: (bytes: Uint8Array) => void;
}

/** The probes, ready to send. Probe `i % probeCount` is the i-th frame sent. */
export interface ProbePlan {
  mode: ProbeMode;
  probeCount: number;
  frameLength: number;
  /** probeCount frames, then the first `wrap` again, so any window of ≤ wrap frames is contiguous. */
  frames: Uint8Array;
  wrap: number;
  /** 32 bytes per probe: the target, then the destination its NA is sent to. */
  keys: Uint8Array;
}

/** Distinct probes at most (frames and keys are built up front, ~120 bytes each). */
export const MAX_PROBES = 65_536;
/** Key bytes per probe: target plus expected NA destination. */
export const KEY_LENGTH = 32;

/** Number of addresses in `range`, saturated at 2^53. */
export function rangeSize(range: AddressRange): number {
  const hostBits = IPV6_ADDRESS_LENGTH * 8 - range.prefixLength;
  return hostBits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** hostBits;
}

/** The address `range.address + index` (index < rangeSize). */
export function addressAt(range: AddressRange, index: number): Uint8Array {
  const out = Uint8Array.from(range.address);
  let carry = index;
  for (let i = IPV6_ADDRESS_LENGTH - 1; i >= 0 && carry > 0; i--) {
    const sum = (out[i] ?? 0) + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return out;
}

/** A random address in `range`: the prefix bits kept, the host bits drawn. */
export function randomAddressIn(range: AddressRange, fillRandom: (bytes: Uint8Array) => void): Uint8Array {
  const out = new Uint8Array(IPV6_ADDRESS_LENGTH);
  fillRandom(out);
  for (let bit = 0; bit < range.prefixLength; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    out[byte] = ((out[byte] ?? 0) & ~mask) | ((range.address[byte] ?? 0) & mask);
  }
  return out;
}

interface Pair {
  source: Uint8Array;
  target: Uint8Array;
}

/** Every pair when there are few enough, sources varying fastest (so consecutive probes differ). */
function enumeratePairs(input: PlanInput, sources: readonly Uint8Array[]): Pair[] {
  const pairs: Pair[] = [];
  for (const range of input.targets) {
    for (let t = 0; t < rangeSize(range); t++) {
      const target = addressAt(range, t);
      for (const source of sources) pairs.push({ source, target });
    }
  }
  return pairs;
}

/** Up to maxProbes distinct random pairs; gives up after 4×maxProbes draws when the space is small. */
function samplePairs(input: PlanInput, sources: readonly Uint8Array[] | undefined): Pair[] {
  const seen = new Set<string>();
  const pairs: Pair[] = [];
  const pick = new Uint8Array(4);
  for (let draw = 0; draw < input.maxProbes * 4 && pairs.length < input.maxProbes; draw++) {
    input.fillRandom(pick);
    const range = input.targets[new DataView(pick.buffer).getUint32(0) % input.targets.length];
    if (range === undefined) break;
    const target = range.prefixLength === 128 ? range.address : randomAddressIn(range, input.fillRandom);
    const source =
      input.sources.kind === 'random' ? randomAddressIn(input.sources.range, input.fillRandom) : (sources?.[pairs.length % sources.length] ?? UNSPECIFIED);
    const key = Buffer.from(target).toString('hex') + Buffer.from(source).toString('hex');
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push({ source, target });
  }
  return pairs;
}

/** The pairs to probe: all of them when they fit in maxProbes, else a random sample. */
export function choosePairs(input: PlanInput): Pair[] {
  if (input.targets.length === 0) throw new RangeError('no targets to probe');
  const sources = input.mode === 'dad' ? [UNSPECIFIED] : input.sources.kind === 'list' ? input.sources.addresses : undefined;
  if (sources !== undefined && sources.length === 0) throw new RangeError('no source addresses');
  const targetSpace = input.targets.reduce((sum, range) => sum + rangeSize(range), 0);
  if (sources !== undefined && targetSpace * sources.length <= input.maxProbes) return enumeratePairs(input, sources);
  return samplePairs(input, sources);
}

/** The NS frame fields for one probe. */
function probeFields(input: PlanInput, pair: Pair): SolicitationFrameFields {
  const group = solicitedNodeAddress(pair.target);
  const unicast = input.mode === 'unicast';
  if (unicast && input.responderMac === undefined) throw new RangeError('unicast probes need the responder MAC');
  const options = input.mode === 'dad' ? [] : [{ type: NdOptionType.SourceLinkLayerAddress, linkLayerAddress: input.localMac } as const];
  return {
    ethernetDestination: unicast ? (input.responderMac as Uint8Array) : multicastMac(group),
    ethernetSource: input.localMac,
    ipv6Source: input.mode === 'dad' ? UNSPECIFIED : pair.source,
    ipv6Destination: unicast ? pair.target : group,
    hopLimit: 255, // RFC 4861 §7.1.1: anything else is dropped
    solicitation: { target: pair.target, options },
  };
}

/** Builds the plan: frames for every chosen pair, and the keys their answers will carry. */
export function buildProbePlan(input: PlanInput, wrap = 1024): ProbePlan {
  const pairs = choosePairs({ ...input, maxProbes: Math.min(input.maxProbes, MAX_PROBES) });
  const first = pairs[0];
  if (first === undefined) throw new RangeError('no probes');
  const frameLength = solicitationFrameLength(probeFields(input, first));
  const frames = new Uint8Array((pairs.length + wrap) * frameLength);
  const keys = new Uint8Array(pairs.length * KEY_LENGTH);
  pairs.forEach((pair, i) => {
    encodeSolicitationFrame(probeFields(input, pair), frames, i * frameLength);
    keys.set(pair.target, i * KEY_LENGTH);
    // A DAD probe is answered to all-nodes (RFC 4861 §7.2.4), anything else to its source.
    keys.set(input.mode === 'dad' ? ALL_NODES : pair.source, i * KEY_LENGTH + IPV6_ADDRESS_LENGTH);
  });
  for (let i = 0; i < wrap; i++) {
    const from = (i % pairs.length) * frameLength;
    frames.copyWithin((pairs.length + i) * frameLength, from, from + frameLength);
  }
  return { mode: input.mode, probeCount: pairs.length, frameLength, frames, wrap, keys };
}
