/** The disassembly printed on test failures, in the kernel verifier's syntax. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Assembler } from '../../src/wire/ebpf/assembler';
import { decodeProgram } from '../../src/wire/ebpf/instruction';
import { disassemble, formatInstruction } from '../../src/wire/ebpf/disassembler';
import { Helper } from '../../src/wire/ebpf/kernel-abi';
import { Reg } from '../../src/wire/ebpf/opcodes';
import { hex } from '../fixtures/hex';

const { R0, R1, R2, R6, R7, R10 } = Reg;

describe('disassemble()', () => {
  it('lists a program with labels, map names and helper names', () => {
    const program = new Assembler()
      .mov64Reg(R6, R1)
      .ldx('W', R7, R6, 0)
      .ldx('H', R1, R7, 12)
      .jmpImm('JNE', R1, 0xdd86, 'pass')
      .st('W', R10, -4, 0)
      .mov64Reg(R2, R10)
      .alu64Imm('ADD', R2, -4)
      .ldMap(R1, 'counters')
      .call(Helper.mapLookupElem)
      .jmpImm('JEQ', R0, 0, 'pass')
      .atomicAdd('DW', R0, 0, R1)
      .endian('be', R1, 16)
      .label('pass')
      .mov64Imm(R0, 2)
      .exit()
      .assemble();
    assert.equal(
      disassemble(program),
      [
        ' 0: r6 = r1',
        ' 1: r7 = *(u32 *)(r6 +0)',
        ' 2: r1 = *(u16 *)(r7 +12)',
        ' 3: if r1 != 0xdd86 goto pc+9 <pass>',
        ' 4: *(u32 *)(r10 -4) = 0',
        ' 5: r2 = r10',
        ' 6: r2 += -4',
        ' 7: r1 = map[counters]',
        ' 9: call bpf_map_lookup_elem#1',
        '10: if r0 == 0x0 goto pc+2 <pass>',
        '11: lock *(u64 *)(r0 +0) += r1',
        '12: r1 = be16 r1',
        'pass:',
        '13: r0 = 2',
        '14: exit',
      ].join('\n'),
    );
  });

  it('lists raw bytes (no names known) with map fds and 64-bit constants', () => {
    const bytes = hex(
      '18 11 0000 05000000  00 00 0000 00000000', // lddw r1, map fd 5
      '18 02 0000 88776655  00 00 0000 44332211', // lddw r2, 0x1122334455667788
      '0c 21 0000 00000000', // w1 += w2
      '05 00 ffff 00000000', // goto pc-1
    );
    assert.equal(
      disassemble(decodeProgram(bytes)),
      ['0: r1 = map[fd:5]', '2: r2 = 0x1122334455667788 ll', '4: w1 += w2', '5: goto pc-1'].join('\n'),
    );
  });

  it('says so for an opcode it does not know', () => {
    assert.equal(formatInstruction({ code: 0x00, dst: 0, src: 0, off: 0, imm: 0 }), '<unknown opcode 0x0>');
  });
});
