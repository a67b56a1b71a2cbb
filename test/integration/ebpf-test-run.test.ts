/**
 * The generated NS program in the running kernel, without any device: the
 * verifier must accept every variant, and BPF_PROG_TEST_RUN on crafted frames
 * shows what it answers, leaves to userspace, or ignores. Needs root (CAP_BPF).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadProgram, testRun, type VerifierError } from '../../src/io/bpf';
import { FastPath, type FastPathCounters } from '../../src/io/fast-path';
import { formatIpv6, formatMac, parseIpv6, parseMac } from '../../src/wire/address';
import { Assembler } from '../../src/wire/ebpf/assembler';
import { encodeProgram } from '../../src/wire/ebpf/instruction';
import { ProgramType, TcAction, XdpAction } from '../../src/wire/ebpf/kernel-abi';
import { Reg } from '../../src/wire/ebpf/opcodes';
import { solicitationProgram, type FastPathHook } from '../../src/wire/ebpf/solicitation-program';
import { decodeAdvertisementFrame } from '../../src/wire/frame';
import { findLinkLayerAddress } from '../../src/wire/nd-options';
import * as captured from '../fixtures/captured';
import { hex, toHex } from '../fixtures/hex';
import { ANSWERER, FAST_PATH_CASES, TARGET, solicitationFor, vmMaps } from '../helpers/ebpf-frames';
import { runEbpf } from '../helpers/ebpf-vm';

const skip = process.getuid?.() === 0 ? false : 'needs root (CAP_BPF) for bpf(2)';

const NS = hex(captured.NS_MULTICAST);
const FRAMES = FAST_PATH_CASES;

const VERDICT: Readonly<Record<FastPathHook, { send: number; pass: number }>> = {
  xdp: { send: XdpAction.TX, pass: XdpAction.PASS },
  tc: { send: TcAction.REDIRECT, pass: TcAction.NEXT },
};

const loaded: FastPath[] = [];
function load(hook: FastPathHook, answer: boolean, router = false): FastPath {
  const fastPath = FastPath.load({ hook, answer, mac: parseMac(ANSWERER.mac), router, override: true });
  fastPath.addTarget(parseIpv6(TARGET));
  loaded.push(fastPath);
  return fastPath;
}

function delta(before: FastPathCounters, now: FastPathCounters): Record<string, number> {
  return { matched: Number(now.matched - before.matched), answered: Number(now.answered - before.answered), deferred: Number(now.deferred - before.deferred) };
}

/** The answer must be a valid NA from the target to the asker, to the asker's SLLA, with our MAC. */
function assertAdvertisement(out: Uint8Array, question: Uint8Array): void {
  const na = decodeAdvertisementFrame(out);
  assert.equal(na.checksumValid, true, 'ICMPv6 checksum');
  assert.equal(formatMac(na.ethernet.source), ANSWERER.mac);
  assert.equal(formatMac(na.ethernet.destination), formatMac(question, 80), 'Ethernet destination is the SLLA');
  assert.equal(formatIpv6(na.ipv6.source), TARGET);
  assert.equal(formatIpv6(na.ipv6.destination), formatIpv6(question, 22), 'sent back to the solicitation source');
  assert.equal(na.ipv6.hopLimit, 255);
  assert.deepEqual([na.advertisement.router, na.advertisement.solicited, na.advertisement.override], [false, true, true]);
  assert.equal(formatMac(findLinkLayerAddress(na.advertisement.options, 2) ?? new Uint8Array(6)), ANSWERER.mac, 'TLLA');
}

