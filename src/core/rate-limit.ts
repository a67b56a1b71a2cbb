/**
 * Answer limits (docs/design.md "Answer limits"): a token bucket per flow, one (source,
 * target) pair, on by default; optional buckets per source and one global. Bounded tables.
 * Pure: the caller passes the time in milliseconds from a monotonic clock, and the seed.
 */
import { FLOW_KEY_SEED_WORDS, flowKey } from './flow-key';
import { KeyedBuckets } from './keyed-buckets';
import { BUCKET_SLOTS, fillBucket, takeToken, type Rate } from './token-bucket';

/** Settings of {@link AnswerRateLimiter}. */
export interface RateLimitSettings {
  /** Per (source, target) pair: what a conformant neighbour can never exceed (RFC 4861 §7.2.2, §7.3.3). */
  readonly perFlow: Rate;
  /** Most flows tracked at once; a forgotten flow comes back with a full bucket. */
  readonly maxFlows: number;
  readonly perSource: Rate;
  readonly global: Rate;
  /** Most sources tracked at once; the least recently seen is forgotten first. */
  readonly maxSources: number;
}

/**
 * Defaults that never refuse a conformant neighbour: it sends at most MAX_MULTICAST_SOLICIT (3)
 * NS per target per RetransTimer (1 s by default) to resolve, and MAX_UNICAST_SOLICIT (3) NUD
 * probes per RetransTimer (RFC 4861 §7.2.2, §7.3.3, §10). Per flow, a burst of 20 holds any
 * such exchange restarted a few times over, and 10/s stays above one NS per RetransTimer down
 * to 100 ms. A router resolving any number of targets at once is one flow per target, so
 * nothing per source or global is limited by default: those caps could only be spent by a
 * flood and refuse the router with it.
 */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  perFlow: { perSecond: 10, burst: 20 },
  maxFlows: 16_384,
  perSource: { perSecond: 0, burst: 0 },
  global: { perSecond: 0, burst: 0 },
  maxSources: 4096,
};

/** Settings fragment for limiters that have no flows (e.g. log lines keyed by a string). */
export const NO_FLOW_LIMIT = { perFlow: { perSecond: 0, burst: 0 }, maxFlows: 1 } as const;

/** Burst allowed for a rate given as N/s: two seconds' worth, so a short spike is never cut. */
export function burstFor(perSecond: number): number {
  return Math.max(1, Math.ceil(perSecond * 2));
}

/**
 * Decides whether one more answer may go out now. A source over its own rate is refused
 * without spending global tokens, so one noisy host cannot starve the others. Sources are
 * kept in a fixed-size {@link KeyedBuckets} table: admitting by address allocates nothing.
 */
export class AnswerRateLimiter {
  private sources: KeyedBuckets;
  private flows: KeyedBuckets;
  /** The flow key of the solicitation being admitted (reused: no allocation). */
  private readonly flowBytes = new Uint8Array(16);
  /** The global bucket, in the same slots as every per-source one. */
  private readonly global = new Float64Array(BUCKET_SLOTS);
  /** Where a string key's 128-bit hash is written (string keys are for logs, not the answer path). */
  private readonly keyBytes = new Uint8Array(16);
  /** The current time for {@link admitAtClock}; the gate writes it once per batch. */
  readonly clock = new Float64Array(1);

  constructor(
    private settings: RateLimitSettings,
    nowMs: number,
    /** Random per process in the daemon (see flow-key.ts); fixed in tests. */
    private readonly seed: Uint32Array = new Uint32Array(FLOW_KEY_SEED_WORDS),
  ) {
    this.sources = this.reset(settings, nowMs);
    this.flows = new KeyedBuckets(settings.perFlow, Math.max(1, settings.maxFlows));
  }

  /** Flows currently tracked (bounded by `maxFlows`). */
  get trackedFlows(): number {
    return this.flows.size;
  }

  /** Sources currently tracked (bounded by `maxSources`). */
  get trackedSources(): number {
    return this.sources.size;
  }

  /** Swap in new settings (SIGHUP): buckets restart full, the table is cleared. */
  configure(settings: RateLimitSettings, nowMs: number): void {
    this.settings = settings;
    this.sources = this.reset(settings, nowMs);
    this.flows = new KeyedBuckets(settings.perFlow, Math.max(1, settings.maxFlows));
  }

  /**
   * True when an answer to the NS whose source and target lie at `bytes[source]` and
   * `bytes[target]` may be sent at the time in `clock[0]`: its flow, then its source (when
   * limited), then the global bucket (when limited) each give a token. A refusal spends no
   * token further down, so a flooded flow cannot drain its source's or the global budget.
   */
  admitFlowAtClock(bytes: Uint8Array, source: number, target: number): boolean {
    if (this.settings.perFlow.perSecond > 0) {
      flowKey(this.seed, bytes, source, target, this.flowBytes);
      if (!this.flows.take(this.flowBytes, 0, this.clock)) return false;
    }
    return this.admitAtClock(bytes, source);
  }

  /** True when an answer to the IPv6 source at `bytes[offset..offset+16)` may be sent at the time in `clock[0]`. */
  admitAtClock(bytes: Uint8Array, offset: number): boolean {
    if (this.settings.perSource.perSecond > 0 && !this.sources.take(bytes, offset, this.clock)) return false;
    return takeToken(this.global, 0, this.settings.global, this.clock);
  }

  /**
   * The same for a source named by a string (e.g. a log key) at `nowMs`. The key is hashed to
   * 128 bits; a collision (vanishingly unlikely) would only make two keys share one bucket.
   */
  admit(sourceKey: string, nowMs: number): boolean {
    hashKey(sourceKey, this.keyBytes);
    this.clock[0] = nowMs;
    return this.admitAtClock(this.keyBytes, 0);
  }

  /** Fills the global bucket as of `nowMs` and returns an empty source table for `settings`. */
  private reset(settings: RateLimitSettings, nowMs: number): KeyedBuckets {
    this.clock[0] = nowMs;
    fillBucket(this.global, 0, settings.global, this.clock);
    return new KeyedBuckets(settings.perSource, Math.max(1, settings.maxSources));
  }
}

/** Four independently seeded 32-bit FNV-1a style hashes of `key`, big-endian into `out`. */
function hashKey(key: string, out: Uint8Array): void {
  for (let word = 0; word < 4; word++) {
    let h = Math.imul(0x811c9dc5 ^ (word + 1), 0x9e3779b1);
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    h ^= h >>> 13;
    for (let b = 0; b < 4; b++) out[word * 4 + b] = h >>> (24 - b * 8);
  }
}
