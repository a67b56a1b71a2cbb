/**
 * Readable listings of eBPF programs in the kernel verifier's syntax
 * (kernel/bpf/disasm.c), for test failures and verifier-log reading:
 * `5: if r1 != 0xdd86 goto pc+20 <pass>`.
 */
import type { AssembledProgram } from './assembler';
import type { Instruction } from './instruction';
import { helperName } from './kernel-abi';
import { AluOp, InsnClass, JmpOp, Mode, Opcode, PseudoLoad, Size, Source } from './opcodes';

const ALU_SYMBOL: Readonly<Record<number, string>> = {
  [AluOp.ADD]: '+=', [AluOp.SUB]: '-=', [AluOp.MUL]: '*=', [AluOp.DIV]: '/=', [AluOp.OR]: '|=',
  [AluOp.AND]: '&=', [AluOp.LSH]: '<<=', [AluOp.RSH]: '>>=', [AluOp.MOD]: '%=', [AluOp.XOR]: '^=',
  [AluOp.MOV]: '=', [AluOp.ARSH]: 's>>=',
};

const JMP_SYMBOL: Readonly<Record<number, string>> = {
  [JmpOp.JEQ]: '==', [JmpOp.JGT]: '>', [JmpOp.JGE]: '>=', [JmpOp.JSET]: '&', [JmpOp.JNE]: '!=',
  [JmpOp.JSGT]: 's>', [JmpOp.JSGE]: 's>=', [JmpOp.JLT]: '<', [JmpOp.JLE]: '<=', [JmpOp.JSLT]: 's<', [JmpOp.JSLE]: 's<=',
};

const SIZE_NAME: Readonly<Record<number, string>> = { [Size.W]: 'u32', [Size.H]: 'u16', [Size.B]: 'u8', [Size.DW]: 'u64' };

/** What the listing knows besides the instructions: label and map names by slot. */
interface Names {
  readonly labelAt: ReadonlyMap<number, string[]>;
  readonly mapAt: ReadonlyMap<number, string>;
}

const hex = (value: number): string => `0x${(value >>> 0).toString(16)}`;
const signed = (value: number): string => (value < 0 ? `${value}` : `+${value}`);
const memory = (insn: Instruction, base: number): string => `*(${SIZE_NAME[insn.code & 0x18]} *)(r${base} ${signed(insn.off)})`;

function alu(insn: Instruction): string {
  const wide = (insn.code & 0x07) === InsnClass.ALU64;
  const r = wide ? 'r' : 'w';
  const op = insn.code & 0xf0;
  if (op === AluOp.END) {
    const order = (insn.code & Source.X) !== 0 ? 'be' : 'le';
    return `r${insn.dst} = ${order}${insn.imm} r${insn.dst}`;
  }
  if (op === AluOp.NEG) return `${r}${insn.dst} = -${r}${insn.dst}`;
  const symbol = ALU_SYMBOL[op] ?? `<alu ${hex(op)}>`;
  const operand = (insn.code & Source.X) !== 0 ? `${r}${insn.src}` : `${insn.imm}`;
  return `${r}${insn.dst} ${symbol} ${operand}`;
}

function jump(insn: Instruction, slot: number, names: Names): string {
  const op = insn.code & 0xf0;
  if (insn.code === Opcode.CALL) return `call ${helperName(insn.imm) ?? 'helper'}#${insn.imm}`;
  if (insn.code === Opcode.EXIT) return 'exit';
  const target = names.labelAt.get(slot + 1 + insn.off)?.[0];
  const where = `goto pc${signed(insn.off)}${target === undefined ? '' : ` <${target}>`}`;
  if (op === JmpOp.JA) return where;
  const r = (insn.code & 0x07) === InsnClass.JMP32 ? 'w' : 'r';
  const operand = (insn.code & Source.X) !== 0 ? `${r}${insn.src}` : hex(insn.imm);
  return `if ${r}${insn.dst} ${JMP_SYMBOL[op] ?? `<jmp ${hex(op)}>`} ${operand} ${where}`;
}

function wideLoad(insn: Instruction, next: Instruction | undefined, slot: number, names: Names): string {
  if (insn.src === PseudoLoad.MAP_FD) return `r${insn.dst} = map[${names.mapAt.get(slot) ?? `fd:${insn.imm}`}]`;
  const value = (BigInt(next?.imm ?? 0) << 32n) | BigInt(insn.imm >>> 0);
  return `r${insn.dst} = 0x${BigInt.asUintN(64, value).toString(16)} ll`;
}

/** One instruction in verifier syntax (`next` is the second half of an lddw). */
export function formatInstruction(insn: Instruction, slot = 0, next?: Instruction, names: Partial<Names> = {}): string {
  const all: Names = { labelAt: names.labelAt ?? new Map(), mapAt: names.mapAt ?? new Map() };
  const mode = insn.code & 0xe0;
  switch (insn.code & 0x07) {
    case InsnClass.ALU:
    case InsnClass.ALU64:
      return alu(insn);
    case InsnClass.JMP:
    case InsnClass.JMP32:
      return jump(insn, slot, all);
    case InsnClass.LDX:
      return `r${insn.dst} = ${memory(insn, insn.src)}`;
    case InsnClass.ST:
      return `${memory(insn, insn.dst)} = ${insn.imm}`;
    case InsnClass.STX:
      if (mode === Mode.ATOMIC) return `lock ${memory(insn, insn.dst)} += r${insn.src}`;
      return `${memory(insn, insn.dst)} = r${insn.src}`;
    default:
      if (insn.code === Opcode.LDDW) return wideLoad(insn, next, slot, all);
      return `<unknown opcode ${hex(insn.code)}>`;
  }
}

/** A numbered listing, with each label on its own line before the slot it marks. */
export function disassemble(program: AssembledProgram | readonly Instruction[]): string {
  const instructions = 'instructions' in program ? program.instructions : program;
  const labelAt = new Map<number, string[]>();
  const mapAt = new Map<number, string>();
  if ('instructions' in program) {
    for (const [name, slot] of program.labels) labelAt.set(slot, [...(labelAt.get(slot) ?? []), name]);
    for (const { slot, map } of program.maps) mapAt.set(slot, map);
  }
  const width = String(Math.max(0, instructions.length - 1)).length;
  const lines: string[] = [];
  for (let slot = 0; slot < instructions.length; slot++) {
    const insn = instructions[slot] as Instruction;
    for (const name of labelAt.get(slot) ?? []) lines.push(`${name}:`);
    lines.push(`${String(slot).padStart(width)}: ${formatInstruction(insn, slot, instructions[slot + 1], { labelAt, mapAt })}`);
    if (insn.code === Opcode.LDDW) slot++; // the second half has no listing of its own
  }
  return lines.join('\n');
}
