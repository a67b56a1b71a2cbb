/**
 * The decoder-based reference responder: the oracle the pipeline property test holds
 * src/core/pipeline.ts to. Each frame is decoded into objects with the general wire codecs,
 * validated in the documented precedence (the row order of SOLICITATION_RULES), decided on, and
 * answered through the general NA frame encoder. Slow and allocating on purpose: written to be
 * obviously right, and used by tests only.
 */
import type { DecisionContext } from '../../src/core/decide';
import type { OutputBatch } from '../../src/core/output-batch';
import type { ResponderCounters } from '../../src/model/counters';
import type { IgnoreReason } from '../../src/model/reasons';
import type { Target } from '../../src/model/target';
import { ALL_NODES, SOLICITED_NODE_PREFIX, equalBytes, formatIpv6, isLinkLocal, isMulticast, isUnspecified, multicastMac } from '../../src/wire/address';
import { WireError } from '../../src/wire/errors';
import { decodeEthernetHeader, EtherType, type EthernetHeader } from '../../src/wire/ethernet';
import { Icmpv6Type, verifyIcmpv6Checksum } from '../../src/wire/icmpv6';
import { decodeIpv6Header, IpProtocol, type Ipv6Header } from '../../src/wire/ipv6';
import { findLinkLayerAddress, NdOptionType } from '../../src/wire/nd-options';
import { decodeNeighborSolicitation, type NeighborSolicitation } from '../../src/wire/neighbor-solicitation';
import { encodeAdvertisementFrame, type AdvertisementFrameFields } from './advertisement-frame';

/** A Neighbour Solicitation that passed RFC 4861 §7.1.1, as decoded objects. */
export interface Solicitation {
  readonly ethernetSource: Uint8Array;
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
  readonly target: Uint8Array;
  /** The first 6-byte Source Link-Layer Address option, when present. */
  readonly sourceLinkLayerAddress: Uint8Array | undefined;
  /** True for a DAD probe (source ::). */
  readonly duplicateAddressDetection: boolean;
}

/** The outcome of validating one frame. */
export type Validation = { readonly ok: true; readonly solicitation: Solicitation } | { readonly ok: false; readonly reason: IgnoreReason };

/** An answer: for which target, with which frame fields. */
export interface Advertise {
  readonly action: 'advertise';
  readonly target: Target;
  readonly frame: AdvertisementFrameFields;
}

/** Either an answer, or an ignore with its reason. */
export type Decision = Advertise | { readonly action: 'ignore'; readonly reason: IgnoreReason };

/** The reference's answer gate: the same role as the pipeline's, on decoded solicitations. */
export interface ReferenceGate {
  admit(ns: Solicitation): boolean;
}

/** The decision context plus the reference's gate. */
export type ReferenceContext = DecisionContext & { readonly referenceGate?: ReferenceGate | undefined };

/** Told each frame's outcome: a reason, or `answer TARGET to ADDRESS S=0|1`. */
export type ReferenceObserver = (frameIndex: number, outcome: string) => void;

interface Layers {
  readonly ethernet: EthernetHeader;
  readonly ipv6: Ipv6Header;
  readonly icmpOffset: number;
  readonly icmpLength: number;
}

const reject = (reason: IgnoreReason): Validation => ({ ok: false, reason });

/** RFC 8200 §4.3, RFC 6980 §5: where ICMPv6 starts (directly, or after one hop-by-hop header), or why not. */
function upperLayerOffset(frame: Uint8Array, nextHeader: number, start: number, end: number): number | IgnoreReason {
  if (nextHeader === IpProtocol.Icmpv6) return start;
  if (nextHeader === IpProtocol.Fragment) return 'fragmented';
  if (nextHeader !== IpProtocol.HopByHop || start + 2 > end) return 'malformed';
  const afterHopByHop = start + ((frame[start + 1] ?? 0) + 1) * 8;
  if (afterHopByHop > end) return 'malformed';
  const next = frame[start];
  return next === IpProtocol.Icmpv6 ? afterHopByHop : next === IpProtocol.Fragment ? 'fragmented' : 'malformed';
}

/** Ethernet, IPv6, the header chain and the ICMPv6 type, decoded; a reason when they are not an NS. */
function decodeLayers(frame: Uint8Array, offset: number): Layers | IgnoreReason {
  try {
    const ethernet = decodeEthernetHeader(frame, offset);
    if (ethernet.etherType !== EtherType.IPv6) return 'malformed';
    const ipv6 = decodeIpv6Header(frame, offset + 14);
    const start = offset + 14 + 40;
    const end = start + ipv6.payloadLength;
    if (end > frame.length) return 'malformed';
    const icmpOffset = upperLayerOffset(frame, ipv6.nextHeader, start, end);
    if (typeof icmpOffset === 'string') return icmpOffset;
    if (icmpOffset >= end || frame[icmpOffset] !== Icmpv6Type.NeighborSolicitation) return 'malformed';
    return { ethernet, ipv6, icmpOffset, icmpLength: end - icmpOffset };
  } catch (error) {
    if (error instanceof WireError) return 'malformed';
    throw error;
  }
}

/** The NS message with its options, or the reason the decoder refused it. */
function decodeMessage(frame: Uint8Array, layers: Layers): NeighborSolicitation | IgnoreReason {
  try {
    return decodeNeighborSolicitation(frame, layers.icmpOffset, layers.icmpLength);
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    return error.code === 'bad-length' ? 'too-short' : error.code === 'bad-option-length' ? 'bad-option-length' : 'malformed';
  }
}

