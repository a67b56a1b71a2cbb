/**
 * Generates the in-kernel Neighbour Solicitation program for XDP or tc/tcx.
 * Its checks are compiled from the shared rule table (wire/solicitation-rules.ts,
 * see rule-checks.ts): the socket filter's rows recognise an NS for a target in
 * the `targets` map, which is counted. In answer mode every other row (RFC 4861
 * §7.1.1 and ours) must pass too, on the one shape rewritten here (one SLLA
 * option, unicast source); the NS becomes its NA in place and goes back out of
 * the receiving device. Every other frame passes on to the packet socket, where
 * userspace applies the same rows and counts the reason.
 */
import { Icmpv6Type } from '../icmpv6';
import { NdOptionType } from '../nd-options';
import { SOLICITATION_RULES, type NdRule } from '../solicitation-rules';
import { Assembler, type AssembledProgram } from './assembler';
import {
  CONFIG_FLAGS_OFFSET,
  CONFIG_LIMIT_OFFSET,
  CONFIG_SOURCE_MODE_OFFSET,
  CONFIG_SOURCE_OFFSET,
  FastPathCounter,
  FrameOffset as F,
  PASS_REASONS,
  SOLICITATION_MIN_FRAME,
  StackSlot,
  passSlot,
  type FastPathMapName,
  type PassReason,
} from './fast-path-layout';
import { littleEndianValue as le } from './instruction';
import { Helper, MapUpdate, SkBuff, TcAction, XdpAction, XdpMd } from './kernel-abi';
import { Reg } from './opcodes';
import { pseudoHeaderTail, sumMessage } from './program-checksum';
import { emitRuleChecks } from './rule-checks';

/** Where the program runs: the XDP hook or a tc/tcx classifier (SCHED_CLS). */
export type FastPathHook = 'xdp' | 'tc';

/** How to generate the program. */
export interface SolicitationProgramOptions {
  readonly hook: FastPathHook;
  /** Rewrite answerable NS into the NA and send it back; false: count and pass everything. */
  readonly answer: boolean;
}

const { R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 } = Reg;
const CTX = R6;
const DATA = R7;
const DATA_END = R8;
const CONFIG = R9;
const {
  counterKey: STACK_COUNTER_KEY,
  configKey: STACK_CONFIG_KEY,
  now: STACK_NOW,
  newArrival: STACK_NEW_ARRIVAL,
  flowKey: STACK_FLOW_KEY,
} = StackSlot;
/** Solicited flag of the NA (RFC 4861 §4.4). */
const FLAG_SOLICITED = 0x40;

