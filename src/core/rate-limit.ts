/**
 * Answer rate limits (NDP-NOTES "Floods"): token buckets per NS source and one global,
 * with a bounded per-source table. Pure: the caller passes the time in milliseconds
 * from a monotonic clock.
 */

/** A rate in tokens per second with a burst size; `perSecond` 0 disables the limit. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

/** Settings of {@link AnswerRateLimiter}. */
export interface RateLimitSettings {
  readonly perSource: Rate;
  readonly global: Rate;
  /** Most sources tracked at once; the least recently seen is forgotten first. */
  readonly maxSources: number;
}

/** Defaults: far above what a LAN needs (a host resolves a neighbour a few times a minute). */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  perSource: { perSecond: 100, burst: 200 },
  global: { perSecond: 10_000, burst: 20_000 },
  maxSources: 4096,
};

/** Burst allowed for a rate given as N/s: two seconds' worth, so a short spike is never cut. */
export function burstFor(perSecond: number): number {
  return Math.max(1, Math.ceil(perSecond * 2));
}

/** One token bucket; starts full. Time going backwards (a reset clock) adds nothing. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: Rate,
    nowMs: number,
  ) {
    this.tokens = rate.burst;
    this.last = nowMs;
  }

  /** Take one token if there is one. */
  take(nowMs: number): boolean {
    if (this.rate.perSecond <= 0) return true;
    const elapsed = nowMs - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.rate.burst, this.tokens + (elapsed * this.rate.perSecond) / 1000);
      this.last = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Decides whether one more answer may go out now. A source over its own rate is refused
 * without spending global tokens, so one noisy host cannot starve the others.
 */
export class AnswerRateLimiter {
  /** Map iteration order is insertion order: re-inserting on use makes the first key the least recent. */
  private readonly sources = new Map<string, TokenBucket>();
  private global: TokenBucket;

  constructor(
    private settings: RateLimitSettings,
    nowMs: number,
  ) {
    this.global = new TokenBucket(settings.global, nowMs);
  }

  /** Sources currently tracked (bounded by `maxSources`). */
  get trackedSources(): number {
    return this.sources.size;
  }

  /** Swap in new settings (SIGHUP): buckets restart full, the table is cleared. */
  configure(settings: RateLimitSettings, nowMs: number): void {
    this.settings = settings;
    this.global = new TokenBucket(settings.global, nowMs);
    this.sources.clear();
  }

  /** True when an answer to `sourceKey` may be sent at `nowMs`. */
  admit(sourceKey: string, nowMs: number): boolean {
    if (this.settings.perSource.perSecond > 0 && !this.sourceBucket(sourceKey, nowMs).take(nowMs)) return false;
    return this.global.take(nowMs);
  }

  private sourceBucket(key: string, nowMs: number): TokenBucket {
    let bucket = this.sources.get(key);
    if (bucket !== undefined) {
      this.sources.delete(key);
    } else {
      bucket = new TokenBucket(this.settings.perSource, nowMs);
      if (this.sources.size >= this.settings.maxSources) {
        const oldest = this.sources.keys().next();
        if (oldest.done !== true) this.sources.delete(oldest.value);
      }
    }
    this.sources.set(key, bucket);
    return bucket;
  }
}