/** Decodes and validates one frame (RFC 4861 §7.1.1), the first failing check naming the reason. */
export function validateSolicitationFrame(bytes: Uint8Array, offset: number, length: number, ownMac: Uint8Array | undefined): Validation {
  if (offset < 0 || length < 0 || offset + length > bytes.length) return reject('malformed');
  const frame = bytes.subarray(0, offset + length);
  const layers = decodeLayers(frame, offset);
  if (typeof layers === 'string') return reject(layers);
  const message = decodeMessage(frame, layers);
  if (typeof message === 'string') return reject(message);
  const { ethernet, ipv6 } = layers;
  if (ownMac !== undefined && equalBytes(ethernet.source, 0, ownMac, 0, 6)) return reject('own-frame');
  if (ipv6.hopLimit !== 255) return reject('bad-hop-limit');
  if (frame[layers.icmpOffset + 1] !== 0) return reject('bad-code');
  if (!verifyIcmpv6Checksum(ipv6.source, ipv6.destination, frame, layers.icmpOffset, layers.icmpLength)) return reject('bad-checksum');
  if (isMulticast(message.target)) return reject('multicast-target');
  if (isMulticast(ipv6.source)) return reject('multicast-source');
  const dad = isUnspecified(ipv6.source);
  const solicitedNode = equalBytes(ipv6.destination, 0, SOLICITED_NODE_PREFIX, 0, SOLICITED_NODE_PREFIX.length);
  if (dad && !solicitedNode) return reject('dad-bad-destination');
  if (dad && message.options.some((o) => o.type === NdOptionType.SourceLinkLayerAddress)) return reject('dad-with-slla');
  const sourceLinkLayerAddress = findLinkLayerAddress(message.options, NdOptionType.SourceLinkLayerAddress);
  return {
    ok: true,
    solicitation: { ethernetSource: ethernet.source, source: ipv6.source, destination: ipv6.destination, target: message.target, sourceLinkLayerAddress, duplicateAddressDetection: dad },
  };
}

/** The answer to `ns` (RFC 4861 §7.2.4) as frame fields. */
export function buildAdvertisement(ns: Solicitation, context: DecisionContext): AdvertisementFrameFields {
  const dad = ns.duplicateAddressDetection;
  const destination = dad ? ALL_NODES : ns.source;
  return {
    ethernetDestination: dad ? multicastMac(ALL_NODES) : (ns.sourceLinkLayerAddress ?? ns.ethernetSource),
    ethernetSource: context.uplinkMac,
    ipv6Source: context.source === 'link-local' && context.uplinkLinkLocal !== undefined ? context.uplinkLinkLocal : ns.target,
    ipv6Destination: destination,
    hopLimit: 255,
    advertisement: {
      router: context.router,
      // Never S=1 to a multicast destination: all-nodes for DAD, or a (bogus) multicast source.
      solicited: !isMulticast(destination),
      override: context.override,
      target: ns.target,
      options: [{ type: NdOptionType.TargetLinkLayerAddress, linkLayerAddress: context.uplinkMac }],
    },
  };
}

/** Decides on a valid solicitation: link down, link-local target, not a target, own address, route. */
export function decideAdvertisement(ns: Solicitation, context: DecisionContext): Decision {
  const ignore = (reason: IgnoreReason): Decision => ({ action: 'ignore', reason });
  if (!context.linkUp) return ignore('link-down');
  if (isLinkLocal(ns.target)) return ignore('link-local-target');
  const target = context.targets.match(ns.target);
  if (target === undefined) return ignore('not-a-target');
  if (context.isOwnAddress(ns.target)) return ignore('own-address');
  const route = context.routeOf(target);
  const via = target.via ?? context.via;
  if (route.kind === 'local') return ignore('own-address');
  if (route.kind === 'none') return ignore('no-route');
  if (route.ifname === context.uplink) return ignore('route-via-uplink');
  if (via !== undefined && route.ifname !== via) return ignore('route-not-via');
  return { action: 'advertise', target, frame: buildAdvertisement(ns, context) };
}

/** One frame through the reference: its outcome, the answer encoded into `out`. */
function processOne(data: Uint8Array, offset: number, length: number, context: ReferenceContext, out: OutputBatch): IgnoreReason | Advertise {
  const validation = validateSolicitationFrame(data, offset, length, context.uplinkMac);
  if (!validation.ok) return validation.reason;
  const decision = decideAdvertisement(validation.solicitation, context);
  if (decision.action === 'ignore') return decision.reason;
  if (out.full || (context.referenceGate !== undefined && !context.referenceGate.admit(validation.solicitation))) return 'rate-limited';
  const frame = encodeAdvertisementFrame(decision.frame, out.bytes, out.used);
  out.lengths[out.count++] = frame.length;
  out.used += frame.length;
  return decision;
}

/** The batch contract of AnswerPipeline.process, the reference way. Returns the answers queued. */
export function processBatch(
  data: Uint8Array,
  count: number,
  meta: Uint32Array,
  context: ReferenceContext,
  out: OutputBatch,
  counters: ResponderCounters,
  observe?: ReferenceObserver,
): number {
  let offset = 0;
  let queued = 0;
  for (let i = 0; i < count; i++) {
    const length = meta[i * 4]!;
    const outcome = processOne(data, offset, length, context, out);
    offset += length;
    counters.received++;
    if (typeof outcome === 'string') {
      counters.ignored[outcome]++;
      observe?.(i, outcome);
      continue;
    }
    queued++;
    const { target, frame } = outcome;
    observe?.(i, `answer ${target.text} to ${formatIpv6(frame.ipv6Destination)} S=${frame.advertisement.solicited ? 1 : 0}`);
  }
  return queued;
}
