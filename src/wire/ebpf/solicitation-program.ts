/**
 * Generates the in-kernel Neighbour Solicitation program for XDP or tc/tcx.
 * It recognises an NS (RFC 4861 §7.1.1: hop limit 255, code 0) for a target
 * in the `targets` map and counts it. In answer mode it also rewrites the
 * common shape (one SLLA option, unicast source, valid checksum) into the NA
 * in place and sends it back out of the receiving device. Every other frame
 * passes on to the packet socket, where userspace applies the full rules.
 */
import { EtherType } from '../ethernet';
import { Icmpv6Type } from '../icmpv6';
import { IpProtocol } from '../ipv6';
import { NdOptionType } from '../nd-options';
import { Assembler, type AssembledProgram } from './assembler';
import {
  ANSWERED_FRAME_LENGTH,
  ANSWERED_ICMPV6_LENGTH,
  CONFIG_FLAGS_OFFSET,
  FastPathCounter,
  FrameOffset as F,
  SOLICITATION_MIN_FRAME,
} from './fast-path-layout';
import { littleEndianValue as le } from './instruction';
import { Helper, SkBuff, TcAction, XdpAction, XdpMd } from './kernel-abi';
import { Reg } from './opcodes';

/** Where the program runs: the XDP hook or a tc/tcx classifier (SCHED_CLS). */
export type FastPathHook = 'xdp' | 'tc';

/** How to generate the program. */
export interface SolicitationProgramOptions {
  readonly hook: FastPathHook;
  /** Rewrite answerable NS into the NA and send it back; false: count and pass everything. */
  readonly answer: boolean;
}

const { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 } = Reg;
const CTX = R6;
const DATA = R7;
const DATA_END = R8;
const CONFIG = R9;
/** Stack slots below the frame pointer. */
const STACK_COUNTER_KEY = -4;
const STACK_CONFIG_KEY = -8;
const STACK_PSEUDO_TAIL = -16;
/** Solicited flag of the NA (RFC 4861 §4.4). */
const FLAG_SOLICITED = 0x40;

/** The program, with map references to `targets`, `config` and `counters` left for the loader. */
export function solicitationProgram(options: SolicitationProgramOptions): AssembledProgram {
  const asm = new Assembler();
  loadPacketBounds(asm, options.hook);
  matchSolicitation(asm);
  count(asm, FastPathCounter.matched);
  if (options.answer) {
    checkAnswerable(asm, options.hook);
    rewriteIntoAdvertisement(asm);
    count(asm, FastPathCounter.answered);
    sendBack(asm, options.hook);
    asm.label('defer');
    count(asm, FastPathCounter.deferred);
  }
  asm.label('pass').mov64Imm(R0, options.hook === 'xdp' ? XdpAction.PASS : TcAction.NEXT).exit();
  return asm.assemble();
}

/** r6 = ctx, r7 = first byte of the frame, r8 = end of its linear part. */
function loadPacketBounds(asm: Assembler, hook: FastPathHook): void {
  const ctx = hook === 'xdp' ? { data: XdpMd.data, dataEnd: XdpMd.dataEnd } : { data: SkBuff.data, dataEnd: SkBuff.dataEnd };
  asm.mov64Reg(CTX, R1).ldx('W', DATA, CTX, ctx.data).ldx('W', DATA_END, CTX, ctx.dataEnd);
  // tc sees frames whose VLAN tag the NIC stripped into the skb: not ours to answer untagged.
  if (hook === 'tc') asm.ldx('W', R1, CTX, SkBuff.vlanPresent).jmpImm('JNE', R1, 0, 'pass');
}

