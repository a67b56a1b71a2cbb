/**
 * The one answer pipeline (docs/design.md "Answering"): every received frame, whatever its
 * shape (hop-by-hop header, DAD probe, garbage), is validated in place (validate.ts), decided
 * on (decide.ts), passed through the answer gate and answered by the preallocated NA writer,
 * without allocating. Pure: no sockets, no clock.
 */
import { ALL_NODES } from '../wire/address';
import { AdvertisementTemplate, solicitedFlag } from '../wire/advertisement-template';
import { decide, type DecisionContext } from './decide';
import type { OutputBatch } from './output-batch';
import { SolicitationView } from './solicitation-view';
import { validateSolicitation } from './validate';
import type { ResponderCounters } from '../model/counters';
import type { IgnoreReason } from '../model/reasons';
import type { Target } from '../model/target';

/** Words of `meta` per received frame (captured length, flags, seconds, nanoseconds), as the packet link delivers them. */
const META_WORDS = 4;

/**
 * Told of each decision when given to {@link AnswerPipeline.process} (debug logs). It only
 * observes: whether it is there changes nothing the pipeline decides or sends.
 */
export interface DecisionObserver {
  /** A frame not answered; `view` holds the offsets found before the failing rule (`target` -1 when unknown). */
  ignored(bytes: Uint8Array, view: SolicitationView, reason: IgnoreReason): void;
  /** An answer queued for `target`: the NA goes to the 16 bytes at `to[toOffset]`, with the Solicited flag `solicited`. */
  answered(bytes: Uint8Array, view: SolicitationView, target: Target, to: Uint8Array, toOffset: number, solicited: boolean): void;
}

/** Processes received batches; keep one per daemon (it holds the preallocated state). */
export class AnswerPipeline {
  private readonly view = new SolicitationView();
  private template: AdvertisementTemplate | undefined;
  /** The answers' IPv6 source when it is not the target (`--source link-local`); read once per batch. */
  private linkLocal: Uint8Array | undefined;

  /**
   * Runs `count` frames, packed back to back in `data` with their lengths in `meta`, through
   * the pipeline: answers are written into `out`, every frame is counted in `counters`.
   * Returns the number of answers queued.
   */
  process(
    data: Uint8Array,
    count: number,
    meta: Uint32Array,
    context: DecisionContext,
    out: OutputBatch,
    counters: ResponderCounters,
    observer?: DecisionObserver,
  ): number {
    // Read once per batch: the daemon's context properties are getters.
    const mac = context.uplinkMac;
    const template = this.templateFor(mac, context.router, context.override);
    // docs/design.md "Answering": from the target, or the uplink's link-local address when known.
    this.linkLocal = context.source === 'link-local' ? context.uplinkLinkLocal : undefined;
    let offset = 0;
    let queued = 0;
    for (let i = 0; i < count; i++) {
      const length = meta[i * META_WORDS]!;
      const outcome = this.answer(data, offset, length, mac, context, template, out);
      offset += length;
      counters.received++;
      if (typeof outcome === 'string') {
        counters.ignored[outcome]++;
        if (observer !== undefined) observer.ignored(data, this.view, outcome);
      } else {
        queued++;
        if (observer !== undefined) this.observeAnswer(observer, data, outcome);
      }
    }
    return queued;
  }

  /** One frame: validate, decide, gate, write. The Target answered for, or the reason not to. */
  private answer(
    data: Uint8Array,
    at: number,
    length: number,
    mac: Uint8Array,
    context: DecisionContext,
    template: AdvertisementTemplate,
    out: OutputBatch,
  ): Target | IgnoreReason {
    const view = this.view;
    const invalid = validateSolicitation(data, at, length, mac, view);
    if (invalid !== undefined) return invalid;
    const outcome = decide(data, view, context);
    if (typeof outcome === 'string') return outcome;
    const gate = context.answerGate;
    if (out.full || (gate !== undefined && !gate.admit(data, view))) return 'rate-limited';
    this.write(data, template, out);
    return outcome;
  }

  /**
   * Queues the NA for the validated frame (RFC 4861 §7.2.4): a DAD probe is answered to
   * all-nodes with S=0; any other solicitation to its source with S=1, at its SLLA, else at
   * the frame's source MAC.
   */
  private write(data: Uint8Array, template: AdvertisementTemplate, out: OutputBatch): void {
    const view = this.view;
    const linkLocal = this.linkLocal;
    const source = linkLocal ?? data;
    const sourceOffset = linkLocal === undefined ? view.target : 0;
    const ethernetDestination = view.sourceLinkLayerAddress >= 0 ? view.sourceLinkLayerAddress : view.ethernetSource;
    const written = view.duplicateAddressDetection
      ? template.writeToAllNodes(out.bytes, out.used, source, sourceOffset, data, view.target)
      : template.write(out.bytes, out.used, data, ethernetDestination, source, sourceOffset, data, view.source, data, view.target);
    out.lengths[out.count++] = written;
    out.used += written;
  }

  private observeAnswer(observer: DecisionObserver, data: Uint8Array, target: Target): void {
    const view = this.view;
    if (view.duplicateAddressDetection) observer.answered(data, view, target, ALL_NODES, 0, false);
    else observer.answered(data, view, target, data, view.source, solicitedFlag(data, view.source));
  }

  private templateFor(mac: Uint8Array, router: boolean, override: boolean): AdvertisementTemplate {
    const current = this.template;
    if (current !== undefined && current.fits(mac, router, override)) return current;
    this.template = new AdvertisementTemplate(Uint8Array.from(mac.subarray(0, 6)), router, override);
    return this.template;
  }
}