/** The program, with map references (fast-path-layout.ts fastPathMaps) left for the loader. */
export function solicitationProgram(options: SolicitationProgramOptions, rules: readonly NdRule[] = SOLICITATION_RULES): AssembledProgram {
  requireShapeRows(rules);
  const asm = new Assembler();
  const regs = { ctx: CTX, data: DATA, dataEnd: DATA_END, config: CONFIG };
  loadPacketBounds(asm, options.hook);
  // The rows the classic-BPF socket filter applies too (EtherType, header chain, type, target):
  // a frame failing them is not an NS for us, and passes on uncounted.
  asm.mov64Reg(R1, DATA).alu64Imm('ADD', R1, SOLICITATION_MIN_FRAME).jmpReg('JGT', R1, DATA_END, 'pass');
  emitRuleChecks(asm, rules.filter((row) => row.kernel), { hook: options.hook, regs, fail: 'pass' });
  count(asm, FastPathCounter.matched);
  if (options.answer) {
    // Every other row (RFC 4861 §7.1.1 and ours), and the one shape rewritten here: a frame
    // failing any of them is never answered in the kernel. It is deferred (counted by reason) and
    // passed on to the packet socket, where the userspace validator counts it under its reason.
    loadConfig(asm);
    // DAD rows first: a probe fails several rows (its shape too), and is counted as a probe.
    const rows = rules.filter((row) => !row.kernel);
    const dad = rows.filter((row) => passReasonOf(row) === 'dad-probe');
    emitRuleChecks(asm, [...dad, ...rows.filter((row) => !dad.includes(row))], { hook: options.hook, regs, fail: (row) => deferLabel(passReasonOf(row)) });
    // The answer limits, as the socket path applies them after its checks: a refused NS is dropped.
    applyLimits(asm);
    rewriteIntoAdvertisement(asm);
    count(asm, FastPathCounter.answered);
    sendBack(asm, options.hook);
    asm.label('limited');
    count(asm, FastPathCounter.limited);
    asm.mov64Imm(R0, options.hook === 'xdp' ? XdpAction.DROP : TcAction.DROP).exit();
    // Only the labels something jumps to: the verifier refuses unreachable instructions.
    const used = new Set<PassReason>(['no-config', 'other', ...rows.map(passReasonOf)]);
    for (const reason of PASS_REASONS.filter((r) => used.has(r))) asm.label(deferLabel(reason)).st('W', R10, STACK_COUNTER_KEY, passSlot(reason)).ja('defer');
    asm.label('defer');
    countStored(asm, 'defer-reason');
    count(asm, FastPathCounter.deferred);
  }
  asm.label('pass').mov64Imm(R0, options.hook === 'xdp' ? XdpAction.PASS : TcAction.NEXT).exit();
  return asm.assemble();
}

/** The rewrite relies on rows that fix the frame's shape: without them it would read past the NS. */
function requireShapeRows(rules: readonly NdRule[]): void {
  for (const kind of ['header-chain', 'ipv6-payload', 'options', 'target'] as const) {
    if (!rules.some((row) => row.kind === kind)) throw new RangeError(`the rule table has no ${kind} row: the fast path needs it`);
  }
}

/** r6 = ctx, r7 = first byte of the frame, r8 = end of its linear part. */
function loadPacketBounds(asm: Assembler, hook: FastPathHook): void {
  const ctx = hook === 'xdp' ? { data: XdpMd.data, dataEnd: XdpMd.dataEnd } : { data: SkBuff.data, dataEnd: SkBuff.dataEnd };
  asm.mov64Reg(CTX, R1).ldx('W', DATA, CTX, ctx.data).ldx('W', DATA_END, CTX, ctx.dataEnd);
  // tc sees frames whose VLAN tag the NIC stripped into the skb: not ours to answer untagged.
  if (hook === 'tc') asm.ldx('W', R1, CTX, SkBuff.vlanPresent).jmpImm('JNE', R1, 0, 'pass');
}

/** CONFIG = the `config` value (our MAC, NA flags); defers if the loader has not filled it. */
function loadConfig(asm: Assembler): void {
  asm
    .st('W', R10, STACK_CONFIG_KEY, 0)
    .mov64Reg(R2, R10)
    .alu64Imm('ADD', R2, STACK_CONFIG_KEY)
    .ldMap(R1, 'config')
    .call(Helper.mapLookupElem)
    .jmpImm('JEQ', R0, 0, deferLabel('no-config'))
    .mov64Reg(CONFIG, R0);
}

/** counters[slot] += 1 on this CPU (a per-CPU array: no atomics needed). Clobbers r0-r5. */
function count(asm: Assembler, slot: number): void {
  asm.st('W', R10, STACK_COUNTER_KEY, slot);
  countStored(asm, `counted-${slot}`);
}

/** The same for the slot already on the stack; `done` names the label after it. */
function countStored(asm: Assembler, done: string): void {
  asm
    .mov64Reg(R2, R10)
    .alu64Imm('ADD', R2, STACK_COUNTER_KEY)
    .ldMap(R1, 'counters')
    .call(Helper.mapLookupElem)
    .jmpImm('JEQ', R0, 0, done)
    .ldx('DW', R1, R0, 0)
    .alu64Imm('ADD', R1, 1)
    .stx('DW', R0, 0, R1)
    .label(done);
}

