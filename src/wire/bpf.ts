/**
 * The packet socket's classic-BPF filters, generated from the rows of the rule tables
 * (wire/solicitation-rules.ts) marked `kernel`: the kernel runs them on every frame, so only
 * ND messages we may answer wake userspace. Each program comes with the tcpdump expression
 * that libpcap compiles to the same verdicts (`tcpdump -d`).
 */
import { ACCEPT_WHOLE_FRAME, Assembler, Op, PACKET_OUTGOING, SKF_AD_OFF, SKF_AD_PKTTYPE, validateFilter, type BpfInstruction } from './bpf-assembler';
import { emitTargetCheck, targetExpression, targetWords, type FilterOptions, type TargetWords } from './bpf-targets';
import { ETHERNET_HEADER_LENGTH, EtherType } from './ethernet';
import { IPV6_HEADER_LENGTH } from './ipv6';
import { ADVERTISEMENT_FILTER_RULES, SOLICITATION_RULES, type FieldRule, type HeaderChainRule, type NdRule } from './solicitation-rules';

/** Frame offsets with no VLAN tag: the IPv6 header, and the ICMPv6 message when no extension header precedes it. */
const IPV6 = ETHERNET_HEADER_LENGTH;
const ICMPV6 = IPV6 + IPV6_HEADER_LENGTH;
/** Loads by width: absolute, and indexed by X (behind a hop-by-hop header). */
const LOAD_ABS: Record<number, number> = { 1: Op.LDB_ABS, 2: Op.LDH_ABS, 4: Op.LDW_ABS };
const LOAD_IND: Record<number, number> = { 1: Op.LDB_IND, 2: Op.LDH_IND, 4: Op.LDW_IND };
const FULL_MASK: Record<number, number> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/** The kernel's rows of a table, split at the header chain: one path before it, two after. */
interface KernelRows {
  readonly before: readonly FieldRule[];
  readonly chain: HeaderChainRule;
  /** Field rows, then at most one target row, which ends the program. */
  readonly after: readonly NdRule[];
}

/** The `kernel` rows of `rules`, checked for the shape the generator handles. */
function kernelRows(rules: readonly NdRule[]): KernelRows {
  const rows = rules.filter((r) => r.kernel);
  const at = rows.findIndex((r) => r.kind === 'header-chain');
  const chain = rows[at];
  const before = rows.slice(0, at);
  const after = rows.slice(at + 1);
  const shaped =
    chain?.kind === 'header-chain' &&
    before.every((r) => r.kind === 'field' && r.layer !== 'icmpv6') &&
    after[0]?.kind === 'field' &&
    after.every((r, i) => r.kind === 'field' || (r.kind === 'target' && i === after.length - 1));
  if (!shaped) throw new Error('kernel rows must be fields, one header chain, fields, then at most a target');
  return { before: before as FieldRule[], chain, after };
}

/** Loads the field of `rule` into A, masked; ICMPv6 fields are indexed by X on the hop-by-hop path. */
function emitLoad(asm: Assembler, rule: FieldRule, indexed: boolean): void {
  const base = { metadata: SKF_AD_OFF, ethernet: 0, ipv6: IPV6, icmpv6: ICMPV6 }[rule.layer];
  const load = indexed && rule.layer === 'icmpv6' ? LOAD_IND : LOAD_ABS;
  asm.emit(load[rule.width] ?? Op.LDW_ABS, base + rule.offset);
  if (rule.mask !== FULL_MASK[rule.width]) asm.emit(Op.AND_K, rule.mask);
}

/** A row before the header chain: a failed comparison jumps to the shared `drop`. */
function emitGuard(asm: Assembler, rule: FieldRule): void {
  emitLoad(asm, rule, false);
  if (rule.op === 'eq') asm.emit(Op.JEQ_K, rule.value, 0, 'drop');
  else asm.emit(Op.JEQ_K, rule.value, 'drop', 0);
}

/** A row on one path: a pass skips the `ret 0` after it (cBPF cannot jump back to a shared drop). */
function emitInlineGuard(asm: Assembler, rule: FieldRule, indexed: boolean, dropLabel: string | undefined): void {
  emitLoad(asm, rule, indexed);
  asm.emit(Op.JEQ_K, rule.value, rule.op === 'eq' ? 1 : 0, rule.op === 'eq' ? 0 : 1);
  if (dropLabel !== undefined) asm.label(dropLabel);
  asm.emit(Op.RET_K, 0);
}

/** RFC 8200 §4.3, RFC 6980 §5: the upper layer directly, or one hop-by-hop header; fragments and other chains drop. */
function emitChain(asm: Assembler, chain: HeaderChainRule): void {
  asm.emit(Op.LDB_ABS, IPV6 + chain.nextHeaderOffset);
  asm.emit(Op.JEQ_K, chain.upperLayer, 'direct', 0);
  asm.emit(Op.JEQ_K, chain.hopByHop, 0, 'drop');
  asm.jumpAlways('hop-by-hop');
  asm.label('drop');
  asm.emit(Op.RET_K, 0);
}

/** Behind hop-by-hop: its Next Header (its first byte) is the upper layer; X = (Hdr Ext Len + 1) * 8 (RFC 8200 §4.3). */
function emitHopByHop(asm: Assembler, chain: HeaderChainRule): void {
  asm.label('hop-by-hop');
  asm.emit(Op.LDB_ABS, ICMPV6);
  asm.emit(Op.JEQ_K, chain.upperLayer, 0, 'drop-hop-by-hop');
  asm.emit(Op.LDB_ABS, ICMPV6 + 1);
  asm.emit(Op.ADD_K, 1);
  asm.emit(Op.LSH_K, 3);
  asm.emit(Op.TAX, 0);
}

