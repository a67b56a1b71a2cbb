import { AnswerRateLimiter, type RateLimitSettings } from './rate-limit';
import type { Solicitation } from './validate';

/** Last check before an answer is queued: sees every solicitation we decided to answer. */
export interface AnswerGate {
  /** False refuses the answer; it is counted as `rate-limited`. */
  admit(ns: Solicitation): boolean;
}

/** Called for a DAD probe (source ::) for an address we serve: someone else wants it. */
export type DadConflictHandler = (target: Uint8Array, ethernetSource: Uint8Array) => void;

/**
 * The daemon's gate: rate limits answers per source and globally, and reports DAD probes
 * for our targets as conflicts. Pure: the caller sets `nowMs` once per received batch.
 */
export class RateLimitGate implements AnswerGate {
  /** While true every answer passes (the start-up warm-up must not spend tokens). */
  bypass = false;
  readonly limiter: AnswerRateLimiter;

  constructor(
    settings: RateLimitSettings,
    nowMs: number,
    private readonly onDadConflict?: DadConflictHandler,
  ) {
    this.limiter = new AnswerRateLimiter(settings, nowMs);
    this.nowMs = nowMs;
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
  admit(ns: Solicitation): boolean {
    if (this.bypass) return true;
    if (ns.duplicateAddressDetection) this.onDadConflict?.(ns.target, ns.ethernetSource);
    // Straight from the address bytes: no key string, no allocation per answer.
    return this.limiter.admitAtClock(ns.source, 0);
  }
}