function deferLabel(reason: PassReason): string {
  return `defer-${reason}`;
}

/** The pass counter a failed row is counted under (fast-path-layout.ts PASS_REASONS). */
function passReasonOf(row: NdRule): PassReason {
  switch (row.kind) {
    case 'ipv6-payload':
    case 'icmpv6-length':
    case 'options':
      return 'shape';
    case 'dad-destination':
    case 'dad-no-option':
      return 'dad-probe';
    default:
      return (PASS_REASONS as readonly string[]).includes(row.name) ? (row.name as PassReason) : 'other';
  }
}

/**
 * The per-flow, per-source and global limits (each off when its interval in `config` is 0), in
 * the socket path's order: a refusal spends nothing further down. Each bucket is one u64, its
 * theoretical arrival time (fast-path-layout.ts limitParameters). Updates are not atomic: two
 * CPUs answering the same flow at the same instant may both pass, so a limit can be exceeded by
 * at most one answer per CPU at such a race, never more.
 */
function applyLimits(asm: Assembler): void {
  asm.call(Helper.ktimeGetNs).stx('DW', R10, STACK_NOW, R0);
  const copies: readonly (readonly [number, number])[] = [
    [F.ipv6Source, 0],
    [F.ipv6Source + 8, 8],
    [F.target, 16],
    [F.target + 8, 24],
  ];
  for (const [from, to] of copies) asm.ldx('DW', R1, DATA, from).stx('DW', R10, STACK_FLOW_KEY + to, R1);
  limitBucket(asm, 'flows', STACK_FLOW_KEY, CONFIG_LIMIT_OFFSET.flow);
  limitBucket(asm, 'sources', STACK_FLOW_KEY, CONFIG_LIMIT_OFFSET.source);
  limitBucket(asm, 'global', STACK_CONFIG_KEY, CONFIG_LIMIT_OFFSET.global);
}

/** One bucket: jumps to `limited` when it has no room, else moves its arrival time on. */
function limitBucket(asm: Assembler, map: Extract<FastPathMapName, 'flows' | 'sources' | 'global'>, keyOffset: number, configOffset: number): void {
  const done = `limit-done-${map}`;
  const fresh = `limit-new-${map}`;
  asm
    .ldx('DW', R1, CONFIG, configOffset)
    .jmpImm('JEQ', R1, 0, done)
    .ldMap(R1, map)
    .mov64Reg(R2, R10)
    .alu64Imm('ADD', R2, keyOffset)
    .call(Helper.mapLookupElem)
    .jmpImm('JEQ', R0, 0, fresh)
    // r1 = max(arrival time, now); r2 = now.
    .ldx('DW', R1, R0, 0)
    .ldx('DW', R2, R10, STACK_NOW)
    .jmpReg('JGE', R1, R2, `limit-later-${map}`)
    .mov64Reg(R1, R2)
    .label(`limit-later-${map}`)
    .mov64Reg(R3, R1)
    .alu64Reg('SUB', R3, R2)
    .ldx('DW', R4, CONFIG, configOffset + 8)
    .jmpReg('JGT', R3, R4, 'limited')
    .ldx('DW', R3, CONFIG, configOffset)
    .alu64Reg('ADD', R1, R3)
    .stx('DW', R0, 0, R1)
    .ja(done)
    .label(fresh);
  if (map !== 'global') {
    // Never seen (or forgotten): a full bucket; this answer is its first.
    asm
      .ldx('DW', R1, R10, STACK_NOW)
      .ldx('DW', R3, CONFIG, configOffset)
      .alu64Reg('ADD', R1, R3)
      .stx('DW', R10, STACK_NEW_ARRIVAL, R1)
      .ldMap(R1, map)
      .mov64Reg(R2, R10)
      .alu64Imm('ADD', R2, keyOffset)
      .mov64Reg(R3, R10)
      .alu64Imm('ADD', R3, STACK_NEW_ARRIVAL)
      .mov64Imm(R4, MapUpdate.ANY)
      .call(Helper.mapUpdateElem);
  }
  asm.label(done);
}

