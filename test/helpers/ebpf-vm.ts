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
  /** An LPM trie: keys are a u32 prefix length (little-endian) then the data; the longest match wins. */
  readonly lpm?: boolean;
}

/** What a run starts from. */
export interface VmInput {
  readonly hook: 'xdp' | 'tc';
  readonly frame: Uint8Array;
  readonly maps: Readonly<Record<string, VmMap>>;
  readonly ifindex?: number;
  /** What bpf_ktime_get_ns returns (default 0). */
  readonly nowNs?: bigint;
  /** Told the slot of every instruction executed, in order (failure reports trace the path). */
  readonly onStep?: (slot: number) => void;
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
  if (map.lpm === true) return lookupLongestPrefix(map, key);
  if (map.arrayEntries === undefined) return map.entries.get(Buffer.from(key).toString('hex'));
  const index = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
  if (index >= map.arrayEntries) return undefined;
  const name = String(index);
  if (!map.entries.has(name)) map.entries.set(name, new Uint8Array(map.valueSize));
  return map.entries.get(name);
}

/** The entry whose prefix covers the key's data and is the longest of those (BPF_MAP_TYPE_LPM_TRIE). */
function lookupLongestPrefix(map: VmMap, key: Uint8Array): Uint8Array | undefined {
  const wanted = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
  let best: { length: number; value: Uint8Array } | undefined;
  for (const [hexKey, value] of map.entries) {
    const entry = Buffer.from(hexKey, 'hex');
    const length = entry.readUInt32LE(0);
    if (length > wanted || (best !== undefined && length <= best.length)) continue;
    let covered = true;
    for (let bit = 0; bit < length && covered; bit++) {
      const mask = 0x80 >> (bit % 8);
      covered = (entry[4 + (bit >> 3)]! & mask) === (key[4 + (bit >> 3)]! & mask);
    }
    if (covered) best = { length, value };
  }
  return best?.value;
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

/** Byte swap of the low `bits` of v (BPF_END to big-endian on a little-endian host). */
function swap(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** One run: registers, stack, context and the frame being rewritten. */
class Machine {
  readonly frame: Uint8Array;
  readonly regs: Value[] = new Array<Value>(11).fill(0n);
  redirectedTo: number | undefined;
  private readonly ctx = new Uint8Array(256);
  private readonly mapAt: Map<number, string>;

  constructor(
    private readonly program: AssembledProgram,
    private readonly input: VmInput,
  ) {
    this.frame = Uint8Array.from(input.frame);
    this.regs[1] = { region: this.ctx, offset: 0 };
    this.regs[10] = { region: new Uint8Array(512), offset: 512 };
    this.mapAt = new Map(program.maps.map(({ slot, map }) => [slot, map]));
  }

  /** Executes the slot at `pc`; returns the next pc, or the return value after exit. */
  step(pc: number): { next: number } | { retval: number } {
    const insn = this.program.instructions[pc];
    if (insn === undefined) throw new Error(`fell off the program at ${pc}`);
    const cls = insn.code & 0x07;
    if (insn.code === Opcode.LDDW) return { next: this.wideLoad(insn, pc) };
    if (insn.code === Opcode.CALL) {
      this.regs[0] = this.call(insn.imm);
      for (let r = 1; r <= 5; r++) this.regs[r] = 0n;
    } else if (insn.code === Opcode.EXIT) {
      return { retval: Number(BigInt.asIntN(32, scalar(this.regs[0] as Value, 'r0'))) };
    } else if (cls === InsnClass.ALU64 || cls === InsnClass.ALU) {
      this.alu(insn, cls === InsnClass.ALU64 ? 64 : 32);
    } else if (cls === InsnClass.LDX) {
      const base = this.regs[insn.src] as Value;
      const inCtx = isPointer(base) && base.region === this.ctx;
      this.regs[insn.dst] = inCtx ? this.ctxLoad(base.offset + insn.off) : read(at(base, insn.off), SIZE_BYTES[sizeName(insn.code)]);
    } else if (cls === InsnClass.ST || cls === InsnClass.STX) {
      if ((insn.code & 0xe0) !== Mode.MEM) throw new Error('atomic stores not modelled');
      const value = cls === InsnClass.ST ? BigInt.asUintN(64, BigInt(insn.imm)) : scalar(this.regs[insn.src] as Value, 'stored value');
      write(at(this.regs[insn.dst] as Value, insn.off), SIZE_BYTES[sizeName(insn.code)], value);
    } else if (cls === InsnClass.JMP || cls === InsnClass.JMP32) {
      const op = insn.code & 0xf0;
      const taken = op === JmpOp.JA || condition(op, this.regs[insn.dst] as Value, this.source(insn), cls === InsnClass.JMP ? 64 : 32);
      if (taken) return { next: pc + 1 + insn.off };
    } else {
      throw new Error(`opcode 0x${insn.code.toString(16)} not supported`);
    }
    return { next: pc + 1 };
  }

  private source(insn: Instruction): Value {
    return (insn.code & Source.X) !== 0 ? (this.regs[insn.src] as Value) : BigInt(insn.imm);
  }

  private wideLoad(insn: Instruction, pc: number): number {
    const map = this.mapAt.get(pc);
    const high = BigInt((this.program.instructions[pc + 1]?.imm ?? 0) >>> 0);
    this.regs[insn.dst] = map !== undefined ? { map } : (high << 32n) | BigInt(insn.imm >>> 0);
    return pc + 2;
  }

  private alu(insn: Instruction, bits: 32 | 64): void {
    const op = insn.code & 0xf0;
    const dst = this.regs[insn.dst] as Value;
    const src = this.source(insn);
    if (op === AluOp.END) {
      const value = BigInt.asUintN(insn.imm, scalar(dst, 'endian operand'));
      this.regs[insn.dst] = (insn.code & Source.X) !== 0 ? swap(value, insn.imm) : value; // little-endian host
    } else if (bits === 64 && op === AluOp.MOV && isPointer(src)) {
      this.regs[insn.dst] = src;
    } else if (bits === 64 && isPointer(dst) && (op === AluOp.ADD || op === AluOp.SUB)) {
      const delta = Number(signed64(scalar(src, 'pointer offset')));
      this.regs[insn.dst] = { region: dst.region, offset: dst.offset + (op === AluOp.ADD ? delta : -delta) };
    } else {
      // An immediate is sign-extended to 64 bits; 32-bit operations then use its low half.
      const b = (insn.code & Source.X) === 0 ? BigInt.asUintN(64, BigInt(insn.imm)) : scalar(src, 'operand');
      this.regs[insn.dst] = aluOp(op, op === AluOp.MOV ? 0n : scalar(dst, 'ALU destination'), b, bits);
    }
  }

  private ctxLoad(offset: number): Value {
    const { hook, ifindex } = this.input;
    const packet = hook === 'xdp' ? XdpMd : SkBuff;
    if (offset === packet.data) return { region: this.frame, offset: 0 };
    if (offset === packet.dataEnd) return { region: this.frame, offset: this.frame.length };
    if (hook === 'tc' && offset === SkBuff.len) return BigInt(this.frame.length);
    if (hook === 'tc' && offset === SkBuff.vlanPresent) return 0n;
    if (hook === 'tc' && offset === SkBuff.ifindex) return BigInt(ifindex ?? 1);
    throw new Error(`context field at ${offset} not modelled`);
  }

  private call(id: number): Value {
    const arg = (r: number): Value => this.regs[r] as Value;
    switch (id) {
      case Helper.mapLookupElem: {
        const ref = arg(1) as { map?: string };
        const map = ref.map === undefined ? undefined : this.input.maps[ref.map];
        if (map === undefined) throw new Error('bpf_map_lookup_elem without a map in r1');
        const value = lookup(map, bytesAt(arg(2), map.keySize));
        return value === undefined ? 0n : { region: value, offset: 0 };
      }
      case Helper.mapUpdateElem: {
        const ref = arg(1) as { map?: string };
        const map = ref.map === undefined ? undefined : this.input.maps[ref.map];
        if (map === undefined) throw new Error('bpf_map_update_elem without a map in r1');
        const key = bytesAt(arg(2), map.keySize);
        const name = map.arrayEntries === undefined ? Buffer.from(key).toString('hex') : String(new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true));
        map.entries.set(name, Uint8Array.from(bytesAt(arg(3), map.valueSize)));
        return 0n;
      }
      case Helper.ktimeGetNs:
        return this.input.nowNs ?? 0n;
      case Helper.csumDiff: {
        const from = bytesAt(arg(1), Number(scalar(arg(2), 'r2')));
        return csumDiff(from, bytesAt(arg(3), Number(scalar(arg(4), 'r4'))), scalar(arg(5), 'r5'));
      }
      case Helper.redirect:
        this.redirectedTo = Number(scalar(arg(1), 'r1'));
        return BigInt(TcAction.REDIRECT);
      default:
        throw new Error(`helper ${id} not modelled`);
    }
  }
}

/** Runs `program` on a copy of `input.frame`. */
export function runEbpf(program: AssembledProgram, input: VmInput): VmResult {
  const machine = new Machine(program, input);
  for (let pc = 0, steps = 1; steps <= MAX_STEPS; steps++) {
    input.onStep?.(pc);
    const outcome = machine.step(pc);
    if ('retval' in outcome) {
      const { redirectedTo } = machine;
      return { retval: outcome.retval, frame: machine.frame, steps, ...(redirectedTo === undefined ? {} : { redirectedTo }) };
    }
    pc = outcome.next;
  }
  throw new Error('too many steps');
}

function at(base: Value, off: number): Pointer {
  if (!isPointer(base)) throw new Error('memory access through a scalar');
  return { region: base.region, offset: base.offset + off };
}

function sizeName(code: number): SizeName {
  const size = code & 0x18;
  return size === Size.W ? 'W' : size === Size.H ? 'H' : size === Size.B ? 'B' : 'DW';
}