/** Falls through for an NS (hop limit 255, code 0) whose target is in the map; else goes to pass. */
function matchSolicitation(asm: Assembler): void {
  asm
    .mov64Reg(R1, DATA)
    .alu64Imm('ADD', R1, SOLICITATION_MIN_FRAME)
    .jmpReg('JGT', R1, DATA_END, 'pass')
    .ldx('H', R1, DATA, F.etherType)
    .jmpImm('JNE', R1, le(EtherType.IPv6 >> 8, EtherType.IPv6 & 0xff), 'pass')
    .ldx('B', R1, DATA, F.nextHeader)
    .jmpImm('JNE', R1, IpProtocol.Icmpv6, 'pass')
    .ldx('B', R1, DATA, F.hopLimit) // RFC 4861 §7.1.1: hop limit 255, so it never crossed a router
    .jmpImm('JNE', R1, 255, 'pass')
    .ldx('H', R1, DATA, F.icmpv6) // type 135 and code 0 in one load
    .jmpImm('JNE', R1, le(Icmpv6Type.NeighborSolicitation, 0), 'pass')
    .ldMap(R1, 'targets')
    .mov64Reg(R2, DATA)
    .alu64Imm('ADD', R2, F.target)
    .call(Helper.mapLookupElem)
    .jmpImm('JEQ', R0, 0, 'pass');
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

/** Goes to defer unless the NS has the one shape answered here, a valid checksum, and is not our own. */
function checkAnswerable(asm: Assembler, hook: FastPathHook): void {
  asm
    .mov64Reg(R1, DATA)
    .alu64Imm('ADD', R1, ANSWERED_FRAME_LENGTH)
    .jmpReg('JGT', R1, DATA_END, 'defer')
    .jmpReg('JLT', R1, DATA_END, 'defer'); // trailing bytes: let userspace look
  if (hook === 'tc') asm.ldx('W', R1, CTX, SkBuff.len).jmpImm('JNE', R1, ANSWERED_FRAME_LENGTH, 'defer');
  asm
    .ldx('H', R1, DATA, F.payloadLength)
    .jmpImm('JNE', R1, le(0, ANSWERED_ICMPV6_LENGTH), 'defer')
    .ldx('H', R1, DATA, F.option) // one SLLA option of 8 bytes (length 1)
    .jmpImm('JNE', R1, le(NdOptionType.SourceLinkLayerAddress, 1), 'defer')
    .ldx('B', R1, DATA, F.ipv6Source)
    .jmpImm('JEQ', R1, 0xff, 'defer') // a multicast source is invalid
    .ldx('DW', R1, DATA, F.ipv6Source)
    .ldx('DW', R2, DATA, F.ipv6Source + 8)
    .alu64Reg('OR', R1, R2)
    .jmpImm('JEQ', R1, 0, 'defer'); // DAD probe (source ::): its NA goes to ff02::1 with S=0
  pseudoHeaderTail(asm);
  sumMessage(asm);
  asm.jmpImm('JNE', R0, 0xffff, 'defer'); // RFC 4861 §7.1.1: the checksum must be valid
  asm
    .st('W', R10, STACK_CONFIG_KEY, 0)
    .mov64Reg(R2, R10)
    .alu64Imm('ADD', R2, STACK_CONFIG_KEY)
    .ldMap(R1, 'config')
    .call(Helper.mapLookupElem)
    .jmpImm('JEQ', R0, 0, 'defer')
    .mov64Reg(CONFIG, R0)
    .ldx('W', R1, DATA, F.ethernetSource) // a frame from our own MAC is ignored, not answered
    .ldx('W', R2, CONFIG, 0)
    .jmpReg('JNE', R1, R2, 'not-own')
    .ldx('H', R1, DATA, F.ethernetSource + 4)
    .ldx('H', R2, CONFIG, 4)
    .jmpReg('JEQ', R1, R2, 'defer')
    .label('not-own');
}

/** The pseudo-header's last 8 bytes on the stack: upper-layer length 32 (be32), zeros, next header 58. */
function pseudoHeaderTail(asm: Assembler): void {
  asm
    .st('DW', R10, STACK_PSEUDO_TAIL, 0)
    .st('B', R10, STACK_PSEUDO_TAIL + 3, ANSWERED_ICMPV6_LENGTH)
    .st('B', R10, STACK_PSEUDO_TAIL + 7, IpProtocol.Icmpv6);
}

/**
 * r0 = the folded (not complemented) one's-complement sum of the pseudo-header and the ICMPv6
 * message, in the byte order a 16-bit store writes back (0xffff when the checksum is valid).
 * The addresses and the message are contiguous (bytes 22..86), so one bpf_csum_diff covers them.
 */
function sumMessage(asm: Assembler): void {
  asm
    .mov64Imm(R1, 0)
    .mov64Imm(R2, 0)
    .mov64Reg(R3, R10)
    .alu64Imm('ADD', R3, STACK_PSEUDO_TAIL)
    .mov64Imm(R4, 8)
    .mov64Imm(R5, 0)
    .call(Helper.csumDiff)
    .mov64Reg(R5, R0)
    .mov64Imm(R1, 0)
    .mov64Imm(R2, 0)
    .mov64Reg(R3, DATA)
    .alu64Imm('ADD', R3, F.ipv6Source)
    .mov64Imm(R4, ANSWERED_FRAME_LENGTH - F.ipv6Source)
    .call(Helper.csumDiff)
    .jmpImm('JSLT', R0, 0, 'defer')
    .mov32Reg(R0, R0);
  for (let fold = 0; fold < 2; fold++) {
    asm.mov64Reg(R1, R0).alu64Imm('RSH', R1, 16).alu64Imm('AND', R0, 0xffff).alu64Reg('ADD', R0, R1);
  }
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
  sumMessage(asm); // the pseudo-header tail is still on the stack: same length, same next header
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