/** Turns the NS into its NA in place (RFC 4861 §7.2.4): same length, new addresses, TLLA. */
function rewriteIntoAdvertisement(asm: Assembler): void {
  asm
    // Ethernet: to the solicitor's SLLA, from our MAC.
    .ldx('W', R1, DATA, F.optionAddress)
    .stx('W', DATA, F.ethernetDestination, R1)
    .ldx('H', R1, DATA, F.optionAddress + 4)
    .stx('H', DATA, F.ethernetDestination + 4, R1)
    .ldx('W', R1, CONFIG, 0)
    .stx('W', DATA, F.ethernetSource, R1)
    .ldx('H', R1, CONFIG, 4)
    .stx('H', DATA, F.ethernetSource + 4, R1)
    // IPv6: version 6, traffic class and flow label 0; length, next header and hop limit 255 stay.
    .st('W', DATA, F.ipv6, le(0x60, 0, 0, 0))
    // Destination: the solicitation's source. Source: the target itself, or the configured
    // address (`--source link-local`, the uplink's link-local address).
    .ldx('DW', R1, DATA, F.ipv6Source)
    .ldx('DW', R2, DATA, F.ipv6Source + 8)
    .stx('DW', DATA, F.ipv6Destination, R1)
    .stx('DW', DATA, F.ipv6Destination + 8, R2)
    .ldx('B', R1, CONFIG, CONFIG_SOURCE_MODE_OFFSET)
    .jmpImm('JEQ', R1, 0, 'source-is-target')
    .ldx('DW', R1, CONFIG, CONFIG_SOURCE_OFFSET)
    .ldx('DW', R2, CONFIG, CONFIG_SOURCE_OFFSET + 8)
    .ja('source-chosen')
    .label('source-is-target')
    .ldx('DW', R1, DATA, F.target)
    .ldx('DW', R2, DATA, F.target + 8)
    .label('source-chosen')
    .stx('DW', DATA, F.ipv6Source, R1)
    .stx('DW', DATA, F.ipv6Source + 8, R2)
    // ICMPv6: type 136, code 0, checksum 0 until computed, flags with S set, reserved 0.
    .st('W', DATA, F.icmpv6, le(Icmpv6Type.NeighborAdvertisement, 0, 0, 0))
    .st('W', DATA, F.naFlags, 0)
    .ldx('B', R1, CONFIG, CONFIG_FLAGS_OFFSET)
    .alu64Imm('OR', R1, FLAG_SOLICITED)
    .stx('B', DATA, F.naFlags, R1)
    // The SLLA option becomes the TLLA with our MAC.
    .st('H', DATA, F.option, le(NdOptionType.TargetLinkLayerAddress, 1))
    .ldx('W', R1, CONFIG, 0)
    .stx('W', DATA, F.optionAddress, R1)
    .ldx('H', R1, CONFIG, 4)
    .stx('H', DATA, F.optionAddress + 4, R1);
  pseudoHeaderTail(asm); // same length and next header as the NS
  sumMessage(asm, DATA, deferLabel('other'));
  asm.alu64Imm('XOR', R0, 0xffff).stx('H', DATA, F.icmpv6Checksum, R0);
}

/** XDP: transmit from the receiving device. tc: redirect to the egress of the receiving device. */
function sendBack(asm: Assembler, hook: FastPathHook): void {
  if (hook === 'xdp') {
    asm.mov64Imm(R0, XdpAction.TX).exit();
    return;
  }
  asm.ldx('W', R1, CTX, SkBuff.ifindex).mov64Imm(R2, 0).call(Helper.redirect).exit();
}
