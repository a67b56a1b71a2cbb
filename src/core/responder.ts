import { multicastMac, solicitedNodeAddress } from '../wire/address';
import { encodeAdvertisementFrame, encodeSolicitationFrame } from '../wire/frame';
import { NdOptionType } from '../wire/nd-options';
import { decideAdvertisement, type Decision, type DecisionContext } from './decide';
import { ResponderCounters } from '../model/counters';
import { validateSolicitationFrame, type Solicitation } from './validate';

/** Frames to send, packed back to back in one preallocated buffer (the shape sendmmsg wants). */
export class OutputBatch {
  readonly bytes: Uint8Array;
  readonly lengths: Uint32Array;
  count = 0;
  used = 0;

  constructor(
    readonly capacity: number,
    readonly slotSize = 128,
  ) {
    this.bytes = new Uint8Array(capacity * slotSize);
    this.lengths = new Uint32Array(capacity);
  }

  /** Forget the frames (after sending). */
  reset(): void {
    this.count = 0;
    this.used = 0;
  }

  /** True when no further frame fits. */
  get full(): boolean {
    return this.count >= this.capacity;
  }
}

/** Observer for per-frame outcomes (debug logs); only called when set. */
export type DecisionObserver = (ns: Solicitation | undefined, decision: Decision, frameIndex: number) => void;

/**
 * Run one received batch through validation (RFC 4861 §7.1.1) and the decision,
 * encoding each answer into `out`. Pure: no sockets, no clock.
 * Returns the number of answers queued.
 */
export function processBatch(
  data: Uint8Array,
  count: number,
  meta: Uint32Array,
  context: DecisionContext,
  out: OutputBatch,
  counters: ResponderCounters,
  observe?: DecisionObserver,
): number {
  let offset = 0;
  let queued = 0;
  for (let i = 0; i < count; i++) {
    const length = meta[i * 4]!;
    const frameOffset = offset;
    offset += length;
    counters.received++;
    const validation = validateSolicitationFrame(data, frameOffset, length, context.uplinkMac);
    if (!validation.ok) {
      counters.ignored[validation.reason]++;
      observe?.(undefined, { action: 'ignore', reason: validation.reason }, i);
      continue;
    }
    const decision = decideAdvertisement(validation.solicitation, context);
    observe?.(validation.solicitation, decision, i);
    if (decision.action === 'ignore') {
      counters.ignored[decision.reason]++;
      continue;
    }
    if (out.full || (context.answerGate !== undefined && !context.answerGate.admit(validation.solicitation))) {
      counters.ignored['rate-limited']++;
      continue;
    }
    const frame = encodeAdvertisementFrame(decision.frame, out.bytes, out.used);
    out.lengths[out.count++] = frame.length;
    out.used += frame.length;
    queued++;
  }
  return queued;
}

/** A batch of identical synthetic solicitations for `target`, laid out as the packet link delivers them. */
export interface SyntheticBatch {
  readonly data: Uint8Array;
  readonly meta: Uint32Array;
  readonly count: number;
}

/**
 * Build `count` copies of a multicast NS for `target` from a documentation MAC (RFC 7042),
 * packed into a plain Uint8Array like the frames the packet link delivers, so code warmed
 * with it sees the same types as real traffic.
 */
export function syntheticSolicitations(target: Uint8Array, count = 16): SyntheticBatch {
  const peer = Uint8Array.of(0x02, 0, 0x5e, 0, 0x53, 0x01);
  const group = solicitedNodeAddress(target);
  const frame = encodeSolicitationFrame({
    ethernetDestination: multicastMac(group),
    ethernetSource: peer,
    ipv6Source: Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
    ipv6Destination: group,
    hopLimit: 255,
    solicitation: { target, options: [{ type: NdOptionType.SourceLinkLayerAddress, linkLayerAddress: peer }] },
  });
  const data = new Uint8Array(frame.length * count);
  const meta = new Uint32Array(count * 4);
  for (let i = 0; i < count; i++) {
    data.set(frame, i * frame.length);
    meta[i * 4] = frame.length;
  }
  return { data, meta, count };
}

/**
 * Run synthetic solicitations for `target` through the whole hot path (validate → decide →
 * encode) so V8 has optimised it before the first real frame; answers go to a throwaway batch
 * and are never sent. Without this the first answers take milliseconds in the interpreter.
 */
export function warmUpResponder(context: DecisionContext, target: Uint8Array, iterations = 20_000): void {
  const { data, meta, count } = syntheticSolicitations(target);
  const out = new OutputBatch(count);
  const counters = new ResponderCounters();
  for (let i = 0; i < iterations; i += count) {
    processBatch(data, count, meta, context, out, counters);
    out.reset();
  }
}
