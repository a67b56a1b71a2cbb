/** The last check before an answer is queued: rate limits and DAD-conflict reports. */
import { AnswerRateLimiter, type RateLimitSettings } from './rate-limit';
import type { SolicitationView } from './solicitation-view';

/** Last check before an answer is queued: sees every solicitation we decided to answer. */
export interface AnswerGate {
  /** False refuses the answer to the solicitation `view` describes in `bytes`; it is counted as `rate-limited`. */
  admit(bytes: Uint8Array, view: SolicitationView): boolean;
}

/**
 * Called for a DAD probe (source ::) for an address we serve: someone else wants it. The
 * arrays are reused for every report: read them during the call, never keep them.
 */
export type DadConflictHandler = (target: Uint8Array, ethernetSource: Uint8Array) => void;

/**
 * The daemon's gate: limits answers per flow (and per source and globally when asked), and reports DAD probes
 * for our targets as conflicts. Pure: the caller sets `nowMs` once per received batch.
 */
export class RateLimitGate implements AnswerGate {
  /** While true every answer passes (the start-up warm-up must not spend tokens). */
  bypass = false;
  readonly limiter: AnswerRateLimiter;
  private readonly conflictTarget = new Uint8Array(16);
  private readonly conflictMac = new Uint8Array(6);

  constructor(
    settings: RateLimitSettings,
    nowMs: number,
    private readonly onDadConflict?: DadConflictHandler,
    seed?: Uint32Array,
  ) {
    this.limiter = new AnswerRateLimiter(settings, nowMs, seed);
  }

  /**
   * Monotonic milliseconds of the batch being processed, kept in the limiter's Float64Array
   * clock: a fractional number in an object field or argument is boxed (an allocation).
   */
  get nowMs(): number {
    return this.limiter.clock[0]!;
  }

  set nowMs(value: number) {
    this.limiter.clock[0] = value;
  }

  /** See {@link AnswerGate.admit}. */
  admit(bytes: Uint8Array, view: SolicitationView): boolean {
    if (this.bypass) return true;
    if (view.duplicateAddressDetection) this.reportDad(bytes, view);
    // Straight from the address bytes: no key string, no allocation per answer.
    return this.limiter.admitFlowAtClock(bytes, view.source, view.target);
  }

  /** Hands the probe's target and Ethernet source to the conflict handler, copied into reused arrays. */
  private reportDad(bytes: Uint8Array, view: SolicitationView): void {
    if (this.onDadConflict === undefined) return;
    for (let i = 0; i < 16; i++) this.conflictTarget[i] = bytes[view.target + i]!;
    for (let i = 0; i < 6; i++) this.conflictMac[i] = bytes[view.ethernetSource + i]!;
    this.onDadConflict(this.conflictTarget, this.conflictMac);
  }
}
