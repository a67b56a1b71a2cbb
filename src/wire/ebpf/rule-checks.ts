/**
 * Compiles the shared Neighbour Solicitation rule table (wire/solicitation-rules.ts) into eBPF
 * checks, one block per row, so a row added to the table applies in the kernel too (one home
 * per rule). The kernel answers only the one frame shape it can rewrite in place (untagged
 * Ethernet, no extension headers, one 8-byte SLLA option, unicast source): a row it cannot
 * express for other shapes turns into "not this shape", and every failure jumps to a label the
 * caller names. A failed RFC 4861 §7.1.1 row is never answered nor dropped in the kernel: the
 * frame passes on (XDP_PASS, TCX_NEXT) to the packet socket, where the userspace validator
 * applies the same row and counts the frame under its ignore reason.
 */
import { NdOptionType } from '../nd-options';
import type { FieldRule, NdRule } from '../solicitation-rules';
import { Assembler } from './assembler';
import { ANSWERED_FRAME_LENGTH, ANSWERED_ICMPV6_LENGTH, FrameOffset as F, SOLICITATION_MIN_FRAME, StackSlot, TargetAction } from './fast-path-layout';
import { littleEndianValue as le } from './instruction';
import { Helper, SkBuff } from './kernel-abi';
import { Reg } from './opcodes';
import { pseudoHeaderTail, sumMessage } from './program-checksum';

const { R0, R1, R2, R10 } = Reg;
const STACK_TARGET_KEY = StackSlot.targetKey;

/** Registers the program keeps across the checks. */
export interface CheckRegisters {
  readonly ctx: number;
  readonly data: number;
  readonly dataEnd: number;
  /** Holds the `config` value (our MAC) once the answering checks begin. */
  readonly config: number;
}

/** How the rows compile: for which hook, and where a failing frame goes. */
export interface CheckContext {
  readonly hook: 'xdp' | 'tc';
  readonly regs: CheckRegisters;
  /** Label jumped to when the frame fails a row (or a label per row). */
  readonly fail: string | ((row: NdRule) => string);
}

/** {@link CheckContext} with the one label of the row being emitted. */
interface RowContext extends CheckContext {
  readonly fail: string;
}

/** Where each field layer starts in the one frame shape the kernel handles. */
const LAYER_START: Readonly<Record<'ethernet' | 'ipv6' | 'icmpv6', number>> = { ethernet: 0, ipv6: F.ipv6, icmpv6: F.icmpv6 };

/** Emits the checks of `rows`, in table order (the DAD rows share one check). */
export function emitRuleChecks(asm: Assembler, rows: readonly NdRule[], context: CheckContext): void {
  let dadChecked = false;
  for (const row of rows) {
    const rowContext: RowContext = { ...context, fail: typeof context.fail === 'string' ? context.fail : context.fail(row) };
    if (row.kind === 'dad-destination' || row.kind === 'dad-no-option') {
      if (!dadChecked) refuseDadProbe(asm, rowContext, row.sourceOffset);
      dadChecked = true;
    } else {
      emitRow(asm, row, rowContext);
    }
  }
}

