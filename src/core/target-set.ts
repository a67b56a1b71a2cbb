/** One configured target: a single address (/128) or a prefix. */
export interface Target {
  /** Network address, 16 bytes, host bits zero. */
  readonly address: Uint8Array;
  /** 0..128; 128 for a single address. */
  readonly prefixLength: number;
  /** How the user wrote it, normalised (e.g. "2001:db8::a:71a0/125"); used in logs. */
  readonly text: string;
  /** Interface the target must be routed out of, overriding the global `--via` (Docker bridges). */
  readonly via?: string | undefined;
  /** Free-form origin for logs: "static", "docker:NAME/CONTAINER". */
  readonly origin?: string | undefined;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A compact string key for 16 address bytes, used for hash lookups. */
export function addressKey(bytes: Uint8Array, offset = 0): string {
  let key = '';
  for (let i = 0; i < 16; i++) key += HEX[bytes[offset + i]!];
  return key;
}

/** Key of `bytes` with everything past `prefixLength` bits cleared. */
function maskedKey(bytes: Uint8Array, prefixLength: number): string {
  let key = '';
  for (let i = 0; i < 16; i++) {
    const bitsLeft = prefixLength - i * 8;
    const mask = bitsLeft >= 8 ? 0xff : bitsLeft <= 0 ? 0 : (0xff << (8 - bitsLeft)) & 0xff;
    key += HEX[bytes[i]! & mask];
  }
  return key;
}

/** Copy of `address` with host bits past `prefixLength` cleared. */
export function networkAddress(address: Uint8Array, prefixLength: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bitsLeft = prefixLength - i * 8;
    const mask = bitsLeft >= 8 ? 0xff : bitsLeft <= 0 ? 0 : (0xff << (8 - bitsLeft)) & 0xff;
    out[i] = address[i]! & mask;
  }
  return out;
}

/**
 * An immutable set of targets with longest-prefix lookup.
 * Single addresses are one hash probe; prefixes add one probe per distinct prefix length.
 */
export class TargetSet {
  private readonly exact = new Map<string, Target>();
  private readonly byLength = new Map<number, Map<string, Target>>();
  private readonly lengths: number[];
  /** Every target, in the order given (duplicates removed). */
  readonly targets: readonly Target[];

  constructor(targets: Iterable<Target>) {
    const kept: Target[] = [];
    for (const target of targets) {
      if (target.prefixLength === 128) {
        const key = addressKey(target.address);
        if (this.exact.has(key)) continue;
        this.exact.set(key, target);
      } else {
        let group = this.byLength.get(target.prefixLength);
        if (group === undefined) this.byLength.set(target.prefixLength, (group = new Map()));
        const key = maskedKey(target.address, target.prefixLength);
        if (group.has(key)) continue;
        group.set(key, target);
      }
      kept.push(target);
    }
    this.targets = kept;
    this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
  }

  /** Number of distinct targets. */
  get size(): number {
    return this.targets.length;
  }

  /** True when some target is a prefix (needs ALLMULTI rather than per-group joins). */
  get hasPrefixes(): boolean {
    return this.lengths.length > 0;
  }

  /** The most specific target covering `address`, or undefined. */
  match(address: Uint8Array): Target | undefined {
    const hit = this.exact.get(addressKey(address));
    if (hit !== undefined) return hit;
    for (const length of this.lengths) {
      const found = this.byLength.get(length)!.get(maskedKey(address, length));
      if (found !== undefined) return found;
    }
    return undefined;
  }
}
