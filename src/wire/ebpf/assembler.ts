/**
 * A two-pass eBPF assembler: builder methods named after the kernel's insn
 * macros (BPF_MOV64_IMM, BPF_LDX_MEM, BPF_JMP_IMM, ...) append slots; jumps
 * name labels, resolved in the second pass to range-checked 16-bit offsets.
 * Map references stay symbolic until {@link bindMaps} patches in the fds.
 */
import {
  AluOp,
  AtomicOp,
  Endian,
  InsnClass,
  JmpOp,
  Mode,
  Opcode,
  PseudoLoad,
  Size,
  Source,
  type AluOpName,
  type JmpCondition,
  type SizeName,
} from './opcodes';
import { checkInstruction, encodeProgram, type Instruction } from './instruction';

/** Why assembling or binding failed. */
export type AssemblerErrorCode = 'duplicate-label' | 'unknown-label' | 'jump-out-of-range' | 'bad-operand' | 'unbound-map';

/** A program that cannot be assembled as written (a bug in its generator), located by slot. */
export class AssemblerError extends Error {
  /** Builds an error naming the code and the slot. */
  constructor(
    readonly code: AssemblerErrorCode,
    readonly slot: number,
    detail: string,
  ) {
    super(`${code} at slot ${slot}: ${detail}`);
    this.name = 'AssemblerError';
  }
}

/** A `ldMap` site: the slot whose imm the map's fd goes into. */
export interface MapReference {
  readonly slot: number;
  readonly map: string;
}

/** The assembler's output: instructions with jumps resolved and map fds still 0. */
export interface AssembledProgram {
  readonly instructions: readonly Instruction[];
  /** Every map reference, in program order. */
  readonly maps: readonly MapReference[];
  /** Slot of every label, for disassembly. */
  readonly labels: ReadonlyMap<string, number>;
}

interface Slot {
  insn: Instruction;
  /** Label a jump goes to; its offset is filled in by assemble(). */
  target?: string;
}

function checkRegister(reg: number, slot: number): void {
  if (!Number.isInteger(reg) || reg < 0 || reg > 10) throw new AssemblerError('bad-operand', slot, `r${reg} is not a register`);
}

/** Builds one program; every method returns `this` so a generator reads like a listing. */
export class Assembler {
  private readonly slots: Slot[] = [];
  private readonly labelSlots = new Map<string, number>();
  private readonly mapRefs: MapReference[] = [];

  /** Slots emitted so far (lddw counts two). */
  get length(): number {
    return this.slots.length;
  }

  /** Marks the next slot as `name`. */
  label(name: string): this {
    if (this.labelSlots.has(name)) throw new AssemblerError('duplicate-label', this.slots.length, `label ${name} is already defined`);
    this.labelSlots.set(name, this.slots.length);
    return this;
  }

  /** dst = imm (sign-extended to 64 bits). */
  mov64Imm(dst: number, imm: number): this {
    return this.alu64Imm('MOV', dst, imm);
  }

  /** dst = src. */
  mov64Reg(dst: number, src: number): this {
    return this.alu64Reg('MOV', dst, src);
  }

  /** wdst = imm; the upper 32 bits become zero. */
  mov32Imm(dst: number, imm: number): this {
    return this.alu32Imm('MOV', dst, imm);
  }

  /** wdst = wsrc; the upper 32 bits become zero (a cheap zero-extension). */
  mov32Reg(dst: number, src: number): this {
    return this.alu32Reg('MOV', dst, src);
  }

  /** dst = dst OP imm, 64-bit. */
  alu64Imm(op: AluOpName, dst: number, imm: number): this {
    return this.emit({ code: InsnClass.ALU64 | AluOp[op] | Source.K, dst, src: 0, off: 0, imm });
  }

  /** dst = dst OP src, 64-bit. */
  alu64Reg(op: AluOpName, dst: number, src: number): this {
    return this.emit({ code: InsnClass.ALU64 | AluOp[op] | Source.X, dst, src, off: 0, imm: 0 });
  }

  /** wdst = wdst OP imm, 32-bit, zero-extending the result. */
  alu32Imm(op: AluOpName, dst: number, imm: number): this {
    return this.emit({ code: InsnClass.ALU | AluOp[op] | Source.K, dst, src: 0, off: 0, imm });
  }

  /** wdst = wdst OP wsrc, 32-bit, zero-extending the result. */
  alu32Reg(op: AluOpName, dst: number, src: number): this {
    return this.emit({ code: InsnClass.ALU | AluOp[op] | Source.X, dst, src, off: 0, imm: 0 });
  }

  /** dst = byte-swap of its low `bits` to big- or little-endian order (a no-op swap still truncates). */
  endian(order: 'be' | 'le', dst: number, bits: 16 | 32 | 64): this {
    const source = order === 'be' ? Endian.TO_BE : Endian.TO_LE;
    return this.emit({ code: InsnClass.ALU | AluOp.END | source, dst, src: 0, off: 0, imm: bits });
  }

  /** dst = *(size *)(src + off), zero-extended. */
  ldx(size: SizeName, dst: number, src: number, off: number): this {
    return this.emit({ code: InsnClass.LDX | Size[size] | Mode.MEM, dst, src, off, imm: 0 });
  }

  /** *(size *)(dst + off) = src. */
  stx(size: SizeName, dst: number, off: number, src: number): this {
    return this.emit({ code: InsnClass.STX | Size[size] | Mode.MEM, dst, src, off, imm: 0 });
  }

