/**
 * The eBPF assembler against hand-encoded bytes. Each fixture is one instruction
 * as the kernel lays out struct bpf_insn on a little-endian host:
 * opcode | src<<4 dst | off (le16) | imm (le32).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Assembler, AssemblerError, bindMaps } from '../../src/wire/ebpf/assembler';
import { decodeProgram, encodeInstruction, encodeProgram, littleEndianValue } from '../../src/wire/ebpf/instruction';
import { Helper, helperName } from '../../src/wire/ebpf/kernel-abi';
import { Reg } from '../../src/wire/ebpf/opcodes';
import { hex, toHex } from '../fixtures/hex';

const { R0, R1, R2, R6, R7, R8, R10 } = Reg;

type Fixture = [name: string, build: (asm: Assembler) => Assembler, bytes: string];

const FIXTURES: Fixture[] = [
  // name                               builder                                        op  regs off   imm
  ['r0 = 2', (a) => a.mov64Imm(R0, 2), /*                                            */ 'b7 00 0000 02000000'],
  ['r6 = r1', (a) => a.mov64Reg(R6, R1), /*                                          */ 'bf 16 0000 00000000'],
  ['w0 = w0 (zero-extend)', (a) => a.mov32Reg(R0, R0), /*                            */ 'bc 00 0000 00000000'],
  ['w1 = 7', (a) => a.mov32Imm(R1, 7), /*                                            */ 'b4 01 0000 07000000'],
  ['r7 = *(u32 *)(r6 +0)', (a) => a.ldx('W', R7, R6, 0), /*                          */ '61 67 0000 00000000'],
  ['r8 = *(u32 *)(r6 +4)', (a) => a.ldx('W', R8, R6, 4), /*                          */ '61 68 0400 00000000'],
  ['r1 = *(u16 *)(r7 +12)', (a) => a.ldx('H', R1, R7, 12), /*                        */ '69 71 0c00 00000000'],
  ['r1 = *(u8 *)(r7 +20)', (a) => a.ldx('B', R1, R7, 20), /*                         */ '71 71 1400 00000000'],
  ['r1 = *(u64 *)(r7 +22)', (a) => a.ldx('DW', R1, R7, 22), /*                       */ '79 71 1600 00000000'],
  ['*(u64 *)(r0 +0) = r1', (a) => a.stx('DW', R0, 0, R1), /*                         */ '7b 10 0000 00000000'],
  ['*(u16 *)(r7 +56) = r0', (a) => a.stx('H', R7, 56, R0), /*                        */ '6b 07 3800 00000000'],
  ['*(u32 *)(r10 -4) = 1', (a) => a.st('W', R10, -4, 1), /*                          */ '62 0a fcff 01000000'],
  ['*(u8 *)(r10 -13) = 32', (a) => a.st('B', R10, -13, 32), /*                       */ '72 0a f3ff 20000000'],
  ['*(u64 *)(r10 -16) = 0', (a) => a.st('DW', R10, -16, 0), /*                       */ '7a 0a f0ff 00000000'],
  ['r1 += 78', (a) => a.alu64Imm('ADD', R1, 78), /*                                  */ '07 01 0000 4e000000'],
  ['r2 += -4', (a) => a.alu64Imm('ADD', R2, -4), /*                                  */ '07 02 0000 fcffffff'],
  ['r1 |= r2', (a) => a.alu64Reg('OR', R1, R2), /*                                   */ '4f 21 0000 00000000'],
  ['r1 >>= 16', (a) => a.alu64Imm('RSH', R1, 16), /*                                 */ '77 01 0000 10000000'],
  ['r0 &= 0xffff', (a) => a.alu64Imm('AND', R0, 0xffff), /*                          */ '57 00 0000 ffff0000'],
  ['r0 ^= 0xffff', (a) => a.alu64Imm('XOR', R0, 0xffff), /*                          */ 'a7 00 0000 ffff0000'],
  ['w1 += w2', (a) => a.alu32Reg('ADD', R1, R2), /*                                  */ '0c 21 0000 00000000'],
  ['r1 = be16 r1', (a) => a.endian('be', R1, 16), /*                                 */ 'dc 01 0000 10000000'],
  ['r1 = le64 r1', (a) => a.endian('le', R1, 64), /*                                 */ 'd4 01 0000 40000000'],
  ['lock *(u64 *)(r0 +0) += r1', (a) => a.atomicAdd('DW', R0, 0, R1), /*            */ 'db 10 0000 00000000'],
  ['call bpf_map_lookup_elem', (a) => a.call(Helper.mapLookupElem), /*               */ '85 00 0000 01000000'],
  ['call bpf_csum_diff', (a) => a.call(Helper.csumDiff), /*                          */ '85 00 0000 1c000000'],
  ['exit', (a) => a.exit(), /*                                                       */ '95 00 0000 00000000'],
  // lddw takes two slots: the low half's imm, then an opcode-0 slot with the high half.
  ['r1 = 0x1122334455667788 ll', (a) => a.lddw(R1, 0x1122334455667788n), /*         */ '18 01 0000 88776655  00 00 0000 44332211'],
  ['r1 = -1 ll', (a) => a.lddw(R1, -1n), /*                                          */ '18 01 0000 ffffffff  00 00 0000 ffffffff'],
];

