/**
 * The generated NS program, without a kernel: its shape (maps, helpers, size)
 * and its behaviour on the fast-path frame table, run by test/helpers/ebpf-vm.
 * ebpf-test-run.test.ts (root) runs the same table in the kernel.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AssembledProgram } from '../../src/wire/ebpf/assembler';
import { disassemble } from '../../src/wire/ebpf/disassembler';
import { FastPathCounter, TargetAction, encodeTargetKey, passSlot, type PassReason } from '../../src/wire/ebpf/fast-path-layout';
import { Helper, TcAction, XdpAction } from '../../src/wire/ebpf/kernel-abi';
import { Opcode } from '../../src/wire/ebpf/opcodes';
import { solicitationProgram, type FastPathHook } from '../../src/wire/ebpf/solicitation-program';
import { decodeAdvertisementFrame } from '../../src/wire/frame';
import * as captured from '../fixtures/captured';
import { hex, toHex } from '../fixtures/hex';
import { SolicitationView } from '../../src/core/solicitation-view';
import { validateSolicitation } from '../../src/core/validate';
import { ANSWERER, FAST_PATH_CASES, FRAME_FIELD_RULES, TARGET, solicitationFor, violating, vmMaps } from '../helpers/ebpf-frames';
import { formatIpv6, parseIpv6, parseMac } from '../../src/wire/address';
import { AnswerRateLimiter, DEFAULT_RATE_LIMITS } from '../../src/core/rate-limit';
import { SOLICITATION_RULES } from '../../src/wire/solicitation-rules';
import { runEbpf, type VmMap } from '../helpers/ebpf-vm';

function counter(maps: Record<string, VmMap>, slot: number): number {
  const value = maps.counters?.entries.get(String(slot));
  return value === undefined ? 0 : Number(new DataView(value.buffer).getBigUint64(0, true));
}

function helpersCalled(program: AssembledProgram): number[] {
  return [...new Set(program.instructions.filter((insn) => insn.code === Opcode.CALL).map((insn) => insn.imm))].sort((a, b) => a - b);
}

const VERDICT: Readonly<Record<FastPathHook, { send: number; pass: number; drop: number }>> = {
  xdp: { send: XdpAction.TX, pass: XdpAction.PASS, drop: XdpAction.DROP },
  tc: { send: TcAction.REDIRECT, pass: TcAction.NEXT, drop: TcAction.DROP },
};

for (const hook of ['xdp', 'tc'] as const) {
  describe(`solicitationProgram({ hook: '${hook}' })`, () => {
    const answering = solicitationProgram({ hook, answer: true });
    const counting = solicitationProgram({ hook, answer: false });

    it('references only its maps, and ends in exit', () => {
      assert.deepEqual([...new Set(answering.maps.map((m) => m.map))].sort(), ['config', 'counters', 'flows', 'global', 'sources', 'targets']);
      assert.deepEqual([...new Set(counting.maps.map((m) => m.map))].sort(), ['counters', 'targets']);
      assert.equal(answering.instructions.at(-1)?.code, Opcode.EXIT);
    });

    it('calls only the helpers it needs (none of them GPL-only)', () => {
      const common = [Helper.mapLookupElem, Helper.mapUpdateElem, Helper.ktimeGetNs, Helper.csumDiff];
      const expected = hook === 'xdp' ? common : [...common, Helper.redirect];
      assert.deepEqual(helpersCalled(answering), expected.sort((a, b) => a - b));
      assert.deepEqual(helpersCalled(counting), [Helper.mapLookupElem]);
    });

    it('stays small (a size regression shows here first)', () => {
      assert.ok(answering.instructions.length <= 340, `${answering.instructions.length} slots:\n${disassemble(answering)}`);
      assert.ok(counting.instructions.length <= 48, `${counting.instructions.length} slots`);
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
        // Counted under the row it failed (a row the layout has no slot for: "other"); the
        // socket filter's rows make no match at all, nor does a multicast target (never in the map).
        if (row.kernel || row.name === 'target-not-multicast') {
          assert.equal(counter(maps, FastPathCounter.matched), 0, row.name);
          continue;
        }
        const reason = (['hop-limit', 'icmpv6-code', 'checksum', 'ip-version', 'target-not-multicast', 'source-not-multicast'] as string[]).includes(row.name) ? row.name : 'other';
        assert.equal(counter(maps, passSlot(reason as PassReason)), 1, `${row.name}: counted as passed for ${reason}`);
      }
    });

    it('answering: a DAD probe and an NS without options pass, counted as dad-probe and shape', () => {
      for (const [frame, reason] of [
        [solicitationFor(TARGET, { ipv6Source: parseIpv6('::') }, []), 'dad-probe'],
        [solicitationFor(TARGET, {}, []), 'shape'],
      ] as const) {
        const maps = vmMaps();
        assert.equal(runEbpf(answering, { hook, frame, maps }).retval, VERDICT[hook].pass, reason);
        assert.equal(counter(maps, passSlot(reason)), 1, reason);
        assert.equal(counter(maps, FastPathCounter.deferred), 1, reason);
      }
    });

    it('answering: a prefix target answers every address inside it, except a longer PASS entry (the host\'s own address)', () => {
      const maps = vmMaps({}, []);
      const set = (address: string, length: number, action: number): void => {
        maps.targets!.entries.set(Buffer.from(encodeTargetKey(parseIpv6(address), length)).toString('hex'), Uint8Array.of(action, 0, 0, 0));
      };
      set('2001:db8::', 125, TargetAction.ANSWER);
      set('2001:db8::5', 128, TargetAction.PASS);
      for (const [target, outcome] of [['2001:db8::2', 'send'], ['2001:db8::7', 'send'], ['2001:db8::5', 'pass'], ['2001:db8::8', 'pass']] as const) {
        const result = runEbpf(answering, { hook, frame: solicitationFor(target), maps });
        assert.equal(result.retval, VERDICT[hook][outcome], target);
        if (outcome === 'send') assert.equal(formatIpv6(decodeAdvertisementFrame(result.frame).ipv6.source), target);
      }
      assert.equal(counter(maps, FastPathCounter.matched), 2, 'the exception and the outsider are not matched');
    });

    it('answering: --source link-local sources the NA from the configured address, checksum valid', () => {
      const linkLocal = parseIpv6('fe80::b');
      const result = runEbpf(answering, { hook, frame: hex(captured.NS_MULTICAST), maps: vmMaps({ source: linkLocal }) });
      assert.equal(result.retval, VERDICT[hook].send);
      const na = decodeAdvertisementFrame(result.frame);
      assert.equal(formatIpv6(na.ipv6.source), 'fe80::b');
      assert.equal(na.checksumValid, true);
    });

    it('answering: the default per-flow limit admits exactly what the socket path admits (random arrivals, several flows)', () => {
      const limits = { perFlow: DEFAULT_RATE_LIMITS.perFlow, perSource: { perSecond: 30, burst: 40 }, global: { perSecond: 50, burst: 60 } };
      for (const settings of [{ ...DEFAULT_RATE_LIMITS }, { ...DEFAULT_RATE_LIMITS, ...limits }]) {
        const maps = vmMaps({ limits: settings }, [parseIpv6(TARGET), parseIpv6('2001:db8::9')]);
        const userspace = new AnswerRateLimiter(settings, 0);
        const sources = ['2001:db8::1', '2001:db8::7'];
        const targets = [TARGET, '2001:db8::9'];
        let nowNs = 1_000_000_000n;
        let random = 12345;
        const next = (): number => (random = (Math.imul(random, 1103515245) + 12345) >>> 0) / 2 ** 32;
        let answered = 0;
        let limited = 0;
        for (let i = 0; i < 3000; i++) {
          // Bursts and pauses: mostly well under the interval, sometimes seconds.
          nowNs += BigInt(Math.floor(next() < 0.99 ? next() * 2e6 : next() * 3e9));
          const source = sources[Math.floor(next() * 2)]!;
          const target = targets[Math.floor(next() * 2)]!;
          const frame = solicitationFor(target, { ipv6Source: parseIpv6(source) });
          const bytes = new Uint8Array(32);
          bytes.set(parseIpv6(source), 0);
          bytes.set(parseIpv6(target), 16);
          userspace.clock[0] = Number(nowNs) / 1e6;
          const expected = userspace.admitFlowAtClock(bytes, 0, 16);
          const { retval } = runEbpf(answering, { hook, frame, maps, nowNs });
          assert.equal(retval, expected ? VERDICT[hook].send : VERDICT[hook].drop, `arrival ${i} at ${nowNs} ns from ${source} for ${target}`);
          if (expected) answered++;
          else limited++;
        }
        assert.ok(answered > 100 && limited > 100, `both outcomes exercised: ${answered} answered, ${limited} limited`);
        assert.equal(counter(maps, FastPathCounter.limited), limited);
        assert.equal(counter(maps, FastPathCounter.answered), answered);
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
