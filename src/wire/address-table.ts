/**
 * A hash table keyed by 128-bit IPv6 addresses held as four signed 32-bit words, with
 * integer values: lookups read the words straight out of a frame buffer, so the hot path
 * builds no string and allocates nothing. Open addressing with linear probing; deletion
 * shifts the following entries back, so no tombstones accumulate.
 */

/** Big-endian 32-bit word at `offset`, as a signed int32 (what the table stores). */
export function addressWord(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}

/** The mask keeping the first `prefixLength` bits of address word `index` (0..3), as int32. */
export function prefixWordMask(prefixLength: number, index: number): number {
  const bits = prefixLength - index * 32;
  if (bits >= 32) return -1;
  if (bits <= 0) return 0;
  return (-1 << (32 - bits)) | 0;
}

/** Mixes the four words into a slot index (multiplicative hashing; the low word varies most). */
function hashWords(w0: number, w1: number, w2: number, w3: number, mask: number): number {
  let h = Math.imul(w3 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w2 ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ w1 ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ w0 ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

const EMPTY = -1;
const MIN_CAPACITY = 16;

/** Address → non-negative integer (e.g. an index into a target array). */
export class AddressTable {
  private keys: Int32Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity < expected * 2) capacity *= 2;
    this.keys = new Int32Array(capacity * 4);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
  }

  /** Number of addresses held. */
  get size(): number {
    return this.count;
  }

  /** The value for the address whose words are given, or -1. */
  get(w0: number, w1: number, w2: number, w3: number): number {
    const keys = this.keys;
    const values = this.values;
    for (let slot = hashWords(w0, w1, w2, w3, this.mask); ; slot = (slot + 1) & this.mask) {
      const value = values[slot]!;
      if (value === EMPTY) return EMPTY;
      const k = slot * 4;
      if (keys[k + 3] === w3 && keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2) return value;
    }
  }

  /** The value for the 16 address bytes at `offset` in `bytes`, or -1. */
  getAt(bytes: Uint8Array, offset: number): number {
    return this.get(addressWord(bytes, offset), addressWord(bytes, offset + 4), addressWord(bytes, offset + 8), addressWord(bytes, offset + 12));
  }

  /** Sets the value (≥ 0) of an address; returns false when it was already present (value replaced). */
  set(bytes: Uint8Array, offset: number, value: number): boolean {
    if (value < 0) throw new RangeError('AddressTable values must be non-negative');
    if ((this.count + 1) * 2 > this.values.length) this.grow();
    const w0 = addressWord(bytes, offset);
    const w1 = addressWord(bytes, offset + 4);
    const w2 = addressWord(bytes, offset + 8);
    const w3 = addressWord(bytes, offset + 12);
    const slot = this.find(w0, w1, w2, w3);
    const fresh = this.values[slot] === EMPTY;
    const k = slot * 4;
    this.keys[k] = w0;
    this.keys[k + 1] = w1;
    this.keys[k + 2] = w2;
    this.keys[k + 3] = w3;
    this.values[slot] = value;
    if (fresh) this.count++;
    return fresh;
  }

  /** Removes an address; returns whether it was present. */
  delete(bytes: Uint8Array, offset = 0): boolean {
    const w0 = addressWord(bytes, offset);
    const slot = this.find(w0, addressWord(bytes, offset + 4), addressWord(bytes, offset + 8), addressWord(bytes, offset + 12));
    if (this.values[slot] === EMPTY) return false;
    this.values[slot] = EMPTY;
    this.count--;
    // Backward-shift deletion: re-place every entry of the run after the hole, so lookups that
    // stop at the first empty slot still find them.
    for (let next = (slot + 1) & this.mask; this.values[next] !== EMPTY; next = (next + 1) & this.mask) {
      const k = next * 4;
      const value = this.values[next]!;
      this.values[next] = EMPTY;
      const to = this.find(this.keys[k]!, this.keys[k + 1]!, this.keys[k + 2]!, this.keys[k + 3]!);
      this.keys.copyWithin(to * 4, k, k + 4);
      this.values[to] = value;
    }
    return true;
  }

  /** Every address held, as 16 bytes each (for occasional listing, never the hot path). */
  addresses(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let slot = 0; slot < this.values.length; slot++) {
      if (this.values[slot] === EMPTY) continue;
      const bytes = new Uint8Array(16);
      const view = new DataView(bytes.buffer);
      for (let w = 0; w < 4; w++) view.setInt32(w * 4, this.keys[slot * 4 + w]!);
      out.push(bytes);
    }
    return out;
  }

  /** Removes everything. */
  clear(): void {
    this.values.fill(EMPTY);
    this.count = 0;
  }

  /** The slot holding the address, or the empty slot where it would go. */
  private find(w0: number, w1: number, w2: number, w3: number): number {
    for (let slot = hashWords(w0, w1, w2, w3, this.mask); ; slot = (slot + 1) & this.mask) {
      if (this.values[slot] === EMPTY) return slot;
      const k = slot * 4;
      if (this.keys[k] === w0 && this.keys[k + 1] === w1 && this.keys[k + 2] === w2 && this.keys[k + 3] === w3) return slot;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = oldValues.length * 2;
    this.keys = new Int32Array(capacity * 4);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    for (let slot = 0; slot < oldValues.length; slot++) {
      const value = oldValues[slot]!;
      if (value === EMPTY) continue;
      const k = slot * 4;
      const to = this.find(oldKeys[k]!, oldKeys[k + 1]!, oldKeys[k + 2]!, oldKeys[k + 3]!);
      this.keys.set(oldKeys.subarray(k, k + 4), to * 4);
      this.values[to] = value;
    }
  }
}