describe('eBPF instruction encoding', () => {
  for (const [name, build, bytes] of FIXTURES) {
    it(`encodes ${name}`, () => {
      const program = build(new Assembler()).assemble();
      assert.equal(toHex(encodeProgram(program.instructions)), toHex(hex(bytes)));
      assert.deepEqual(decodeProgram(hex(bytes)), program.instructions, 'decodes back to the same fields');
    });
  }

  it('encodes at an offset inside a larger buffer and touches nothing else', () => {
    const bytes = new Uint8Array(12).fill(0xee);
    assert.equal(encodeInstruction({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }, bytes, 2), 8);
    assert.equal(toHex(bytes), 'eeee' + '9500000000000000' + 'eeee');
  });

  it('refuses a buffer too short for the instruction', () => {
    assert.throws(() => encodeInstruction({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }, new Uint8Array(7), 0), /truncated/);
  });

  it('reads what a little-endian load of network bytes yields', () => {
    assert.equal(littleEndianValue(0x86, 0xdd), 0xdd86); // EtherType IPv6
    assert.equal(littleEndianValue(0x60, 0, 0, 0), 0x60);
    assert.equal(littleEndianValue(0, 0, 0, 0x80), -0x80000000); // as a signed imm
  });
});

describe('labels and jumps', () => {
  it('resolves a forward jump to the slot after the skipped ones', () => {
    const program = new Assembler().jmpImm('JNE', R1, littleEndianValue(0x86, 0xdd), 'pass').mov64Imm(R0, 1).mov64Imm(R0, 3).exit().label('pass').mov64Imm(R0, 2).exit().assemble();
    // if r1 != 0xdd86 goto pc+3: opcode JMP|JNE|K, dst r1, off 3
    assert.equal(toHex(encodeProgram(program.instructions.slice(0, 1))), toHex(hex('55 01 0300 86dd0000')));
    assert.equal(program.labels.get('pass'), 4);
  });

  it('counts lddw as two slots', () => {
    const program = new Assembler().ja('end').ldMap(R1, 'targets').label('end').exit().assemble();
    assert.equal(program.instructions[0]?.off, 2); // goto pc+2: over both halves
    assert.deepEqual(program.maps, [{ slot: 1, map: 'targets' }]);
  });

  it('resolves a backward jump to a negative offset', () => {
    const program = new Assembler().label('top').alu64Imm('ADD', R1, 1).jmpImm('JLT', R1, 10, 'top').exit().assemble();
    // if r1 < 0xa goto pc-2: opcode JMP|JLT|K = 0xa5
    assert.equal(toHex(encodeProgram(program.instructions.slice(1, 2))), toHex(hex('a5 01 feff 0a000000')));
  });

  it('encodes register and 32-bit jumps', () => {
    const program = new Assembler().jmpReg('JGT', R1, R8, 'x').jmp32Imm('JNE', R1, 5, 'x').jmpImm('JSLT', R0, 0, 'x').label('x').exit().assemble();
    assert.equal(
      toHex(encodeProgram(program.instructions.slice(0, 3))),
      toHex(hex(
        '2d 81 0200 00000000', // if r1 > r8 goto pc+2: JMP|JGT|X, src r8, dst r1
        '56 01 0100 05000000', // if w1 != 0x5 goto pc+1: JMP32|JNE|K
        'c5 00 0000 00000000', // if r0 s< 0x0 goto pc+0: JMP|JSLT|K
      )),
    );
  });

  const refusals: [string, () => unknown, string][] = [
    ['an undefined label', () => new Assembler().ja('nowhere').exit().assemble(), 'unknown-label'],
    ['a label that marks no instruction', () => new Assembler().ja('end').exit().label('end').assemble(), 'unknown-label'],
    ['a label defined twice', () => new Assembler().label('a').exit().label('a'), 'duplicate-label'],
    ['a register above r10', () => new Assembler().mov64Reg(11, R1), 'bad-operand'],
    ['an immediate beyond 32 signed bits', () => new Assembler().mov64Imm(R0, 0x80000000), 'bad-operand'],
    ['a memory offset beyond 16 signed bits', () => new Assembler().ldx('B', R1, R7, 0x8000), 'bad-operand'],
    ['a map without an fd', () => bindMaps(new Assembler().ldMap(R1, 'targets').exit().assemble(), {}), 'unbound-map'],
  ];
  for (const [name, attempt, code] of refusals) {
    it(`refuses ${name} (${code})`, () => {
      assert.throws(attempt, (error: unknown) => error instanceof AssemblerError && error.code === code);
    });
  }

  it('refuses a jump farther than 32767 slots', () => {
    const asm = new Assembler().ja('far');
    for (let i = 0; i < 0x8000; i++) asm.mov64Imm(R0, 0);
    asm.label('far').exit();
    assert.throws(() => asm.assemble(), (error: unknown) => error instanceof AssemblerError && error.code === 'jump-out-of-range' && error.slot === 0);
  });

  it('accepts a jump of exactly 32767 slots', () => {
    const asm = new Assembler().ja('far');
    for (let i = 0; i < 0x7fff; i++) asm.mov64Imm(R0, 0);
    asm.label('far').exit();
    assert.equal(asm.assemble().instructions[0]?.off, 0x7fff);
  });
});

describe('bindMaps()', () => {
  it('puts each map fd into its lddw imm with src BPF_PSEUDO_MAP_FD', () => {
    const program = new Assembler().ldMap(R1, 'targets').ldMap(R1, 'counters').exit().assemble();
    assert.equal(
      toHex(bindMaps(program, { targets: 5, counters: 300 })),
      toHex(hex(
        '18 11 0000 05000000', // r1 = map[fd:5]: LD|IMM|DW, src 1 (pseudo map fd), dst r1
        '00 00 0000 00000000',
        '18 11 0000 2c010000', // r1 = map[fd:300]
        '00 00 0000 00000000',
        '95 00 0000 00000000', // exit
      )),
    );
  });
});

describe('helperName()', () => {
  it('names helpers like the kernel does', () => {
    assert.equal(helperName(1), 'bpf_map_lookup_elem');
    assert.equal(helperName(28), 'bpf_csum_diff');
    assert.equal(helperName(65), 'bpf_xdp_adjust_tail');
    assert.equal(helperName(9999), undefined);
  });
});
