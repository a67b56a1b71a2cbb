/**
 * The ICMPv6 checksum of the one frame shape the fast path handles (RFC 4443 §2.3 over the
 * RFC 8200 §8.1 pseudo-header), shared by the checksum row and the NA rewrite.
 */
import { IpProtocol } from '../ipv6';
import { Assembler } from './assembler';
import { ANSWERED_FRAME_LENGTH, ANSWERED_ICMPV6_LENGTH, FrameOffset as F, StackSlot } from './fast-path-layout';
import { Helper } from './kernel-abi';
import { Reg } from './opcodes';

const { R0, R1, R2, R3, R4, R5, R10 } = Reg;
const STACK_PSEUDO_TAIL = StackSlot.pseudoTail;

/** The pseudo-header's last 8 bytes on the stack: upper-layer length 32 (be32), zeros, next header 58. */
export function pseudoHeaderTail(asm: Assembler): void {
  asm
    .st('DW', R10, STACK_PSEUDO_TAIL, 0)
    .st('B', R10, STACK_PSEUDO_TAIL + 3, ANSWERED_ICMPV6_LENGTH)
    .st('B', R10, STACK_PSEUDO_TAIL + 7, IpProtocol.Icmpv6);
}

/**
 * r0 = the folded (not complemented) one's-complement sum of the pseudo-header and the ICMPv6
 * message, in the byte order a 16-bit store writes back (0xffff when the checksum is valid).
 * The addresses and the message are contiguous (bytes 22..86), so one bpf_csum_diff covers them.
 * Needs {@link pseudoHeaderTail} on the stack; goes to `fail` if the helper refuses.
 */
export function sumMessage(asm: Assembler, data: number, fail: string): void {
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
    .mov64Reg(R3, data)
    .alu64Imm('ADD', R3, F.ipv6Source)
    .mov64Imm(R4, ANSWERED_FRAME_LENGTH - F.ipv6Source)
    .call(Helper.csumDiff)
    .jmpImm('JSLT', R0, 0, fail)
    .mov32Reg(R0, R0);
  for (let fold = 0; fold < 2; fold++) {
    asm.mov64Reg(R1, R0).alu64Imm('RSH', R1, 16).alu64Imm('AND', R0, 0xffff).alu64Reg('ADD', R0, R1);
  }
}
