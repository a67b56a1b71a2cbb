/**
 * The target comparison of the generated filters: which ND targets the kernel lets through,
 * as cBPF and as the tcpdump clause documenting it. A foreign-target flood then stays in the
 * kernel (docs/design.md "Floods").
 */
import { IPV6_ADDRESS_LENGTH } from './address';
import { ACCEPT_WHOLE_FRAME, Op, type Assembler } from './bpf-assembler';
import { WireError } from './errors';

/**
 * Target entries (addresses plus prefixes) compared in the kernel at most; beyond this the
 * filter falls back to no target check. Budget: an address costs 9 instructions and a prefix
 * 2–3 per 32-bit word it covers plus 1, on each of the two paths (plain and hop-by-hop), so
 * 64 entries stay under 1 700 of BPF_MAXINSNS' 4 096 and under 14 KiB of socket option
 * memory (net.core.optmem_max is 20 KiB on old kernels).
 */
export const MAX_FILTER_TARGETS = 64;

/** A prefix for the kernel to compare targets against: the first `prefixLength` bits of `address`. */
export interface FilterPrefix {
  readonly address: Uint8Array;
  /** 0..128; 0 matches every target. */
  readonly prefixLength: number;
}

/** Options of the generated filters. */
export interface FilterOptions {
  /** Only accept ND messages for these targets (with `prefixes`, ≤ {@link MAX_FILTER_TARGETS} entries; more means no target check). */
  targets?: readonly Uint8Array[];
  /** Also accept ND messages whose target lies in one of these prefixes. */
  prefixes?: readonly FilterPrefix[];
}

/** The 32-bit words a prefix compares: value (host bits cleared) and mask, first word first. */
interface PrefixWords {
  readonly values: number[];
  readonly masks: number[];
}

/** The words a program compares for `options`; undefined when it checks no target at all. */
export interface TargetWords {
  readonly addresses: number[][];
  readonly prefixes: readonly PrefixWords[];
}

/** Splits a 16-byte address into the four big-endian words BPF `ld` loads. */
function addressWords(address: Uint8Array, index: number): number[] {
  if (address.length !== IPV6_ADDRESS_LENGTH) {
    throw new WireError('bad-address', index, `filter target #${index} is not 16 bytes`);
  }
  const view = new DataView(address.buffer, address.byteOffset, IPV6_ADDRESS_LENGTH);
  return [0, 4, 8, 12].map((at) => view.getUint32(at));
}

/** The words of `prefix` to compare: only those its length reaches, the last one masked. */
function prefixWords(prefix: FilterPrefix, index: number): PrefixWords {
  const length = prefix.prefixLength;
  if (!Number.isInteger(length) || length < 0 || length > 128) {
    throw new WireError('bad-address', index, `filter prefix #${index} has length ${length}`);
  }
  const words = addressWords(prefix.address, index);
  const values: number[] = [];
  const masks: number[] = [];
  for (let i = 0; i * 32 < length; i++) {
    const bits = Math.min(32, length - i * 32);
    const mask = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    masks.push(mask);
    values.push(((words[i] ?? 0) & mask) >>> 0);
  }
  return { values, masks };
}

/** Prefixes by length, shortest first: fewest loads first (see emitTargetCheck). */
function shortestFirst(prefixes: readonly FilterPrefix[] | undefined): FilterPrefix[] {
  return [...(prefixes ?? [])].sort((a, b) => a.prefixLength - b.prefixLength);
}

/** Whether `options` ask for a target check the program can hold. */
function checksTargets(options: FilterOptions): boolean {
  const entries = (options.targets?.length ?? 0) + (options.prefixes?.length ?? 0);
  return (options.targets !== undefined || options.prefixes !== undefined) && entries <= MAX_FILTER_TARGETS;
}

/** The words to compare for `options`, validated; undefined when the program checks no target. */
export function targetWords(options: FilterOptions): TargetWords | undefined {
  if (!checksTargets(options)) return undefined;
  return { addresses: (options.targets ?? []).map(addressWords), prefixes: shortestFirst(options.prefixes).map(prefixWords) };
}

/** One block per prefix: load, mask, compare each word; a miss skips to the next block. */
function emitPrefixChecks(asm: Assembler, prefixes: readonly PrefixWords[], load: number, at: number, path: string): void {
  prefixes.forEach(({ values, masks }, n) => {
    const next = `${path}-prefix-${n}-miss`;
    values.forEach((value, i) => {
      asm.emit(load, at + i * 4);
      if (masks[i] !== 0xffffffff) asm.emit(Op.AND_K, masks[i] ?? 0);
      asm.emit(Op.JEQ_K, value, 0, next);
    });
    asm.emit(Op.RET_K, ACCEPT_WHOLE_FRAME);
    asm.label(next);
  });
}

/**
 * Emits the accept decision for one path, the target read with `load` at `at`: without
 * words, accept; else one block per prefix, then one 9-instruction block per address (most
 * distinctive low word first, inline `ret` so every jump stays within the block), then drop.
 */
export function emitTargetCheck(asm: Assembler, words: TargetWords | undefined, load: number, at: number, path: string): void {
  if (words === undefined) {
    asm.emit(Op.RET_K, ACCEPT_WHOLE_FRAME);
    return;
  }
  // Prefixes first: they load fewer words, so a truncated frame matching one is accepted as
  // libpcap's compilation of the same expression accepts it.
  emitPrefixChecks(asm, words.prefixes, load, at, path);
  for (const [w0 = 0, w1 = 0, w2 = 0, w3 = 0] of words.addresses) {
    asm.emit(load, at + 12);
    asm.emit(Op.JEQ_K, w3, 0, 7);
    asm.emit(load, at);
    asm.emit(Op.JEQ_K, w0, 0, 5);
    asm.emit(load, at + 4);
    asm.emit(Op.JEQ_K, w1, 0, 3);
    asm.emit(load, at + 8);
    asm.emit(Op.JEQ_K, w2, 0, 1);
    asm.emit(Op.RET_K, ACCEPT_WHOLE_FRAME);
  }
  asm.emit(Op.RET_K, 0);
}

/** The tcpdump clause comparing 32-bit word `word` of the target at ip6[`base` + `offset`]. */
function wordClause(base: string, offset: number, word: number, value: number, mask: number): string {
  const load = `ip6[${base}${offset + word * 4}:4]`;
  return mask === 0xffffffff ? `${load} == 0x${value.toString(16)}` : `${load} & 0x${mask.toString(16)} == 0x${value.toString(16)}`;
}

/**
 * The tcpdump clause equivalent to {@link emitTargetCheck}: ` and (…)` with one alternative
 * per prefix and address, the target at ip6[`base` + `offset`]; empty when no target is checked.
 */
export function targetExpression(words: TargetWords | undefined, base: string, offset: number): string {
  if (words === undefined) return '';
  const clause = (value: number, i: number, mask: number): string => wordClause(base, offset, i, value, mask);
  const prefixes = words.prefixes.map(({ values, masks }) => `(${values.map((v, i) => clause(v, i, masks[i] ?? 0)).join(' and ') || '1 == 1'})`);
  const addresses = words.addresses.map((w) => `(${w.map((v, i) => clause(v, i, 0xffffffff)).join(' and ')})`);
  return ` and (${[...prefixes, ...addresses].join(' or ') || '1 == 0'})`;
}
