/**
 * Classic BPF programs for the packet socket (Linux
 * Documentation/networking/filter.rst). The kernel runs them on every frame,
 * so only ND messages we may answer wake userspace.
 */
import { IPV6_ADDRESS_LENGTH } from './address';
import { WireError } from './errors';
import { EtherType } from './ethernet';
import { IpProtocol } from './ipv6';
import { Icmpv6Type } from './icmpv6';

/** One sock_filter: opcode, jump-if-true, jump-if-false (relative, 0..255), constant k (unsigned 32-bit). */
export type BpfInstruction = readonly [code: number, jt: number, jf: number, k: number];

/** Opcode fields of classic BPF (linux/bpf_common.h, linux/filter.h). */
export const Bpf = {
  LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  W: 0x00, H: 0x08, B: 0x10,
  IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0,
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80, MOD: 0x90, XOR: 0xa0,
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  K: 0x00, X: 0x08, A: 0x10,
  TAX: 0x00, TXA: 0x80,
} as const;

/** Ancillary data loads: k = SKF_AD_OFF + field (linux/filter.h). */
export const SKF_AD_OFF = -0x1000;
/** Ancillary field holding skb->pkt_type. */
export const SKF_AD_PKTTYPE = 4;
/** pkt_type of frames this host sends (linux/if_packet.h), seen by packet sockets too. */
export const PACKET_OUTGOING = 4;
/** Accept the whole frame: options follow the target, so never truncate. */
export const ACCEPT_WHOLE_FRAME = 0x40000;
/**
 * Target entries (addresses plus prefixes) compared in the kernel at most; beyond this the
 * filter falls back to no target check. Budget: an address costs 9 instructions and a prefix
 * 2–3 per 32-bit word it covers plus 1, on each of the two paths (plain and hop-by-hop), so
 * 64 entries stay under 1 700 of BPF_MAXINSNS' 4 096 and under 14 KiB of socket option
 * memory (net.core.optmem_max is 20 KiB on old kernels).
 */
export const MAX_FILTER_TARGETS = 64;
/** Longest program the kernel accepts (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** The named opcode combinations the generated programs use. */
export const Op = {
  LDH_ABS: Bpf.LD | Bpf.H | Bpf.ABS,
  LDB_ABS: Bpf.LD | Bpf.B | Bpf.ABS,
  LDW_ABS: Bpf.LD | Bpf.W | Bpf.ABS,
  LDB_IND: Bpf.LD | Bpf.B | Bpf.IND,
  LDW_IND: Bpf.LD | Bpf.W | Bpf.IND,
  ADD_K: Bpf.ALU | Bpf.ADD | Bpf.K,
  AND_K: Bpf.ALU | Bpf.AND | Bpf.K,
  LSH_K: Bpf.ALU | Bpf.LSH | Bpf.K,
  TAX: Bpf.MISC | Bpf.TAX,
  JA: Bpf.JMP | Bpf.JA,
  JEQ_K: Bpf.JMP | Bpf.JEQ | Bpf.K,
  RET_K: Bpf.RET | Bpf.K,
} as const;

/** Frame offsets with no VLAN tag: EtherType, IPv6 next header, first header after IPv6. */
const OFFSET_ETHERTYPE = 12;
const OFFSET_NEXT_HEADER = 20;
const OFFSET_AFTER_IPV6 = 54;
/** The ND target sits 8 bytes into the ICMPv6 message (RFC 4861 §4.3, §4.4). */
const OFFSET_TARGET = OFFSET_AFTER_IPV6 + 8;

/**
 * The tcpdump expressions these programs were written from (`tcpdump -d`
 * compiles them to the same shape). Target clauses add
 * `ip6[48:4] == w0 and …` per target, see {@link solicitationFilterExpression}.
 */
export const FILTER_EXPRESSION = {
  solicitation: ndExpression(Icmpv6Type.NeighborSolicitation, undefined),
  advertisement: ndExpression(Icmpv6Type.NeighborAdvertisement, undefined),
} as const;

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

type Label = string | number;
interface PendingInstruction {
  code: number;
  jt: Label;
  jf: Label;
  k: number | string;
}

/** A tiny two-pass assembler: forward labels, range-checked 8-bit jumps, 32-bit `ja`. */
class Assembler {
  private readonly pending: PendingInstruction[] = [];
  private readonly labels = new Map<string, number>();

  label(name: string): void {
    this.labels.set(name, this.pending.length);
  }

  emit(code: number, k: number, jt: Label = 0, jf: Label = 0): void {
    this.pending.push({ code, jt, jf, k });
  }

  jumpAlways(label: string): void {
    this.pending.push({ code: Op.JA, jt: 0, jf: 0, k: label });
  }

