/**
 * The allocation-free hot path: the same decisions as {@link processBatch} (its reference),
 * made on offsets into the receive buffer, with answers written from a preallocated NA
 * template. Frames of any unusual shape, DAD probes included, go through the reference
 * path one by one, so both paths always agree (test/unit/core-fast-responder.test.ts).
 * Pure: no sockets, no clock.
 */
import { AdvertisementTemplate } from '../wire/advertisement-template';
import type { AnswerGate } from './answer-gate';
import { routeReason, type DecisionContext } from './decide';
import { type RouteInfo } from '../model/target';
import type { IgnoreReason } from '../model/reasons';
import { OutputBatch, processBatch, syntheticSolicitations } from './responder';
import { ResponderCounters } from '../model/counters';
import type { Target } from '../model/target';
import type { Solicitation } from './validate';
import { SolicitationView, validateInPlace } from './validate-in-place';

/** A Solicitation whose fields are reused copies; handed to the answer gate only for the call. */
class ScratchSolicitation implements Solicitation {
  readonly ethernetSource = new Uint8Array(6);
  readonly source = new Uint8Array(16);
  readonly destination = new Uint8Array(16);
  readonly target = new Uint8Array(16);
  readonly slla = new Uint8Array(6);
  sourceLinkLayerAddress: Uint8Array | undefined = undefined;
  readonly duplicateAddressDetection = false;

  fill(bytes: Uint8Array, view: SolicitationView): this {
    copy(bytes, view.ethernetSource, this.ethernetSource, 6);
    copy(bytes, view.source, this.source, 16);
    copy(bytes, view.source + 16, this.destination, 16);
    copy(bytes, view.target, this.target, 16);
    const slla = view.sourceLinkLayerAddress;
    if (slla >= 0) copy(bytes, slla, this.slla, 6);
    this.sourceLinkLayerAddress = slla >= 0 ? this.slla : undefined;
    return this;
  }
}

/** Copies `length` bytes from `from[offset]` into `to` with plain loads: no view is allocated. */
function copy(from: Uint8Array, offset: number, to: Uint8Array, length: number): void {
  for (let i = 0; i < length; i++) to[i] = from[offset + i]!;
}

/** Processes received batches; keep one per daemon (it holds the preallocated state). */
export class FastResponder {
  private readonly view = new SolicitationView();
  private readonly target = new Uint8Array(16);
  private readonly scratch = new ScratchSolicitation();
  private readonly oneMeta = new Uint32Array(4);
  private template: AdvertisementTemplate | undefined;

  /** Same contract and results as {@link processBatch} without an observer. Returns answers queued. */
  process(
    data: Uint8Array,
    count: number,
    meta: Uint32Array,
    context: DecisionContext,
    out: OutputBatch,
    counters: ResponderCounters,
  ): number {
    const mac = context.uplinkMac;
    const template = this.templateFor(mac, context.router, context.override);
    // Read once per batch: the daemon's context properties are getters.
    const linkUp = context.linkUp;
    const linkLocal = context.source === 'link-local' ? context.uplinkLinkLocal : undefined;
    let offset = 0;
    let queued = 0;
    for (let i = 0; i < count; i++) {
      const length = meta[i * 4]!;
      const at = offset;
      offset += length;
      const result = validateInPlace(data, at, length, mac, this.view);
      if (result === 'slow') {
        queued += this.processOne(data, at, length, context, out, counters);
        continue;
      }
      counters.received++;
      if (result !== 'ok') {
        counters.ignored[result]++;
        continue;
      }
      const reason = linkUp ? this.decide(data, context) : 'link-down';
      if (reason !== undefined) {
        counters.ignored[reason]++;
        continue;
      }
      const gate = context.answerGate;
      if (out.full || (gate !== undefined && !gate.admit(this.scratch.fill(data, this.view)))) {
        counters.ignored['rate-limited']++;
        continue;
      }
      this.queueAnswer(data, template, linkLocal, out);
      queued++;
    }
    return queued;
  }