/** One row's block; an unknown kind is a generation error, never a silently skipped check. */
function emitRow(asm: Assembler, row: Exclude<NdRule, { kind: 'dad-destination' | 'dad-no-option' }>, context: RowContext): void {
  const { regs, fail } = context;
  switch (row.kind) {
    case 'field':
      return emitField(asm, row, context);
    case 'header-chain':
      // Only the upper layer directly: a hop-by-hop header (or any other) goes to userspace.
      asm.ldx('B', R1, regs.data, F.ipv6 + row.nextHeaderOffset).jmpImm('JNE', R1, row.upperLayer, fail);
      return;
    case 'target':
      // The `targets` trie's key (prefix length 128, then the target) built on the stack, in
      // 4-byte stores (the stack must be accessed aligned); a PASS entry counts as no match.
      asm.st('W', R10, STACK_TARGET_KEY, 128);
      for (let word = 0; word < 16; word += 4) asm.ldx('W', R1, regs.data, F.icmpv6 + row.offset + word).stx('W', R10, STACK_TARGET_KEY + 4 + word, R1);
      asm
        .ldMap(R1, 'targets')
        .mov64Reg(R2, R10)
        .alu64Imm('ADD', R2, STACK_TARGET_KEY)
        .call(Helper.mapLookupElem)
        .jmpImm('JEQ', R0, 0, fail)
        .ldx('W', R1, R0, 0)
        .jmpImm('JNE', R1, TargetAction.ANSWER, fail);
      return;
    case 'ipv6-payload':
      return requireAnsweredShape(asm, row.lengthOffset, context);
    case 'icmpv6-length':
      // The one shape's message (ANSWERED_ICMPV6_LENGTH, checked with the payload) is long enough.
      if (row.minimum > ANSWERED_ICMPV6_LENGTH) asm.ja(fail);
      return;
    case 'options':
      // One option filling the message, length 1 (8 bytes, > 0, fits), and an SLLA: the rewrite
      // sends the NA to its address and turns it into the TLLA.
      if (row.offset !== F.option - F.icmpv6) throw new RangeError(`options row ${row.name} at an offset the rewrite does not use`);
      asm.ldx('H', R1, regs.data, F.option).jmpImm('JNE', R1, le(NdOptionType.SourceLinkLayerAddress, 1), fail);
      return;
    case 'own-mac':
      asm
        .ldx('W', R1, regs.data, row.offset)
        .ldx('W', R2, regs.config, 0)
        .jmpReg('JNE', R1, R2, `not-own-${row.name}`)
        .ldx('H', R1, regs.data, row.offset + 4)
        .ldx('H', R2, regs.config, 4)
        .jmpReg('JEQ', R1, R2, fail)
        .label(`not-own-${row.name}`);
      return;
    case 'checksum':
      if (row.offset !== F.icmpv6Checksum - F.icmpv6) throw new RangeError(`checksum row ${row.name} at an unexpected offset`);
      pseudoHeaderTail(asm);
      sumMessage(asm, regs.data, fail);
      asm.jmpImm('JNE', R0, 0xffff, fail);
      return;
  }
}

/** `(field & mask) op value`, big-endian as the table states it; `metadata` rows have no eBPF meaning here. */
function emitField(asm: Assembler, row: FieldRule, { regs, fail }: RowContext): void {
  // Socket-filter metadata (packet type "outgoing"): an ingress hook never sees our own sends.
  if (row.layer === 'metadata') return;
  const offset = LAYER_START[row.layer] + row.offset;
  if (offset + row.width > SOLICITATION_MIN_FRAME) {
    asm.mov64Reg(R1, regs.data).alu64Imm('ADD', R1, offset + row.width).jmpReg('JGT', R1, regs.dataEnd, fail);
  }
  const size = row.width === 1 ? 'B' : row.width === 2 ? 'H' : 'W';
  asm.ldx(size, R1, regs.data, offset);
  if (row.width > 1) asm.endian('be', R1, row.width === 2 ? 16 : 32);
  asm.alu32Imm('AND', R1, row.mask | 0);
  // The jump leaves when the row fails: eq fails on "not equal", ne fails on "equal".
  asm.jmp32Imm(row.op === 'eq' ? 'JNE' : 'JEQ', R1, row.value | 0, fail);
}

/**
 * The frame holds exactly the IPv6 header and the payload length it declares, and that length
 * is the one shape's (an NS with one 8-byte option): this row and the shape in one check.
 */
function requireAnsweredShape(asm: Assembler, lengthOffset: number, { hook, regs, fail }: RowContext): void {
  asm
    .mov64Reg(R1, regs.data)
    .alu64Imm('ADD', R1, ANSWERED_FRAME_LENGTH)
    .jmpReg('JGT', R1, regs.dataEnd, fail)
    .jmpReg('JLT', R1, regs.dataEnd, fail); // trailing bytes: let userspace look
  if (hook === 'tc') asm.ldx('W', R1, regs.ctx, SkBuff.len).jmpImm('JNE', R1, ANSWERED_FRAME_LENGTH, fail);
  asm.ldx('H', R1, regs.data, F.ipv6 + lengthOffset).jmpImm('JNE', R1, le(0, ANSWERED_ICMPV6_LENGTH), fail);
}

/** A DAD probe (source ::) goes to userspace: its NA goes to ff02::1 with S=0, and its own rows apply there. */
function refuseDadProbe(asm: Assembler, { regs, fail }: RowContext, sourceOffset: number): void {
  asm
    .ldx('DW', R1, regs.data, F.ipv6 + sourceOffset)
    .ldx('DW', R2, regs.data, F.ipv6 + sourceOffset + 8)
    .alu64Reg('OR', R1, R2)
    .jmpImm('JEQ', R1, 0, fail);
}
