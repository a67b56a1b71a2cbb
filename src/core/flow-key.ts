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

/** The eight words of the pair, read once per key: source words at even, target words at odd indexes. */
const words = new Int32Array(8);

/** One 32-bit lane: the eight words of source and target mixed from `seed` (multiply-xorshift). */
function lane(seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < 8; i += 2) {
    h = Math.imul(h ^ words[i]!, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ words[i + 1]!, 0x85ebca77);
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
  for (let i = 0; i < 4; i++) {
    words[i * 2] = word(bytes, source + i * 4);
    words[i * 2 + 1] = word(bytes, target + i * 4);
  }
  for (let l = 0; l < FLOW_KEY_SEED_WORDS; l++) {
    const h = lane(seed[l]!);
    out[l * 4] = h >>> 24;
    out[l * 4 + 1] = (h >>> 16) & 0xff;
    out[l * 4 + 2] = (h >>> 8) & 0xff;
    out[l * 4 + 3] = h & 0xff;
  }
}