  /** *(size *)(dst + off) = imm. */
  st(size: SizeName, dst: number, off: number, imm: number): this {
    return this.emit({ code: InsnClass.ST | Size[size] | Mode.MEM, dst, src: 0, off, imm });
  }

  /** lock *(size *)(dst + off) += src: an atomic add, for counters shared between CPUs. */
  atomicAdd(size: 'W' | 'DW', dst: number, off: number, src: number): this {
    return this.emit({ code: InsnClass.STX | Size[size] | Mode.ATOMIC, dst, src, off, imm: AtomicOp.ADD });
  }

  /** dst = a 64-bit constant (lddw: two slots). */
  lddw(dst: number, value: bigint): this {
    const bits = BigInt.asUintN(64, value);
    const low = Number(BigInt.asIntN(32, bits));
    const high = Number(BigInt.asIntN(32, bits >> 32n));
    return this.wide(dst, PseudoLoad.NONE, low, high);
  }

  /** dst = address of map `name` (lddw with BPF_PSEUDO_MAP_FD; the fd is bound later). */
  ldMap(dst: number, name: string): this {
    this.mapRefs.push({ slot: this.slots.length, map: name });
    return this.wide(dst, PseudoLoad.MAP_FD, 0, 0);
  }

  /** if (dst COND imm) goto label, comparing 64 bits. */
  jmpImm(cond: JmpCondition, dst: number, imm: number, label: string): this {
    return this.emit({ code: InsnClass.JMP | JmpOp[cond] | Source.K, dst, src: 0, off: 0, imm }, label);
  }

  /** if (dst COND src) goto label, comparing 64 bits. */
  jmpReg(cond: JmpCondition, dst: number, src: number, label: string): this {
    return this.emit({ code: InsnClass.JMP | JmpOp[cond] | Source.X, dst, src, off: 0, imm: 0 }, label);
  }

  /** if (wdst COND imm) goto label, comparing the low 32 bits. */
  jmp32Imm(cond: JmpCondition, dst: number, imm: number, label: string): this {
    return this.emit({ code: InsnClass.JMP32 | JmpOp[cond] | Source.K, dst, src: 0, off: 0, imm }, label);
  }

  /** if (wdst COND wsrc) goto label, comparing the low 32 bits. */
  jmp32Reg(cond: JmpCondition, dst: number, src: number, label: string): this {
    return this.emit({ code: InsnClass.JMP32 | JmpOp[cond] | Source.X, dst, src, off: 0, imm: 0 }, label);
  }

  /** goto label. */
  ja(label: string): this {
    return this.emit({ code: Opcode.JA, dst: 0, src: 0, off: 0, imm: 0 }, label);
  }

  /** r0 = helper(r1, ..., r5); r1-r5 are clobbered. */
  call(helper: number): this {
    return this.emit({ code: Opcode.CALL, dst: 0, src: 0, off: 0, imm: helper });
  }

  /** return r0. */
  exit(): this {
    return this.emit({ code: Opcode.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** Second pass: resolves every jump to its label. The builder stays usable (and unchanged). */
  assemble(): AssembledProgram {
    const instructions = this.slots.map((slot, index): Instruction => {
      if (slot.target === undefined) return slot.insn;
      const to = this.labelSlots.get(slot.target);
      if (to === undefined) throw new AssemblerError('unknown-label', index, `jump to undefined label ${slot.target}`);
      if (to >= this.slots.length) throw new AssemblerError('unknown-label', index, `label ${slot.target} marks no instruction`);
      const off = to - (index + 1);
      if (off < -0x8000 || off > 0x7fff) throw new AssemblerError('jump-out-of-range', index, `jump to ${slot.target} needs offset ${off}`);
      return { ...slot.insn, off };
    });
    return { instructions, maps: [...this.mapRefs], labels: new Map(this.labelSlots) };
  }

  private wide(dst: number, pseudo: number, low: number, high: number): this {
    this.emit({ code: Opcode.LDDW, dst, src: pseudo, off: 0, imm: low });
    this.slots.push({ insn: { code: 0, dst: 0, src: 0, off: 0, imm: high } });
    return this;
  }

  private emit(insn: Instruction, target?: string): this {
    const slot = this.slots.length;
    checkRegister(insn.dst, slot);
    checkRegister(insn.src, slot); // lddw's pseudo values (1, 2) pass this check too
    try {
      checkInstruction(insn);
    } catch (error) {
      throw new AssemblerError('bad-operand', slot, (error as Error).message);
    }
    this.slots.push(target === undefined ? { insn } : { insn, target });
    return this;
  }
}

/** The final program bytes: `program` with each map reference's imm set to the fd from `fds`. */
export function bindMaps(program: AssembledProgram, fds: Readonly<Record<string, number>>): Uint8Array {
  const instructions = [...program.instructions];
  for (const { slot, map } of program.maps) {
    const fd = fds[map];
    if (fd === undefined || !Number.isInteger(fd) || fd < 0) throw new AssemblerError('unbound-map', slot, `no fd for map ${map}`);
    const insn = instructions[slot];
    if (insn === undefined) throw new AssemblerError('unbound-map', slot, `map ${map} refers past the program`);
    instructions[slot] = { ...insn, imm: fd };
  }
  return encodeProgram(instructions);
}