  /**
   * The NA for the validated frame (RFC 4861 §7.2.4): to the SLLA, else the frame's source MAC;
   * from the target (or `linkLocal`) to the solicitation's source; S=1, since DAD probes never
   * reach this path.
   */
  private queueAnswer(data: Uint8Array, template: AdvertisementTemplate, linkLocal: Uint8Array | undefined, out: OutputBatch): void {
    const view = this.view;
    const ethernetDestination = view.sourceLinkLayerAddress >= 0 ? view.sourceLinkLayerAddress : view.ethernetSource;
    const source = linkLocal ?? data;
    const sourceOffset = linkLocal === undefined ? view.target : 0;
    const written = template.write(out.bytes, out.used, data, ethernetDestination, source, sourceOffset, data, view.source, data, view.target, true);
    out.lengths[out.count++] = written;
    out.used += written;
  }

  /** The decision for a validated frame (RFC 4861 §7.2.3 plus our routing rules); undefined answers. */
  private decide(data: Uint8Array, context: DecisionContext): IgnoreReason | undefined {
    const t = this.view.target;
    // Link-local addresses are never proxied: they are only meaningful on their own link.
    if (data[t] === 0xfe && (data[t + 1]! & 0xc0) === 0x80) return 'link-local-target';
    const target: Target | undefined = context.targets.matchAt(data, t);
    if (target === undefined) return 'not-a-target';
    copy(data, t, this.target, 16);
    // The kernel answers for the host's own addresses; a second answer would only confuse.
    if (context.isOwnAddress(this.target)) return 'own-address';
    return routeReason(target, context);
  }

  /** One frame through the reference path (rare shapes, DAD probes). */
  private processOne(data: Uint8Array, at: number, length: number, context: DecisionContext, out: OutputBatch, counters: ResponderCounters): number {
    this.oneMeta[0] = length;
    return processBatch(data.subarray(at, at + length), 1, this.oneMeta, context, out, counters);
  }

  private templateFor(mac: Uint8Array, router: boolean, override: boolean): AdvertisementTemplate {
    const current = this.template;
    if (current !== undefined && current.fits(mac, router, override)) return current;
    this.template = new AdvertisementTemplate(Uint8Array.from(mac.subarray(0, 6)), router, override);
    return this.template;
  }
}

/**
 * A view of `context` in which the warm-up target is answered (link up, routed out of the
 * right interface, not our own), so the warm-up also reaches the NA writer.
 */
function answeringContext(context: DecisionContext, gate: AnswerGate | undefined): DecisionContext {
  const routes = new Map<string | undefined, RouteInfo>();
  const routeOf = (t: Target): RouteInfo => {
    let route = routes.get(t.via);
    if (route === undefined) routes.set(t.via, (route = { kind: 'interface', ifname: t.via ?? context.via ?? `${context.uplink}-warm-up` }));
    return route;
  };
  return {
    targets: context.targets,
    uplink: context.uplink,
    uplinkMac: context.uplinkMac,
    uplinkLinkLocal: context.uplinkLinkLocal,
    linkUp: true,
    via: context.via,
    source: context.source,
    router: context.router,
    override: context.override,
    answerGate: gate ?? context.answerGate,
    isOwnAddress: () => false,
    routeOf,
  };
}

/**
 * Run synthetic solicitations for `target` through the fast path so V8 has optimised it
 * before the first real frame; answers go to a throwaway batch and are never sent. Both
 * the real context and an answering view of it are used, so every branch is warm. `gate`
 * replaces the context's answer gate in the answering view: pass a throwaway instance of the
 * real gate's class, so its admit code is warmed without spending the real gate's tokens (a
 * gate bypassed during warm-up would leave that code cold, and the first real answer would
 * deoptimise the whole hot path).
 */
export function warmUpFastResponder(
  responder: FastResponder,
  context: DecisionContext,
  target: Uint8Array,
  iterations = 20_000,
  gate?: AnswerGate,
): void {
  const { data, meta, count: batch } = syntheticSolicitations(target);
  const out = new OutputBatch(batch);
  const counters = new ResponderCounters();
  const answering = answeringContext(context, gate);
  for (let i = 0; i < iterations; i += batch) {
    responder.process(data, batch, meta, (i / batch) % 2 === 0 ? answering : context, out, counters);
    out.reset();
  }
}
