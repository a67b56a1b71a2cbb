import type { Target } from '../model/target';
import { AddressTable, addressWord, prefixWordMask } from '../wire/address-table';

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

/** The targets of one prefix length: the per-word masks and a table of masked addresses. */
interface PrefixGroup {
  readonly m0: number;
  readonly m1: number;
  readonly m2: number;
  readonly m3: number;
  readonly table: AddressTable;
}

/**
 * An immutable set of targets with longest-prefix lookup.
 * Single addresses are one hash probe; prefixes add one probe per distinct prefix length.
 * Lookups hash four 32-bit words read in place: no string is built, nothing is allocated.
 */
export class TargetSet {
  private readonly all: Target[];
  private readonly exact: AddressTable;
  /** Longest prefix first, so the first hit is the most specific. */
  private readonly groups: PrefixGroup[];
  /** Every target, in the order given (duplicates removed). */
  readonly targets: readonly Target[];

  constructor(targets: Iterable<Target>) {
    const list = [...targets];
    const kept: Target[] = [];
    this.exact = new AddressTable(list.length);
    const byLength = new Map<number, AddressTable>();
    for (const target of list) {
      if (target.prefixLength === 128) {
        if (this.exact.getAt(target.address, 0) >= 0) continue;
        this.exact.set(target.address, 0, kept.length);
      } else {
        let table = byLength.get(target.prefixLength);
        if (table === undefined) byLength.set(target.prefixLength, (table = new AddressTable()));
        const network = networkAddress(target.address, target.prefixLength);
        if (table.getAt(network, 0) >= 0) continue;
        table.set(network, 0, kept.length);
      }
      kept.push(target);
    }
    this.all = kept;
    this.targets = kept;
    this.groups = [...byLength.keys()]
      .sort((a, b) => b - a)
      .map((length) => ({
        m0: prefixWordMask(length, 0),
        m1: prefixWordMask(length, 1),
        m2: prefixWordMask(length, 2),
        m3: prefixWordMask(length, 3),
        table: byLength.get(length)!,
      }));
  }

  /** Number of distinct targets. */
  get size(): number {
    return this.targets.length;
  }

  /** True when some target is a prefix (needs ALLMULTI rather than per-group joins). */
  get hasPrefixes(): boolean {
    return this.groups.length > 0;
  }

  /** The most specific target covering `address`, or undefined. */
  match(address: Uint8Array): Target | undefined {
    return this.matchAt(address, 0);
  }

  /** The most specific target covering the 16 address bytes at `offset` of `bytes` (e.g. a frame). */
  matchAt(bytes: Uint8Array, offset: number): Target | undefined {
    const w0 = addressWord(bytes, offset);
    const w1 = addressWord(bytes, offset + 4);
    const w2 = addressWord(bytes, offset + 8);
    const w3 = addressWord(bytes, offset + 12);
    const hit = this.exact.get(w0, w1, w2, w3);
    if (hit >= 0) return this.all[hit];
    for (const g of this.groups) {
      const found = g.table.get(w0 & g.m0, w1 & g.m1, w2 & g.m2, w3 & g.m3);
      if (found >= 0) return this.all[found];
    }
    return undefined;
  }
}