describe('generated NS program under BPF_PROG_TEST_RUN', { skip }, () => {
  after(() => loaded.forEach((fastPath) => fastPath.close()));

  for (const hook of ['xdp', 'tc'] as const) {
    for (const answer of [true, false]) {
      describe(`${hook}, ${answer ? 'answering' : 'counting only'}`, () => {
        const fastPath = skip === false ? load(hook, answer) : undefined;

        it('is accepted by the verifier', (t) => {
          const info = fastPath!.info();
          t.diagnostic(`${fastPath!.instructionCount} slots generated, ${info.translatedInstructions} after the verifier, ${info.verifiedInstructions} verified, ${info.jitedBytes} bytes JIT`);
          assert.ok(info.id > 0);
        });

        for (const [name, frame, outcome] of FRAMES) {
          const expected = answer ? outcome : outcome === 'ignore' ? 'ignore' : 'defer-count';
          it(`${expected === 'answer' ? 'answers' : expected === 'ignore' ? 'ignores' : 'counts and passes'} ${name}`, () => {
            const before = fastPath!.counters();
            const result = testRun(fastPath!.program, frame);
            const counted = delta(before, fastPath!.counters());
            // The unit tests' interpreter must agree with the kernel, verdict and bytes.
            const vm = runEbpf(solicitationProgram({ hook, answer }), { hook, frame, maps: vmMaps() });
            assert.deepEqual([vm.retval, toHex(vm.frame)], [result.retval, toHex(result.data)], 'ebpf-vm agrees with the kernel');
            if (expected === 'answer') {
              assert.equal(result.retval, VERDICT[hook].send);
              assert.deepEqual(counted, { matched: 1, answered: 1, deferred: 0 });
              assertAdvertisement(result.data, frame);
            } else {
              assert.equal(result.retval, VERDICT[hook].pass);
              assert.equal(toHex(result.data), toHex(frame), 'the frame passes unchanged');
              const matched = expected === 'ignore' ? 0 : 1;
              assert.deepEqual(counted, { matched, answered: 0, deferred: expected === 'defer' ? 1 : 0 });
            }
          });
        }
      });
    }

    it(`${hook}: rewrites the captured NS into exactly the NA the kernel itself sent`, () => {
      const result = testRun(load(hook, true).program, NS);
      assert.equal(toHex(result.data), toHex(hex(captured.NA_SOLICITED_OVERRIDE)));
    });

    it(`${hook}: carries the configured R flag and a new MAC without reloading`, () => {
      const fastPath = load(hook, true);
      fastPath.configure({ mac: parseMac('02:00:00:00:00:99'), router: true, override: false });
      const na = decodeAdvertisementFrame(testRun(fastPath.program, NS).data);
      assert.deepEqual([na.advertisement.router, na.advertisement.solicited, na.advertisement.override], [true, true, false]);
      assert.equal(formatMac(na.ethernet.source), '02:00:00:00:00:99');
      assert.equal(na.checksumValid, true);
    });

    it(`${hook}: stops answering a target once it leaves the map`, () => {
      const fastPath = load(hook, true);
      assert.equal(fastPath.removeTarget(parseIpv6(TARGET)), true);
      assert.equal(testRun(fastPath.program, NS).retval, VERDICT[hook].pass);
      assert.deepEqual(fastPath.targets(), []);
    });

    it(`${hook}: answers inside a prefix entry, not for a longer PASS entry inside it`, () => {
      const fastPath = load(hook, true);
      assert.equal(fastPath.removeTarget(parseIpv6(TARGET)), true);
      fastPath.addTarget(parseIpv6('2001:db8::'), 125);
      fastPath.addTarget(parseIpv6(TARGET), 128, false);
      assert.equal(testRun(fastPath.program, solicitationFor('2001:db8::3')).retval, VERDICT[hook].send, 'inside the prefix');
      assert.equal(testRun(fastPath.program, NS).retval, VERDICT[hook].pass, 'the exception');
      assert.equal(testRun(fastPath.program, solicitationFor('2001:db8::9')).retval, VERDICT[hook].pass, 'outside the prefix');
      assert.deepEqual(
        fastPath.targets().map((t) => `${formatIpv6(t.address)}/${t.prefixLength}`).sort(),
        ['2001:db8::/125', '2001:db8::2/128'],
      );
    });

    it(`${hook}: run time per frame`, (t) => {
      const fastPath = load(hook, true);
      // Repeats run on the same buffer, so only frames the program leaves unchanged can be timed
      // with repeat; an answered frame would be an NA from the second run on. The answer path is
      // timed as the median of single runs, next to a miss timed the same way.
      const median = (frame: Uint8Array): number => {
        const runs = Array.from({ length: 2001 }, () => testRun(fastPath.program, frame).durationNs).sort((a, b) => a - b);
        return runs[1000] ?? 0;
      };
      const repeated = (frame: Uint8Array): number => testRun(fastPath.program, frame, 100_000).durationNs;
      const times = {
        'answered NS, median of single runs': median(NS),
        'NS for another target, median of single runs': median(solicitationFor('2001:db8::3')),
        'NS for another target, repeat 1e5': repeated(solicitationFor('2001:db8::3')),
        'DAD probe left to userspace, repeat 1e5': repeated(hex(captured.NS_DAD_WITH_NONCE)),
        'echo request, repeat 1e5': repeated(hex(captured.ECHO_REQUEST)),
      };
      for (const [name, ns] of Object.entries(times)) t.diagnostic(`${name}: ${ns} ns/run`);
      for (const ns of Object.values(times)) assert.ok(ns >= 0 && ns < 20_000, `${ns} ns per run`);
    });
  }

  it('reports a refused program with the verifier log in the error', () => {
    // Reads the frame without checking data_end first.
    const { R0, R1, R2 } = Reg;
    const program = new Assembler().ldx('W', R2, R1, 0).ldx('B', R0, R2, 12).exit().assemble();
    assert.throws(
      () => loadProgram({ type: ProgramType.XDP, instructions: encodeProgram(program.instructions) }),
      (error: VerifierError) =>
        error.code === 'EACCES' && error.syscall === 'bpf' && /invalid access to packet/.test(error.log) && error.message.includes(error.log),
    );
  });

});
