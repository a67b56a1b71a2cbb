/** The test interpreter itself must behave like the kernel, or the filter tests prove nothing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bpf, BpfInstruction, Op } from '../../src/wire/bpf-assembler';
import { runBpf } from '../helpers/bpf-vm';
import { hex } from '../fixtures/hex';

const RET_A: BpfInstruction = [Bpf.RET | Bpf.A, 0, 0, 0];
const packet = hex('0102030405060708');

describe('bpf-vm', () => {
  const table: Array<[name: string, program: BpfInstruction[], result: number]> = [
    ['ld w / h / b are big-endian', [[Op.LDW_ABS, 0, 0, 1], RET_A], 0x02030405],
    ['ld len', [[Bpf.LD | Bpf.W | Bpf.LEN, 0, 0, 0], RET_A], 8],
    ['ldx msh: 4 * (byte & 0xf)', [[Bpf.LDX | Bpf.B | Bpf.MSH, 0, 0, 6], [Bpf.MISC | Bpf.TXA, 0, 0, 0], RET_A], 28],
    ['ld [x + k]', [[Bpf.LDX | Bpf.IMM, 0, 0, 2], [Op.LDB_IND, 0, 0, 3], RET_A], 6],
    ['add, lsh, and, sub, neg wrap to 32 bits', [[Bpf.LD | Bpf.IMM, 0, 0, 0xffffffff], [Op.ADD_K, 0, 0, 2], [Op.LSH_K, 0, 0, 31],
      [Bpf.ALU | Bpf.AND | Bpf.K, 0, 0, 0x80000001], [Bpf.ALU | Bpf.SUB | Bpf.K, 0, 0, 1], [Bpf.ALU | Bpf.NEG, 0, 0, 0], RET_A], 0x80000001],
    ['st / ld mem', [[Bpf.LD | Bpf.IMM, 0, 0, 42], [Bpf.ST, 0, 0, 3], [Bpf.LD | Bpf.IMM, 0, 0, 0], [Bpf.LD | Bpf.MEM, 0, 0, 3], RET_A], 42],
    ['jgt / jge / jset', [[Bpf.LD | Bpf.IMM, 0, 0, 5], [Bpf.JMP | Bpf.JGT | Bpf.K, 0, 3, 4], [Bpf.JMP | Bpf.JGE | Bpf.K, 0, 2, 5],
      [Bpf.JMP | Bpf.JSET | Bpf.K, 0, 1, 4], [Op.RET_K, 0, 0, 1], [Op.RET_K, 0, 0, 2]], 1],
    ['ja skips with a 32-bit offset', [[Op.JA, 0, 0, 1], [Op.RET_K, 0, 0, 1], [Op.RET_K, 0, 0, 2]], 2],
    ['load past the end returns 0', [[Op.LDH_ABS, 0, 0, 7], [Op.RET_K, 0, 0, 9]], 0],
    ['indirect load past the end returns 0', [[Bpf.LDX | Bpf.IMM, 0, 0, 6], [Op.LDW_IND, 0, 0, 0], [Op.RET_K, 0, 0, 9]], 0],
    ['division by zero returns 0', [[Bpf.ALU | Bpf.DIV | Bpf.X, 0, 0, 0], [Op.RET_K, 0, 0, 9]], 0],
  ];
  for (const [name, program, result] of table) {
    it(name, () => assert.equal(runBpf(program, packet), result));
  }

  it('reads pkt_type from the ancillary area', () => {
    assert.equal(runBpf([[Op.LDW_ABS, 0, 0, 0xfffff004], RET_A], packet, { pktType: 4 }), 4);
    assert.throws(() => runBpf([[Op.LDW_ABS, 0, 0, 0xfffff000], RET_A], packet), /unsupported ancillary/);
  });

  it('refuses to fall off the end of a program', () => {
    assert.throws(() => runBpf([[Bpf.LD | Bpf.IMM, 0, 0, 1]], packet), /fell off/);
  });
});
