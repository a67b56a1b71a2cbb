/**
 * The key of a flow, one (solicitation source, target) pair, folded into 16 bytes so the
 * per-flow limit can use the same bounded table as the per-source one. The fold is keyed by a
 * per-process random seed: without it, a sender could pick pairs that share a bucket with a
 * neighbour's flow and spend its tokens. A collision without the seed is a 2^-128 event.
 */

/** Words of seed {@link flowKey} takes. */
export const FLOW_KEY_SEED_WORDS = 4;

/** Big-endian 32-bit word at `offset`. */
function word(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}

/** One 32-bit lane: the eight words of source and target mixed from `seed` (multiply-xorshift). */
function lane(seed: number, bytes: Uint8Array, source: number, target: number): number {
  let h = seed | 0;
  for (let i = 0; i < 16; i += 4) {
    h = Math.imul(h ^ word(bytes, source + i), 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ word(bytes, target + i), 0x85ebca77);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 0xc2b2ae3d);
  return h ^ (h >>> 16);
}

/**
 * Writes the 16-byte key of the flow whose source and target addresses lie at
 * `bytes[source]` and `bytes[target]` into `out`: four independently seeded lanes.
 */
export function flowKey(seed: Uint32Array, bytes: Uint8Array, source: number, target: number, out: Uint8Array): void {
  for (let l = 0; l < FLOW_KEY_SEED_WORDS; l++) {
    const h = lane(seed[l]!, bytes, source, target);
    out[l * 4] = h >>> 24;
    out[l * 4 + 1] = (h >>> 16) & 0xff;
    out[l * 4 + 2] = (h >>> 8) & 0xff;
    out[l * 4 + 3] = h & 0xff;
  }
}
