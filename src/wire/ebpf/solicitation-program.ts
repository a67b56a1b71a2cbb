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
  FastPathCounter,
  FrameOffset as F,
  SOLICITATION_MIN_FRAME,
} from './fast-path-layout';
import { littleEndianValue as le } from './instruction';
import { Helper, SkBuff, TcAction, XdpAction, XdpMd } from './kernel-abi';
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

const { R0, R1, R2, R6, R7, R8, R9, R10 } = Reg;
const CTX = R6;
const DATA = R7;
const DATA_END = R8;
const CONFIG = R9;
/** Stack slots below the frame pointer. */
const STACK_COUNTER_KEY = -4;
const STACK_CONFIG_KEY = -8;
/** Solicited flag of the NA (RFC 4861 §4.4). */
const FLAG_SOLICITED = 0x40;

/** The program, with map references to `targets`, `config` and `counters` left for the loader. */
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
    // failing any of them is never answered in the kernel. It is deferred (counted) and passed
    // on to the packet socket, where the userspace validator counts it under its reason.
    loadConfig(asm);
    emitRuleChecks(asm, rules.filter((row) => !row.kernel), { hook: options.hook, regs, fail: 'defer' });
    rewriteIntoAdvertisement(asm);
    count(asm, FastPathCounter.answered);
    sendBack(asm, options.hook);
    asm.label('defer');
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
    .jmpImm('JEQ', R0, 0, 'defer')
    .mov64Reg(CONFIG, R0);
}

/** counters[slot] += 1 on this CPU (a per-CPU array: no atomics needed). Clobbers r0-r5. */
function count(asm: Assembler, slot: number): void {
  const done = `counted-${slot}`;
  asm
    .st('W', R10, STACK_COUNTER_KEY, slot)
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
    // Destination: the solicitation's source. Source: the target itself.
    .ldx('DW', R1, DATA, F.ipv6Source)
    .ldx('DW', R2, DATA, F.ipv6Source + 8)
    .stx('DW', DATA, F.ipv6Destination, R1)
    .stx('DW', DATA, F.ipv6Destination + 8, R2)
    .ldx('DW', R1, DATA, F.target)
    .ldx('DW', R2, DATA, F.target + 8)
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
  sumMessage(asm, DATA, 'defer');
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