/** The rows after the chain on one path, ending in the target check, or in accept without a target row. */
function emitPath(asm: Assembler, rows: readonly NdRule[], words: TargetWords | undefined, path: string, dropLabel?: string): void {
  const indexed = path === 'hop-by-hop';
  let drop = dropLabel;
  for (const rule of rows) {
    if (rule.kind === 'target') {
      emitTargetCheck(asm, words, indexed ? Op.LDW_IND : Op.LDW_ABS, ICMPV6 + rule.offset, path);
      return;
    }
    if (rule.kind === 'field') emitInlineGuard(asm, rule, indexed, drop);
    drop = undefined;
  }
  asm.emit(Op.RET_K, ACCEPT_WHOLE_FRAME);
}

/** The program of a rule table: its kernel rows, with the target comparison `options` ask for. */
function ndFilter(rules: readonly NdRule[], options: FilterOptions): BpfInstruction[] {
  const { before, chain, after } = kernelRows(rules);
  const words = targetWords(options);
  const asm = new Assembler();
  for (const rule of before) emitGuard(asm, rule);
  emitChain(asm, chain);
  asm.label('direct');
  emitPath(asm, after, words, 'direct');
  emitHopByHop(asm, chain);
  emitPath(asm, after, words, 'hop-by-hop', 'drop-hop-by-hop');
  const program = asm.assemble();
  // A program the kernel would refuse fails here, naming the problem, not as EINVAL at attach time.
  validateFilter(program);
  return program;
}

/** Accepts inbound Neighbor Solicitations (optionally only for `targets`), whole; drops everything else. */
export function solicitationFilter(options: FilterOptions = {}): BpfInstruction[] {
  return ndFilter(SOLICITATION_RULES, options);
}

/** Accepts inbound Neighbor Advertisements (optionally only for `targets`), whole; drops everything else. */
export function advertisementFilter(options: FilterOptions = {}): BpfInstruction[] {
  return ndFilter(ADVERTISEMENT_FILTER_RULES, options);
}

/** tcpdump's index of the hop-by-hop path's ICMPv6 message: after the header, whose length byte is ip6[41]. */
const HOP_BY_HOP_BASE = `${IPV6_HEADER_LENGTH} + (ip6[${IPV6_HEADER_LENGTH + 1}] + 1) * 8 + `;
/** tcpdump's index prefix of the direct path's ICMPv6 message. */
const DIRECT_BASE = `${IPV6_HEADER_LENGTH} + `;

/** The tcpdump form of one field row; ICMPv6 fields are read at `base` plus their offset. */
function fieldExpression(rule: FieldRule, base: string): string {
  const negate = rule.op === 'eq' ? '' : 'not ';
  if (rule.layer === 'metadata' && rule.offset === SKF_AD_PKTTYPE && rule.value === PACKET_OUTGOING) return `${negate}outbound`;
  if (rule.layer === 'ethernet' && rule.offset === 12 && rule.width === 2 && rule.value === EtherType.IPv6) return `${negate}ether proto 0x86dd`;
  if (rule.layer === 'metadata') throw new Error(`no tcpdump form for ancillary field ${rule.offset}`);
  const size = rule.width === 1 ? '' : `:${rule.width}`;
  const index = rule.layer !== 'icmpv6' ? `${rule.offset}` : base === DIRECT_BASE && rule.offset === 0 ? `${IPV6_HEADER_LENGTH}` : `${base}${rule.offset}`;
  const load = rule.layer === 'ethernet' ? `ether[${index}${size}]` : `ip6[${index}${size}]`;
  const masked = rule.mask === FULL_MASK[rule.width] ? load : `${load} & 0x${rule.mask.toString(16)}`;
  return `${masked} ${rule.op === 'eq' ? '==' : '!='} ${rule.value}`;
}

/** The tcpdump form of one path's rows, the message at `base`. */
function pathExpression(rows: readonly NdRule[], words: TargetWords | undefined, base: string): string {
  const fields = rows.flatMap((r) => (r.kind === 'field' ? [fieldExpression(r, base)] : []));
  const target = rows.find((r) => r.kind === 'target');
  return fields.join(' and ') + (target === undefined ? '' : targetExpression(words, base, target.offset));
}

/** The tcpdump expression equivalent to the program of `rules` with `options`. */
function ndExpression(rules: readonly NdRule[], options: FilterOptions): string {
  const { before, chain, after } = kernelRows(rules);
  const words = targetWords(options);
  const direct = `ip6[${chain.nextHeaderOffset}] == ${chain.upperLayer} and ${pathExpression(after, words, DIRECT_BASE)}`;
  const hopByHop =
    `ip6[${chain.nextHeaderOffset}] == ${chain.hopByHop} and ip6[${IPV6_HEADER_LENGTH}] == ${chain.upperLayer} and ` +
    pathExpression(after, words, HOP_BY_HOP_BASE);
  return `${before.map((r) => fieldExpression(r, '')).join(' and ')} and ((${direct}) or (${hopByHop}))`;
}

/** The tcpdump expressions of the filters without a target check (what `tcpdump -d` turns into the same programs). */
export const FILTER_EXPRESSION = {
  solicitation: ndExpression(SOLICITATION_RULES, {}),
  advertisement: ndExpression(ADVERTISEMENT_FILTER_RULES, {}),
} as const;

/** The tcpdump expression documenting {@link solicitationFilter} with the same options. */
export function solicitationFilterExpression(options: FilterOptions = {}): string {
  return ndExpression(SOLICITATION_RULES, options);
}
