/**
 * A small eBPF interpreter for unit tests: runs a generated program over a
 * fixture frame the way the kernel would after the verifier accepted it, with
 * maps as JS tables and the few helpers the fast path calls. Pointers are
 * (region, offset) pairs, so an out-of-bounds access throws instead of reading
 * garbage; the root-only tests check that the kernel agrees.
 */
import type { AssembledProgram } from '../../src/wire/ebpf/assembler';
import type { Instruction } from '../../src/wire/ebpf/instruction';
import { Helper, SkBuff, TcAction, XdpMd } from '../../src/wire/ebpf/kernel-abi';
import { AluOp, InsnClass, JmpOp, Mode, Opcode, SIZE_BYTES, Size, Source, type SizeName } from '../../src/wire/ebpf/opcodes';

/** A map the program may look up: hash keys by hex, or an array of values. */
export interface VmMap {
  readonly keySize: number;
  readonly valueSize: number;
  readonly entries: Map<string, Uint8Array>;
  /** Arrays: every index below maxEntries exists (created zeroed on first use). */
  readonly arrayEntries?: number;
}

/** What a run starts from. */
export interface VmInput {
  readonly hook: 'xdp' | 'tc';
  readonly frame: Uint8Array;
  readonly maps: Readonly<Record<string, VmMap>>;
  readonly ifindex?: number;
}

/** What a run ends with. */
export interface VmResult {
  readonly retval: number;
  /** The frame after the program's writes. */
  readonly frame: Uint8Array;
  /** ifindex passed to bpf_redirect, if called. */
  readonly redirectedTo?: number;
  readonly steps: number;
}

interface Pointer {
  readonly region: Uint8Array;
  readonly offset: number;
}
type Value = bigint | Pointer | { readonly map: string };

const MASK64 = (1n << 64n) - 1n;
const MAX_STEPS = 100_000;

const isPointer = (v: Value): v is Pointer => typeof v === 'object' && 'region' in v;
const scalar = (v: Value, what: string): bigint => {
  if (typeof v !== 'bigint') throw new Error(`${what} is a pointer, not a scalar`);
  return v;
};
const signed64 = (v: bigint): bigint => BigInt.asIntN(64, v);

function read(p: Pointer, size: number): bigint {
  if (p.offset < 0 || p.offset + size > p.region.length) throw new Error(`out-of-bounds read of ${size} at ${p.offset}`);
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(p.region[p.offset + i] ?? 0);
  return v;
}

