/**
 * A tiny classic-BPF interpreter for unit tests: runs a generated filter over
 * fixture frames the way the kernel's packet socket would (out-of-range loads
 * and division by zero return 0; ancillary pkt_type is a parameter).
 */
import { Bpf, BpfInstruction, SKF_AD_OFF, SKF_AD_PKTTYPE } from '../../src/wire/bpf-assembler';

/** What the kernel would know about the frame besides its bytes. */
export interface BpfContext {
  /** skb->pkt_type: 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing. */
  pktType?: number;
}

/** Registers and scratch memory of one run. */
interface Machine {
  a: number;
  x: number;
  mem: number[];
}

/** Loads at or above this unsigned offset read skb metadata, not packet bytes. */
const ANCILLARY_BASE = SKF_AD_OFF >>> 0;

/** Reads `size` bytes big-endian at unsigned `at`, or undefined when out of the packet (kernel: return 0). */
function load(packet: Uint8Array, at: number, size: number, context: BpfContext): number | undefined {
  if (at >= ANCILLARY_BASE) {
    if (at === (SKF_AD_OFF + SKF_AD_PKTTYPE) >>> 0) return context.pktType ?? 0;
    throw new Error(`unsupported ancillary load ${at}`);
  }
  if (at < 0 || at + size > packet.length) return undefined;
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + (packet[at + i] ?? 0);
  return value >>> 0;
}

/** Width in bytes of a BPF_LD size field. */
function sizeOf(code: number): number {
  const size = code & 0x18;
  return size === Bpf.B ? 1 : size === Bpf.H ? 2 : 4;
}

/** Applies a BPF_ALU operation; undefined on division by zero (kernel: return 0). */
function alu(op: number, a: number, operand: number): number | undefined {
  switch (op) {
    case Bpf.ADD: return (a + operand) >>> 0;
    case Bpf.SUB: return (a - operand) >>> 0;
    case Bpf.MUL: return Math.imul(a, operand) >>> 0;
    case Bpf.DIV: return operand === 0 ? undefined : Math.floor(a / operand) >>> 0;
    case Bpf.MOD: return operand === 0 ? undefined : (a % operand) >>> 0;
    case Bpf.OR: return (a | operand) >>> 0;
    case Bpf.AND: return (a & operand) >>> 0;
    case Bpf.XOR: return (a ^ operand) >>> 0;
    case Bpf.LSH: return operand >= 32 ? 0 : (a << operand) >>> 0;
    case Bpf.RSH: return operand >= 32 ? 0 : a >>> operand;
    case Bpf.NEG: return -a >>> 0;
    default: throw new Error(`unsupported ALU op ${op}`);
  }
}

/** Evaluates a conditional jump's predicate. */
function condition(op: number, a: number, operand: number): boolean {
  switch (op) {
    case Bpf.JEQ: return a === operand;
    case Bpf.JGT: return a > operand;
    case Bpf.JGE: return a >= operand;
    case Bpf.JSET: return (a & operand) !== 0;
    default: throw new Error(`unsupported jump op ${op}`);
  }
}

/** Executes a load class instruction (LD/LDX); returns false when the packet is too short. */
function execLoad(m: Machine, [code, , , k]: BpfInstruction, packet: Uint8Array, context: BpfContext): boolean {
  const mode = code & 0xe0;
  let value: number | undefined;
  if (mode === Bpf.IMM) value = k >>> 0;
  else if (mode === Bpf.LEN) value = packet.length;
  else if (mode === Bpf.MEM) value = m.mem[k] ?? 0;
  else if (mode === Bpf.ABS) value = load(packet, k >>> 0, sizeOf(code), context);
  else if (mode === Bpf.IND) value = load(packet, m.x + k, sizeOf(code), context);
  else if (mode === Bpf.MSH) value = ((load(packet, k, 1, context) ?? NaN) & 0x0f) * 4;
  if (value === undefined || Number.isNaN(value)) return false;
  if ((code & 0x07) === Bpf.LD) m.a = value;
  else m.x = value;
  return true;
}

/** Runs `program` over `packet`; returns the accepted length (0 = drop), as the kernel would. */
export function runBpf(program: readonly BpfInstruction[], packet: Uint8Array, context: BpfContext = {}): number {
  const m: Machine = { a: 0, x: 0, mem: new Array<number>(16).fill(0) };
  for (let pc = 0; pc < program.length; pc++) {
    const insn = program[pc] as BpfInstruction;
    const [code, jt, jf, k] = insn;
    const operand = (code & Bpf.X) !== 0 ? m.x : k >>> 0;
    switch (code & 0x07) {
      case Bpf.LD:
      case Bpf.LDX:
        if (!execLoad(m, insn, packet, context)) return 0;
        break;
      case Bpf.ST: m.mem[k] = m.a; break;
      case Bpf.STX: m.mem[k] = m.x; break;
      case Bpf.ALU: {
        const result = alu(code & 0xf0, m.a, operand);
        if (result === undefined) return 0;
        m.a = result;
        break;
      }
      case Bpf.JMP:
        if ((code & 0xf0) === Bpf.JA) pc += k;
        else pc += condition(code & 0xf0, m.a, operand) ? jt : jf;
        break;
      case Bpf.RET: return ((code & 0x18) === Bpf.A ? m.a : k) >>> 0;
      case Bpf.MISC: if ((code & 0xf8) === Bpf.TAX) m.x = m.a; else m.a = m.x; break;
    }
  }
  throw new Error('BPF program fell off its end');
}
