/**
 * The generated NS program, without a kernel: its shape (maps, helpers, size)
 * and its behaviour on the fast-path frame table, run by test/helpers/ebpf-vm.
 * ebpf-test-run.test.ts (root) runs the same table in the kernel.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AssembledProgram } from '../../src/wire/ebpf/assembler';
import { disassemble } from '../../src/wire/ebpf/disassembler';
import { FastPathCounter } from '../../src/wire/ebpf/fast-path-layout';
import { Helper, TcAction, XdpAction } from '../../src/wire/ebpf/kernel-abi';
import { Opcode } from '../../src/wire/ebpf/opcodes';
import { solicitationProgram, type FastPathHook } from '../../src/wire/ebpf/solicitation-program';
import { decodeAdvertisementFrame } from '../../src/wire/frame';
import * as captured from '../fixtures/captured';
import { hex, toHex } from '../fixtures/hex';
import { SolicitationView } from '../../src/core/solicitation-view';
import { validateSolicitation } from '../../src/core/validate';
import { ANSWERER, FAST_PATH_CASES, FRAME_FIELD_RULES, violating, vmMaps } from '../helpers/ebpf-frames';
import { parseMac } from '../../src/wire/address';
import { SOLICITATION_RULES } from '../../src/wire/solicitation-rules';
import { runEbpf, type VmMap } from '../helpers/ebpf-vm';

function counter(maps: Record<string, VmMap>, slot: number): number {
  const value = maps.counters?.entries.get(String(slot));
  return value === undefined ? 0 : Number(new DataView(value.buffer).getBigUint64(0, true));
}

function helpersCalled(program: AssembledProgram): number[] {
  return [...new Set(program.instructions.filter((insn) => insn.code === Opcode.CALL).map((insn) => insn.imm))].sort((a, b) => a - b);
}

const VERDICT: Readonly<Record<FastPathHook, { send: number; pass: number }>> = {
  xdp: { send: XdpAction.TX, pass: XdpAction.PASS },
  tc: { send: TcAction.REDIRECT, pass: TcAction.NEXT },
};

for (const hook of ['xdp', 'tc'] as const) {
  describe(`solicitationProgram({ hook: '${hook}' })`, () => {
    const answering = solicitationProgram({ hook, answer: true });
    const counting = solicitationProgram({ hook, answer: false });

    it('references only its three maps, and ends in exit', () => {
      assert.deepEqual([...new Set(answering.maps.map((m) => m.map))].sort(), ['config', 'counters', 'targets']);
      assert.deepEqual([...new Set(counting.maps.map((m) => m.map))].sort(), ['counters', 'targets']);
      assert.equal(answering.instructions.at(-1)?.code, Opcode.EXIT);
    });

    it('calls only the helpers it needs (none of them GPL-only)', () => {
      const expected = hook === 'xdp' ? [Helper.mapLookupElem, Helper.csumDiff] : [Helper.mapLookupElem, Helper.redirect, Helper.csumDiff];
      assert.deepEqual(helpersCalled(answering), expected.sort((a, b) => a - b));
      assert.deepEqual(helpersCalled(counting), [Helper.mapLookupElem]);
    });

    it('stays small (a size regression shows here first)', () => {
      assert.ok(answering.instructions.length <= 200, `${answering.instructions.length} slots:\n${disassemble(answering)}`);
      assert.ok(counting.instructions.length <= 40, `${counting.instructions.length} slots`);
    });

    for (const [name, frame, outcome] of FAST_PATH_CASES) {
      it(`answering: ${outcome}s ${name}`, () => {
        const maps = vmMaps();
        const result = runEbpf(answering, { hook, frame, maps, ifindex: 7 });
        const counts = [FastPathCounter.matched, FastPathCounter.answered, FastPathCounter.deferred].map((slot) => counter(maps, slot));
        if (outcome === 'answer') {
          assert.equal(result.retval, VERDICT[hook].send);
          if (hook === 'tc') assert.equal(result.redirectedTo, 7, 'back out of the receiving device');
          assert.deepEqual(counts, [1, 1, 0]);
          assert.equal(decodeAdvertisementFrame(result.frame).checksumValid, true);
        } else {
          assert.equal(result.retval, VERDICT[hook].pass);
          assert.equal(toHex(result.frame), toHex(frame));
          assert.deepEqual(counts, outcome === 'defer' ? [1, 0, 1] : [0, 0, 0]);
        }
      });
    }

    it('answering: the captured NS becomes the captured NA, byte for byte', () => {
      const result = runEbpf(answering, { hook, frame: hex(captured.NS_MULTICAST), maps: vmMaps() });
      assert.equal(toHex(result.frame), toHex(hex(captured.NA_SOLICITED_OVERRIDE)));
    });

    it('answering: no frame failing any field row of the shared rule table is answered (one home per rule)', () => {
      assert.ok(FRAME_FIELD_RULES.some((row) => row.name === 'source-not-multicast'), 'the newest row is in the table');
      for (const row of FRAME_FIELD_RULES) {
        const frame = violating(row);
        // The userspace validator refuses it for this row's reason: it fails this row and no earlier one.
        assert.equal(validateSolicitation(frame, 0, frame.length, parseMac(ANSWERER.mac), new SolicitationView()), row.reason, row.name);
        const maps = vmMaps();
        const result = runEbpf(answering, { hook, frame, maps });
        assert.equal(result.retval, VERDICT[hook].pass, `${row.name}: passed on to userspace`);
        assert.equal(toHex(result.frame), toHex(frame), `${row.name}: unchanged`);
        assert.equal(counter(maps, FastPathCounter.answered), 0, row.name);
      }
    });

    it('answering: the checks come from the table (without the source-not-multicast row, that frame is answered)', () => {
      const row = FRAME_FIELD_RULES.find((r) => r.name === 'source-not-multicast')!;
      const program = solicitationProgram({ hook, answer: true }, SOLICITATION_RULES.filter((r) => r !== row));
      assert.equal(runEbpf(program, { hook, frame: violating(row), maps: vmMaps() }).retval, VERDICT[hook].send);
    });

    it('counting: matches what the answering program matches, and passes every frame unchanged', () => {
      for (const [name, frame, outcome] of FAST_PATH_CASES) {
        const maps = vmMaps();
        const result = runEbpf(counting, { hook, frame, maps });
        assert.equal(result.retval, VERDICT[hook].pass, name);
        assert.equal(toHex(result.frame), toHex(frame), name);
        assert.equal(counter(maps, FastPathCounter.matched), outcome === 'ignore' ? 0 : 1, name);
      }
    });
  });
}
