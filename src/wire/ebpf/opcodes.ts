/**
 * eBPF opcode fields (RFC 9669, "BPF Instruction Set Architecture"; Linux
 * include/uapi/linux/bpf.h and bpf_common.h). An opcode byte is a class in
 * bits 0-2 plus, per class, either operation and source bits (ALU, JMP) or
 * size and mode bits (loads and stores).
 */

/** Instruction classes, the low three bits of the opcode. */
export const InsnClass = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** Access sizes of loads and stores (bits 3-4). */
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

/** A load/store size: word (4 bytes), half word, byte or double word. */
export type SizeName = keyof typeof Size;

/** Width in bytes of each access size. */
export const SIZE_BYTES: Readonly<Record<SizeName, number>> = { W: 4, H: 2, B: 1, DW: 8 };

/** Load/store modes (bits 5-7). ABS and IND are the legacy packet loads; ATOMIC pairs with STX. */
export const Mode = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;

/** Operand source (bit 3) of ALU and JMP: K is the 32-bit immediate, X the src register. */
export const Source = { K: 0x00, X: 0x08 } as const;

/** ALU operations (bits 4-7); END is the byte swap, whose source bit picks the target order. */
export const AluOp = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;

/** An ALU operation other than the byte swap, which has its own builder method. */
export type AluOpName = Exclude<keyof typeof AluOp, 'END'>;

/** Byte-swap targets for AluOp.END (in the source bit): little- or big-endian. */
export const Endian = { TO_LE: 0x00, TO_BE: 0x08 } as const;

/** Jump operations (bits 4-7). JLT..JSLE came with eBPF; CALL and EXIT live in the JMP class. */
export const JmpOp = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
} as const;

/** A conditional jump: every JmpOp except JA, CALL and EXIT. */
export type JmpCondition = Exclude<keyof typeof JmpOp, 'JA' | 'CALL' | 'EXIT'>;

/** Operations of STX|ATOMIC in the imm field; FETCH (0x01) returns the old value in src. */
export const AtomicOp = { ADD: 0x00, OR: 0x40, AND: 0x50, XOR: 0xa0, FETCH: 0x01 } as const;

/** Registers: r0 return value, r1-r5 arguments (clobbered by calls), r6-r9 callee-saved, r10 frame pointer. */
export const Reg = { R0: 0, R1: 1, R2: 2, R3: 3, R4: 4, R5: 5, R6: 6, R7: 7, R8: 8, R9: 9, R10: 10 } as const;

/** src_reg values of the 16-byte LD|IMM|DW that tell the loader what imm means. */
export const PseudoLoad = {
  /** imm is a plain 64-bit constant. */
  NONE: 0,
  /** imm is a map file descriptor, replaced by the map's address at load time. */
  MAP_FD: 1,
  /** imm is a map fd, the second half's imm an offset into its value. */
  MAP_VALUE: 2,
} as const;

/** Opcodes the assembler and disassembler refer to by name. */
export const Opcode = {
  LDDW: InsnClass.LD | Size.DW | Mode.IMM,
  CALL: InsnClass.JMP | JmpOp.CALL,
  EXIT: InsnClass.JMP | JmpOp.EXIT,
  JA: InsnClass.JMP | JmpOp.JA,
} as const;
