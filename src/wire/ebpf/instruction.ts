/**
 * The 8-byte eBPF instruction (struct bpf_insn): opcode, dst and src register
 * nibbles, signed 16-bit offset, signed 32-bit immediate. The kernel reads it
 * in host byte order; this encodes for little-endian hosts (x86-64, arm64),
 * where dst is the low nibble of byte 1. The loader refuses big-endian hosts.
 */
import { ensureAvailable } from '../errors';

/** Bytes per instruction slot; LD|IMM|DW (lddw) takes two slots. */
export const INSTRUCTION_SIZE = 8;

/** One instruction slot, every field as the kernel sees it. */
export interface Instruction {
  /** Opcode byte: class | size/mode or class | operation | source. */
  readonly code: number;
  /** Destination register, 0..10. */
  readonly dst: number;
  /** Source register, 0..10 (or a pseudo value for lddw and calls). */
  readonly src: number;
  /** Signed 16-bit offset: jump distance in slots, or memory displacement. */
  readonly off: number;
  /** Signed 32-bit immediate. */
  readonly imm: number;
}

/** Throws RangeError unless every field of `insn` fits its bit width. */
export function checkInstruction(insn: Instruction): void {
  const fits = (value: number, min: number, max: number): boolean => Number.isInteger(value) && value >= min && value <= max;
  if (!fits(insn.code, 0, 0xff)) throw new RangeError(`opcode ${insn.code} is not a byte`);
  if (!fits(insn.dst, 0, 15) || !fits(insn.src, 0, 15)) throw new RangeError(`register out of range: dst ${insn.dst}, src ${insn.src}`);
  if (!fits(insn.off, -0x8000, 0x7fff)) throw new RangeError(`offset ${insn.off} does not fit 16 signed bits`);
  if (!fits(insn.imm, -0x80000000, 0x7fffffff)) throw new RangeError(`immediate ${insn.imm} does not fit 32 signed bits`);
}

/** Bytes one instruction slot takes (always 8). */
export function encodingLength(): number {
  return INSTRUCTION_SIZE;
}

/** Writes `insn` at `offset` (little-endian) and returns the bytes written (8). */
export function encodeInstruction(insn: Instruction, bytes: Uint8Array, offset: number): number {
  checkInstruction(insn);
  ensureAvailable(bytes, offset, INSTRUCTION_SIZE, 'eBPF instruction');
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, INSTRUCTION_SIZE);
  view.setUint8(0, insn.code);
  view.setUint8(1, (insn.src << 4) | insn.dst);
  view.setInt16(2, insn.off, true);
  view.setInt32(4, insn.imm, true);
  return INSTRUCTION_SIZE;
}

/** Reads the instruction slot at `offset`. */
export function decodeInstruction(bytes: Uint8Array, offset: number): Instruction {
  ensureAvailable(bytes, offset, INSTRUCTION_SIZE, 'eBPF instruction');
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, INSTRUCTION_SIZE);
  const regs = view.getUint8(1);
  return { code: view.getUint8(0), dst: regs & 0x0f, src: regs >> 4, off: view.getInt16(2, true), imm: view.getInt32(4, true) };
}

/** Lays out a whole program: slot i at byte 8 * i. */
export function encodeProgram(instructions: readonly Instruction[]): Uint8Array {
  const bytes = new Uint8Array(instructions.length * INSTRUCTION_SIZE);
  instructions.forEach((insn, slot) => encodeInstruction(insn, bytes, slot * INSTRUCTION_SIZE));
  return bytes;
}

/** Splits program bytes back into slots; the length must be a multiple of 8. */
export function decodeProgram(bytes: Uint8Array): Instruction[] {
  if (bytes.length % INSTRUCTION_SIZE !== 0) throw new RangeError(`program length ${bytes.length} is not a multiple of 8`);
  const out: Instruction[] = [];
  for (let offset = 0; offset < bytes.length; offset += INSTRUCTION_SIZE) out.push(decodeInstruction(bytes, offset));
  return out;
}

/**
 * The number a little-endian load of `bytes` (1, 2 or 4 of them) yields, as a signed 32-bit
 * immediate: what a program compares a raw packet load against, e.g. EtherType 0x86dd
 * (bytes 86 dd) loads as 0xdd86.
 */
export function littleEndianValue(...bytes: number[]): number {
  if (bytes.length !== 1 && bytes.length !== 2 && bytes.length !== 4) throw new RangeError('1, 2 or 4 bytes');
  return bytes.reduceRight((value, byte) => {
    if (!Number.isInteger(byte) || byte < 0 || byte > 0xff) throw new RangeError(`${byte} is not a byte`);
    return ((value << 8) | byte) | 0;
  }, 0);
}