function write(p: Pointer, size: number, value: bigint): void {
  if (p.offset < 0 || p.offset + size > p.region.length) throw new Error(`out-of-bounds write of ${size} at ${p.offset}`);
  for (let i = 0; i < size; i++) p.region[p.offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

/** One's-complement 32-bit sum of little-endian 16-bit words, as csum_partial would fold it. */
function csumDiff(from: Uint8Array, to: Uint8Array, seed: bigint): bigint {
  let acc = Number(seed & 0xffffffffn);
  for (let i = 0; i + 1 < to.length; i += 2) acc += (to[i] ?? 0) | ((to[i + 1] ?? 0) << 8);
  for (let i = 0; i + 1 < from.length; i += 2) acc += ~((from[i] ?? 0) | ((from[i + 1] ?? 0) << 8)) & 0xffff;
  while (acc > 0xffffffff) acc = (acc % 0x100000000) + Math.floor(acc / 0x100000000);
  return BigInt(acc);
}

function lookup(map: VmMap, key: Uint8Array): Uint8Array | undefined {
  if (map.arrayEntries === undefined) return map.entries.get(Buffer.from(key).toString('hex'));
  const index = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
  if (index >= map.arrayEntries) return undefined;
  const name = String(index);
  if (!map.entries.has(name)) map.entries.set(name, new Uint8Array(map.valueSize));
  return map.entries.get(name);
}

function bytesAt(p: Value, length: number): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  if (!isPointer(p) || p.offset < 0 || p.offset + length > p.region.length) throw new Error('helper argument out of bounds');
  return p.region.subarray(p.offset, p.offset + length);
}

function aluOp(op: number, a: bigint, b: bigint, bits: 32 | 64): bigint {
  const mask = bits === 64 ? MASK64 : 0xffffffffn;
  const shift = b & BigInt(bits - 1);
  switch (op) {
    case AluOp.ADD: return (a + b) & mask;
    case AluOp.SUB: return (a - b) & mask;
    case AluOp.MUL: return (a * b) & mask;
    case AluOp.OR: return (a | b) & mask;
    case AluOp.AND: return a & b & mask;
    case AluOp.XOR: return (a ^ b) & mask;
    case AluOp.LSH: return (a << shift) & mask;
    case AluOp.RSH: return (a & mask) >> shift;
    case AluOp.MOV: return b & mask;
    case AluOp.NEG: return -a & mask;
    case AluOp.ARSH: return (bits === 64 ? BigInt.asIntN(64, a) : BigInt.asIntN(32, a)) >> shift & mask;
    default: throw new Error(`ALU op 0x${op.toString(16)} not supported`);
  }
}

function condition(op: number, a: Value, b: Value, bits: 32 | 64): boolean {
  if (isPointer(a) || isPointer(b)) {
    if (!isPointer(a) || !isPointer(b)) {
      // Only a null check makes sense, and a pointer is never null.
      if ((op === JmpOp.JEQ || op === JmpOp.JNE) && (a === 0n || b === 0n)) return op === JmpOp.JNE;
      throw new Error('comparing a pointer with a scalar');
    }
    if (a.region !== b.region) throw new Error('comparing pointers into different regions');
    return condition(op, BigInt(a.offset), BigInt(b.offset), 64);
  }
  if (typeof a !== 'bigint' || typeof b !== 'bigint') return op === JmpOp.JNE; // map refs are never null
  const mask = bits === 64 ? MASK64 : 0xffffffffn;
  const [ua, ub] = [a & mask, b & mask];
  const [sa, sb] = bits === 64 ? [signed64(ua), signed64(ub)] : [BigInt.asIntN(32, ua), BigInt.asIntN(32, ub)];
  const table: Record<number, boolean> = {
    [JmpOp.JEQ]: ua === ub, [JmpOp.JNE]: ua !== ub, [JmpOp.JGT]: ua > ub, [JmpOp.JGE]: ua >= ub,
    [JmpOp.JLT]: ua < ub, [JmpOp.JLE]: ua <= ub, [JmpOp.JSET]: (ua & ub) !== 0n, [JmpOp.JSGT]: sa > sb,
    [JmpOp.JSGE]: sa >= sb, [JmpOp.JSLT]: sa < sb, [JmpOp.JSLE]: sa <= sb,
  };
  const result = table[op];
  if (result === undefined) throw new Error(`jump op 0x${op.toString(16)} not supported`);
  return result;
}

/** Runs `program` on a copy of `input.frame`. */
export function runEbpf(program: AssembledProgram, input: VmInput): VmResult {
  const frame = Uint8Array.from(input.frame);
  const stack = new Uint8Array(512);
  const ctx = new Uint8Array(256);
  const regs: Value[] = new Array<Value>(11).fill(0n);
  regs[1] = { region: ctx, offset: 0 };
  regs[10] = { region: stack, offset: 512 };
  const mapAt = new Map(program.maps.map(({ slot, map }) => [slot, map]));
  const insns = program.instructions;
  let redirectedTo: number | undefined;

  const ctxLoad = (offset: number): Value => {
    const packet = input.hook === 'xdp' ? XdpMd : SkBuff;
    if (offset === packet.data) return { region: frame, offset: 0 };
    if (offset === packet.dataEnd) return { region: frame, offset: frame.length };
    if (input.hook === 'tc' && offset === SkBuff.len) return BigInt(frame.length);
    if (input.hook === 'tc' && offset === SkBuff.vlanPresent) return 0n;
    if (input.hook === 'tc' && offset === SkBuff.ifindex) return BigInt(input.ifindex ?? 1);
    throw new Error(`context field at ${offset} not modelled`);
  };

  const call = (id: number): Value => {
    switch (id) {
      case Helper.mapLookupElem: {
        const ref = regs[1] as { map?: string };
        const map = ref.map === undefined ? undefined : input.maps[ref.map];
        if (map === undefined) throw new Error('bpf_map_lookup_elem without a map in r1');
        const key = bytesAt(regs[2] as Value, map.keySize);
        const value = lookup(map, key);
        return value === undefined ? 0n : { region: value, offset: 0 };
      }
      case Helper.csumDiff:
        return csumDiff(bytesAt(regs[1] as Value, Number(scalar(regs[2] as Value, 'r2'))), bytesAt(regs[3] as Value, Number(scalar(regs[4] as Value, 'r4'))), scalar(regs[5] as Value, 'r5'));
      case Helper.redirect:
        redirectedTo = Number(scalar(regs[1] as Value, 'r1'));
        return BigInt(TcAction.REDIRECT);
      default:
        throw new Error(`helper ${id} not modelled`);
    }
  };

  for (let pc = 0, steps = 0; ; pc++, steps++) {
    if (steps > MAX_STEPS) throw new Error('too many steps');
    const insn = insns[pc] as Instruction | undefined;
    if (insn === undefined) throw new Error(`fell off the program at ${pc}`);
    const cls = insn.code & 0x07;
    const src = (insn.code & Source.X) !== 0 ? (regs[insn.src] as Value) : BigInt(insn.imm);
    if (insn.code === Opcode.LDDW) {
      const map = mapAt.get(pc);
      regs[insn.dst] = map !== undefined ? { map } : ((BigInt((insns[pc + 1]?.imm ?? 0) >>> 0) << 32n) | BigInt(insn.imm >>> 0));
      pc++;
    } else if (cls === InsnClass.ALU64 || cls === InsnClass.ALU) {
      const op = insn.code & 0xf0;
      const dst = regs[insn.dst] as Value;
      if (op === AluOp.END) {
        regs[insn.dst] = BigInt.asUintN(insn.imm, scalar(dst, 'endian operand')); // little-endian host: to-le truncates
        if ((insn.code & Source.X) !== 0) throw new Error('to-be swaps not modelled');
      } else if (cls === InsnClass.ALU64 && op === AluOp.MOV && isPointer(src)) {
        regs[insn.dst] = src;
      } else if (cls === InsnClass.ALU64 && isPointer(dst) && (op === AluOp.ADD || op === AluOp.SUB)) {
        const delta = Number(signed64(scalar(src, 'pointer offset')));
        regs[insn.dst] = { region: dst.region, offset: dst.offset + (op === AluOp.ADD ? delta : -delta) };
      } else {
        const b = typeof src === 'bigint' && (insn.code & Source.X) === 0 ? BigInt.asUintN(64, BigInt.asIntN(32, src)) : scalar(src, 'operand');
        regs[insn.dst] = aluOp(op, op === AluOp.MOV ? 0n : scalar(dst, 'ALU destination'), b, cls === InsnClass.ALU64 ? 64 : 32);
      }
    } else if (cls === InsnClass.LDX) {
      const base = regs[insn.src] as Value;
      const size = SIZE_BYTES[sizeName(insn.code)];
      regs[insn.dst] = isPointer(base) && base.region === ctx ? ctxLoad(base.offset + insn.off) : read(at(base, insn.off), size);
    } else if (cls === InsnClass.ST || cls === InsnClass.STX) {
      if ((insn.code & 0xe0) !== Mode.MEM) throw new Error('atomic stores not modelled');
      const value = cls === InsnClass.ST ? BigInt.asUintN(64, BigInt(insn.imm)) : scalar(regs[insn.src] as Value, 'stored value');
      write(at(regs[insn.dst] as Value, insn.off), SIZE_BYTES[sizeName(insn.code)], value);
    } else if (insn.code === Opcode.CALL) {
      regs[0] = call(insn.imm);
      for (let r = 1; r <= 5; r++) regs[r] = 0n;
    } else if (insn.code === Opcode.EXIT) {
      const retval = Number(BigInt.asIntN(32, scalar(regs[0] as Value, 'r0')));
      return { retval, frame, steps, ...(redirectedTo === undefined ? {} : { redirectedTo }) };
    } else if (cls === InsnClass.JMP || cls === InsnClass.JMP32) {
      const op = insn.code & 0xf0;
      if (op === JmpOp.JA || condition(op, regs[insn.dst] as Value, src, cls === InsnClass.JMP ? 64 : 32)) pc += insn.off;
    } else {
      throw new Error(`opcode 0x${insn.code.toString(16)} not supported`);
    }
  }
}

function at(base: Value, off: number): Pointer {
  if (!isPointer(base)) throw new Error('memory access through a scalar');
  return { region: base.region, offset: base.offset + off };
}

function sizeName(code: number): SizeName {
  const size = code & 0x18;
  return size === Size.W ? 'W' : size === Size.H ? 'H' : size === Size.B ? 'B' : 'DW';
}
