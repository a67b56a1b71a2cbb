/**
 * The one token-bucket rule (docs/design.md "Floods"), on typed-array slots: a bucket is two
 * numbers in a Float64Array, its tokens and the time of its last refill, and the time is read
 * from a Float64Array clock. V8 boxes a fractional number written to an object field or passed
 * to a call it did not inline (an allocation); in a Float64Array it stays raw, so taking a
 * token allocates nothing. Used by the global bucket and by every per-source bucket.
 */

/** A rate in tokens per second with a burst size; `perSecond` 0 disables the limit. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

/** Float64Array slots per bucket: tokens, then the time (ms) of the last refill. */
export const BUCKET_SLOTS = 2;

/** Makes bucket `index` of `buckets` full as of the time in `clock[0]`. */
export function fillBucket(buckets: Float64Array, index: number, rate: Rate, clock: Float64Array): void {
  buckets[index * BUCKET_SLOTS] = rate.burst;
  buckets[index * BUCKET_SLOTS + 1] = clock[0]!;
}

/**
 * Refills bucket `index` for the time since its last refill, up to the burst (a clock going
 * backwards adds nothing), then takes one token at the time in `clock[0]` if there is one.
 */
export function takeToken(buckets: Float64Array, index: number, rate: Rate, clock: Float64Array): boolean {
  if (rate.perSecond <= 0) return true;
  const at = index * BUCKET_SLOTS;
  const nowMs = clock[0]!;
  let tokens = buckets[at]!;
  const elapsed = nowMs - buckets[at + 1]!;
  if (elapsed > 0) {
    tokens = Math.min(rate.burst, tokens + (elapsed * rate.perSecond) / 1000);
    buckets[at + 1] = nowMs;
  }
  const taken = tokens >= 1;
  buckets[at] = taken ? tokens - 1 : tokens;
  return taken;
}
