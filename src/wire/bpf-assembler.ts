/**
 * Classic BPF for the packet socket (Linux Documentation/networking/filter.rst): opcodes, a
 * two-pass assembler, the checks the kernel's sk_chk_filter makes, and the struct sock_filter
 * layout. The programs themselves are generated in wire/bpf.ts from the rule tables.
 */

/** One sock_filter: opcode, jump-if-true, jump-if-false (relative, 0..255), constant k (unsigned 32-bit). */
export type BpfInstruction = readonly [code: number, jt: number, jf: number, k: number];

/** Opcode fields of classic BPF (linux/bpf_common.h, linux/filter.h). */
export const Bpf = {
  LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  W: 0x00, H: 0x08, B: 0x10,
  IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0,
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80, MOD: 0x90, XOR: 0xa0,
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  K: 0x00, X: 0x08, A: 0x10,
  TAX: 0x00, TXA: 0x80,
} as const;

/** Ancillary data loads: k = SKF_AD_OFF + field (linux/filter.h). */
export const SKF_AD_OFF = -0x1000;
/** Ancillary field holding skb->pkt_type. */
export const SKF_AD_PKTTYPE = 4;
/** pkt_type of frames this host sends (linux/if_packet.h), seen by packet sockets too. */
export const PACKET_OUTGOING = 4;
/** Accept the whole frame: options follow the target, so never truncate. */
export const ACCEPT_WHOLE_FRAME = 0x40000;
/** Longest program the kernel accepts (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** The named opcode combinations the generated programs use. */
export const Op = {
  LDH_ABS: Bpf.LD | Bpf.H | Bpf.ABS,
  LDB_ABS: Bpf.LD | Bpf.B | Bpf.ABS,
  LDW_ABS: Bpf.LD | Bpf.W | Bpf.ABS,
  LDB_IND: Bpf.LD | Bpf.B | Bpf.IND,
  LDH_IND: Bpf.LD | Bpf.H | Bpf.IND,
  LDW_IND: Bpf.LD | Bpf.W | Bpf.IND,
  ADD_K: Bpf.ALU | Bpf.ADD | Bpf.K,
  AND_K: Bpf.ALU | Bpf.AND | Bpf.K,
  LSH_K: Bpf.ALU | Bpf.LSH | Bpf.K,
  TAX: Bpf.MISC | Bpf.TAX,
  JA: Bpf.JMP | Bpf.JA,
  JEQ_K: Bpf.JMP | Bpf.JEQ | Bpf.K,
  RET_K: Bpf.RET | Bpf.K,
} as const;

/** A jump target: a label name, or a relative offset given directly. */
export type Label = string | number;

interface PendingInstruction {
  code: number;
  jt: Label;
  jf: Label;
  k: number | string;
}

/** A tiny two-pass assembler: forward labels, range-checked 8-bit jumps, 32-bit `ja`. */
export class Assembler {
  private readonly pending: PendingInstruction[] = [];
  private readonly labels = new Map<string, number>();

  /** Names the next instruction. */
  label(name: string): void {
    this.labels.set(name, this.pending.length);
  }

  /** Appends one instruction; jumps may name labels defined later. */
  emit(code: number, k: number, jt: Label = 0, jf: Label = 0): void {
    this.pending.push({ code, jt, jf, k });
  }

  /** Appends an unconditional jump to `label`. */
  jumpAlways(label: string): void {
    this.pending.push({ code: Op.JA, jt: 0, jf: 0, k: label });
  }

  /** Resolves the labels; throws RangeError for a jump that cannot be encoded. */
  assemble(): BpfInstruction[] {
    return this.pending.map((p, pc) => {
      const k = typeof p.k === 'string' ? this.resolve(p.k, pc, 0xffffffff) : p.k >>> 0;
      return [p.code, this.resolve(p.jt, pc, 255), this.resolve(p.jf, pc, 255), k] as const;
    });
  }

  private resolve(target: Label, pc: number, max: number): number {
    if (typeof target === 'number') return target;
    const at = this.labels.get(target);
    const offset = at === undefined ? -1 : at - pc - 1;
    if (offset < 0 || offset > max) throw new RangeError(`BPF jump from ${pc} to ${target} out of range`);
    return offset;
  }
}

/** Checks what the kernel's sk_chk_filter checks that we can get wrong: size, jump ranges, final ret. */
export function validateFilter(program: readonly BpfInstruction[]): void {
  if (program.length === 0 || program.length > BPF_MAXINSNS) {
    throw new RangeError(`BPF program of ${program.length} instructions`);
  }
  program.forEach(([code, jt, jf, k], pc) => {
    const isJump = (code & 0x07) === Bpf.JMP;
    const reach = code === Op.JA ? [k] : isJump ? [jt, jf] : [];
    for (const offset of reach) {
      if (offset < 0 || offset > 0xffffffff || pc + 1 + offset >= program.length) {
        throw new RangeError(`BPF jump at ${pc} leaves the program`);
      }
    }
    if (jt > 255 || jf > 255 || jt < 0 || jf < 0) throw new RangeError(`BPF jump offset at ${pc} exceeds 8 bits`);
  });
  const last = program[program.length - 1];
  if (last === undefined || (last[0] & 0x07) !== Bpf.RET) throw new RangeError('BPF program does not end in ret');
}

/** Lays the program out as an array of struct sock_filter (u16 code, u8 jt, u8 jf, u32 k) in host byte order. */
export function encodeSockFilter(program: readonly BpfInstruction[]): Uint8Array {
  const out = new Uint8Array(program.length * 8);
  const view = new DataView(out.buffer);
  const little = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  program.forEach(([code, jt, jf, k], i) => {
    view.setUint16(i * 8, code, little);
    view.setUint8(i * 8 + 2, jt);
    view.setUint8(i * 8 + 3, jf);
    view.setUint32(i * 8 + 4, k >>> 0, little);
  });
  return out;
}
