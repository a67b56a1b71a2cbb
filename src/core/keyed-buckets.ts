/**
 * Token buckets in preallocated typed arrays, keyed by 16 bytes: a source address (per-source
 * limit) or a flow key (per-flow limit, see flow-key.ts). The answer path looks a key up,
 * refills and spends its bucket without building a string or allocating. A fixed number of
 * entries; when full, the least recently seen key is forgotten (exact LRU, a doubly linked
 * list threaded through Int32Arrays), and a forgotten key comes back with a full bucket.
 */
import { AddressTable } from '../wire/address-table';
import { BUCKET_SLOTS, fillBucket, takeToken, type Rate } from './token-bucket';

const NONE = -1;

/** Bounded table of token buckets, one per 16-byte key; all buckets share one {@link Rate}. */
export class KeyedBuckets {
  /** Address → entry index; sized for `capacity` so it never grows (and never allocates). */
  private readonly index: AddressTable;
  /** Entry i's address at bytes [16i, 16i+16): what eviction removes from the index. */
  private readonly addresses: Uint8Array;
  /** Entry i's bucket (see token-bucket.ts). */
  private readonly buckets: Float64Array;
  /** LRU order: `head` is the most recently seen entry, `tail` the next one to evict. */
  private readonly newer: Int32Array;
  private readonly older: Int32Array;
  private head = NONE;
  private tail = NONE;
  private used = 0;

  constructor(
    private readonly rate: Rate,
    readonly capacity: number,
  ) {
    this.index = new AddressTable(capacity);
    this.addresses = new Uint8Array(capacity * 16);
    this.buckets = new Float64Array(capacity * BUCKET_SLOTS);
    this.newer = new Int32Array(capacity);
    this.older = new Int32Array(capacity);
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.used;
  }

  /**
   * Take one token from the bucket of the address at `bytes[offset..offset+16)` at time
   * `clock[0]` (a new key starts with a full bucket); marks the key most recently seen
   * either way. The time comes in a Float64Array because a fractional number passed to a
   * function V8 did not inline is boxed: an allocation per call.
   */
  take(bytes: Uint8Array, offset: number, clock: Float64Array): boolean {
    let entry = this.index.getAt(bytes, offset);
    if (entry >= 0) {
      this.unlink(entry);
    } else {
      entry = this.used < this.capacity ? this.used++ : this.evictOldest();
      // A byte loop, not set(subarray()): a subarray is an allocation.
      for (let i = 0; i < 16; i++) this.addresses[entry * 16 + i] = bytes[offset + i]!;
      this.index.set(bytes, offset, entry);
      fillBucket(this.buckets, entry, this.rate, clock);
    }
    this.pushNewest(entry);
    return takeToken(this.buckets, entry, this.rate, clock);
  }

  /** Drop the least recently seen entry from the index and the list; returns its index for reuse. */
  private evictOldest(): number {
    const entry = this.tail;
    this.index.delete(this.addresses, entry * 16);
    this.unlink(entry);
    return entry;
  }

  private unlink(entry: number): void {
    const newer = this.newer[entry]!;
    const older = this.older[entry]!;
    if (newer === NONE) this.head = older;
    else this.older[newer] = older;
    if (older === NONE) this.tail = newer;
    else this.newer[older] = newer;
  }

  private pushNewest(entry: number): void {
    this.newer[entry] = NONE;
    this.older[entry] = this.head;
    if (this.head === NONE) this.tail = entry;
    else this.newer[this.head] = entry;
    this.head = entry;
  }
}
