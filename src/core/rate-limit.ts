/**
 * Answer rate limits (docs/design.md "Floods"): token buckets per NS source and one global,
 * with a bounded per-source table. Pure: the caller passes the time in milliseconds from a
 * monotonic clock.
 */
import { SourceBuckets } from './source-buckets';
import { BUCKET_SLOTS, fillBucket, takeToken, type Rate } from './token-bucket';

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

/**
 * Decides whether one more answer may go out now. A source over its own rate is refused
 * without spending global tokens, so one noisy host cannot starve the others. Sources are
 * kept in a fixed-size {@link SourceBuckets} table: admitting by address allocates nothing.
 */
export class AnswerRateLimiter {
  private sources: SourceBuckets;
  /** The global bucket, in the same slots as every per-source one. */
  private readonly global = new Float64Array(BUCKET_SLOTS);
  /** Where a string key's 128-bit hash is written (string keys are for logs, not the answer path). */
  private readonly keyBytes = new Uint8Array(16);
  /** The current time for {@link admitAtClock}; the gate writes it once per batch. */
  readonly clock = new Float64Array(1);

  constructor(
    private settings: RateLimitSettings,
    nowMs: number,
  ) {
    this.sources = this.reset(settings, nowMs);
  }

  /** Sources currently tracked (bounded by `maxSources`). */
  get trackedSources(): number {
    return this.sources.size;
  }

  /** Swap in new settings (SIGHUP): buckets restart full, the table is cleared. */
  configure(settings: RateLimitSettings, nowMs: number): void {
    this.settings = settings;
    this.sources = this.reset(settings, nowMs);
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
  private reset(settings: RateLimitSettings, nowMs: number): SourceBuckets {
    this.clock[0] = nowMs;
    fillBucket(this.global, 0, settings.global, this.clock);
    return new SourceBuckets(settings.perSource, Math.max(1, settings.maxSources));
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