  assemble(): BpfInstruction[] {
    return this.pending.map((p, pc) => {
      const k = typeof p.k === 'string' ? this.resolve(p.k, pc, 0xffffffff) : p.k >>> 0;
      return [p.code, this.resolve(p.jt, pc, 255), this.resolve(p.jf, pc, 255), k] as const;
    });
  }

  private resolve(target: Label, pc: number, max: number): number {
    if (typeof target === 'number') return target;
    const at = this.labels.get(target);
    const offset = at === undefined ? -1 : at - pc - 1;
    if (offset < 0 || offset > max) throw new RangeError(`BPF jump from ${pc} to ${target} out of range`);
    return offset;
  }
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

/** One block per prefix: load, mask, compare each word; a miss skips to the next block. */
function emitPrefixChecks(asm: Assembler, prefixes: readonly PrefixWords[], load: number, path: string): void {
  prefixes.forEach(({ values, masks }, n) => {
    const next = `${path}-prefix-${n}-miss`;
    values.forEach((value, i) => {
      asm.emit(load, OFFSET_TARGET + i * 4);
      if (masks[i] !== 0xffffffff) asm.emit(Op.AND_K, masks[i] ?? 0);
      asm.emit(Op.JEQ_K, value, 0, next);
    });
    asm.emit(Op.RET_K, ACCEPT_WHOLE_FRAME);
    asm.label(next);
  });
}

/**
 * Emits the accept decision for one path: with targets, one 9-instruction
 * block per target (most distinctive low word first, inline `ret` so every
 * jump stays within the block), after one block per prefix, then drop.
 */
function emitTargetCheck(asm: Assembler, targets: number[][] | undefined, load: number, prefixes: readonly PrefixWords[] = [], path = ''): void {
  if (targets === undefined) {
    asm.emit(Op.RET_K, ACCEPT_WHOLE_FRAME);
    return;
  }
  // Prefixes first: they load fewer words, so a truncated frame matching one is accepted as
  // libpcap's compilation of the same expression accepts it.
  emitPrefixChecks(asm, prefixes, load, path);
  for (const [w0 = 0, w1 = 0, w2 = 0, w3 = 0] of targets) {
    asm.emit(load, OFFSET_TARGET + 12);
    asm.emit(Op.JEQ_K, w3, 0, 7);
    asm.emit(load, OFFSET_TARGET);
    asm.emit(Op.JEQ_K, w0, 0, 5);
    asm.emit(load, OFFSET_TARGET + 4);
    asm.emit(Op.JEQ_K, w1, 0, 3);
    asm.emit(load, OFFSET_TARGET + 8);
    asm.emit(Op.JEQ_K, w2, 0, 1);
    asm.emit(Op.RET_K, ACCEPT_WHOLE_FRAME);
  }
  asm.emit(Op.RET_K, 0);
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

/** Builds the program for ICMPv6 `type`, directly after IPv6 or after one hop-by-hop header. */
function ndFilter(type: number, options: FilterOptions): BpfInstruction[] {
  const words = checksTargets(options) ? (options.targets ?? []).map(addressWords) : undefined;
  const prefixes = words === undefined ? [] : shortestFirst(options.prefixes).map(prefixWords);
  const asm = new Assembler();
  asm.emit(Op.LDH_ABS, OFFSET_ETHERTYPE);
  asm.emit(Op.JEQ_K, EtherType.IPv6, 0, 'drop');
  asm.emit(Op.LDW_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
  asm.emit(Op.JEQ_K, PACKET_OUTGOING, 'drop', 0);
  asm.emit(Op.LDB_ABS, OFFSET_NEXT_HEADER);
  asm.emit(Op.JEQ_K, IpProtocol.Icmpv6, 'direct', 0);
  // RFC 6980 §5: fragments and any other header chain are dropped; only hop-by-hop is walked.
  asm.emit(Op.JEQ_K, IpProtocol.HopByHop, 0, 'drop');
  asm.jumpAlways('hop-by-hop');
  asm.label('drop');
  asm.emit(Op.RET_K, 0);
  asm.label('direct');
  asm.emit(Op.LDB_ABS, OFFSET_AFTER_IPV6);
  asm.emit(Op.JEQ_K, type, 1, 0);
  asm.emit(Op.RET_K, 0);
  emitTargetCheck(asm, words, Op.LDW_ABS, prefixes, 'direct');
  asm.label('hop-by-hop');
  asm.emit(Op.LDB_ABS, OFFSET_AFTER_IPV6);
  asm.emit(Op.JEQ_K, IpProtocol.Icmpv6, 0, 'drop-hop-by-hop');
  // RFC 8200 §4.3: Hdr Ext Len counts 8-octet units after the first 8, so X = (len + 1) * 8.
  asm.emit(Op.LDB_ABS, OFFSET_AFTER_IPV6 + 1);
  asm.emit(Op.ADD_K, 1);
  asm.emit(Op.LSH_K, 3);
  asm.emit(Op.TAX, 0);
  asm.emit(Op.LDB_IND, OFFSET_AFTER_IPV6);
  asm.emit(Op.JEQ_K, type, 1, 0);
  asm.label('drop-hop-by-hop');
  asm.emit(Op.RET_K, 0);
  emitTargetCheck(asm, words, Op.LDW_IND, prefixes, 'hop-by-hop');
  return asm.assemble();
}

/** Accepts inbound Neighbor Solicitations (optionally only for `targets`), whole; drops everything else. */
export function solicitationFilter(options: FilterOptions = {}): BpfInstruction[] {
  return ndFilter(Icmpv6Type.NeighborSolicitation, options);
}

/** Accepts inbound Neighbor Advertisements (optionally only for `targets`), whole; drops everything else. */
export function advertisementFilter(options: FilterOptions = {}): BpfInstruction[] {
  return ndFilter(Icmpv6Type.NeighborAdvertisement, options);
}

/** The tcpdump clause matching one target at `base` (an ip6[] offset expression). */
function targetClause(target: Uint8Array, index: number, base: string): string {
  const words = addressWords(target, index);
  return `(${words.map((w, i) => `ip6[${base}${8 + i * 4}:4] == 0x${w.toString(16)}`).join(' and ')})`;
}

/** The tcpdump clause matching one prefix at `base`. */
function prefixClause(prefix: FilterPrefix, index: number, base: string): string {
  const { values, masks } = prefixWords(prefix, index);
  const terms = values.map((v, i) => {
    const word = `ip6[${base}${8 + i * 4}:4]`;
    return masks[i] === 0xffffffff ? `${word} == 0x${v.toString(16)}` : `${word} & 0x${(masks[i] ?? 0).toString(16)} == 0x${v.toString(16)}`;
  });
  return `(${terms.join(' and ') || '1 == 1'})`;
}

/** The tcpdump expression equivalent to the program for ICMPv6 `type` and the target options. */
function ndExpression(type: number, options: FilterOptions | undefined): string {
  const useTargets = options !== undefined && checksTargets(options);
  const clauses = (base: string): string[] => [
    ...shortestFirst(options?.prefixes).map((p, i) => prefixClause(p, i, base)),
    ...(options?.targets ?? []).map((t, i) => targetClause(t, i, base)),
  ];
  const match = (base: string): string => (useTargets ? ` and (${clauses(base).join(' or ') || '1 == 0'})` : '');
  const hop = '40 + (ip6[41] + 1) * 8 + ';
  return (
    'ether proto 0x86dd and not outbound and (' +
    `(ip6[6] == 58 and ip6[40] == ${type}${match('40 + ')}) or ` +
    `(ip6[6] == 0 and ip6[40] == 58 and ip6[${hop}0] == ${type}${match(hop)}))`
  );
}

/** The tcpdump expression documenting {@link solicitationFilter} with the same options. */
export function solicitationFilterExpression(options: FilterOptions = {}): string {
  return ndExpression(Icmpv6Type.NeighborSolicitation, options);
}

/** Checks what the kernel's sk_chk_filter checks that we can get wrong: size, jump ranges, final ret. */
export function validateFilter(program: readonly BpfInstruction[]): void {
  if (program.length === 0 || program.length > BPF_MAXINSNS) {
    throw new RangeError(`BPF program of ${program.length} instructions`);
  }
  program.forEach(([code, jt, jf, k], pc) => {
    const isJump = (code & 0x07) === Bpf.JMP;
    const reach = code === Op.JA ? [k] : isJump ? [jt, jf] : [];
    for (const offset of reach) {
      if (offset < 0 || offset > 0xffffffff || pc + 1 + offset >= program.length) {
        throw new RangeError(`BPF jump at ${pc} leaves the program`);
      }
    }
    if (jt > 255 || jf > 255 || jt < 0 || jf < 0) throw new RangeError(`BPF jump offset at ${pc} exceeds 8 bits`);
  });
  const last = program[program.length - 1];
  if (last === undefined || (last[0] & 0x07) !== Bpf.RET) throw new RangeError('BPF program does not end in ret');
}

/** Lays the program out as an array of struct sock_filter (u16 code, u8 jt, u8 jf, u32 k) in host byte order. */
export function encodeSockFilter(program: readonly BpfInstruction[]): Uint8Array {
  const out = new Uint8Array(program.length * 8);
  const view = new DataView(out.buffer);
  const little = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  program.forEach(([code, jt, jf, k], i) => {
    view.setUint16(i * 8, code, little);
    view.setUint8(i * 8 + 2, jt);
    view.setUint8(i * 8 + 3, jf);
    view.setUint32(i * 8 + 4, k >>> 0, little);
  });
  return out;
}
