/**
 * The generated programs against two independent references: libpcap's
 * compilation of the documented FILTER_EXPRESSION (when tcpdump can run here),
 * and the TypeScript decoder. Both run over fixtures and mutated frames.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseIpv6 } from '../../src/wire/address';
import { WireError } from '../../src/wire/errors';
import { FILTER_EXPRESSION, advertisementFilter, solicitationFilter, solicitationFilterExpression } from '../../src/wire/bpf';
import { BpfInstruction, PACKET_OUTGOING } from '../../src/wire/bpf-assembler';
import { decodeSolicitationFrame } from '../../src/wire/frame';
import { runBpf } from '../helpers/bpf-vm';
import * as captured from '../fixtures/captured';
import { hex, toHex } from '../fixtures/hex';
import { mutateFrame, seededRandom } from '../fixtures/random';
import * as synthetic from '../fixtures/synthetic';

const SEEDS = [Object.values(captured), Object.values(synthetic)].flat().map((text) => hex(text));
const PKT_TYPES = [0, 2, 3, PACKET_OUTGOING];

/** Fixture frames plus `count` deterministic mutations of them. */
function corpus(count: number): Uint8Array[] {
  const random = seededRandom(0xb9f);
  const frames = [...SEEDS];
  for (let i = 0; i < count; i++) frames.push(mutateFrame(random, SEEDS[random(SEEDS.length)] ?? new Uint8Array()));
  return frames;
}

/** Compiles `expression` with tcpdump for an Ethernet device, or explains why it cannot. */
function compileWithTcpdump(expression: string): BpfInstruction[] | string {
  try {
    const out = execFileSync('tcpdump', ['-ddd', '-i', 'lo', expression], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = out.trim().split('\n').slice(1);
    return lines.map((line) => {
      const [code = 0, jt = 0, jf = 0, k = 0] = line.trim().split(/\s+/).map(Number);
      return [code, jt, jf, k] as const;
    });
  } catch (error) {
    return `tcpdump unavailable here: ${(error as Error).message.split('\n')[0] ?? ''}`;
  }
}

/** An address, a /125 and a /64 (masked last word, whole words), as a daemon with prefix targets builds. */
const WITH_PREFIXES = {
  targets: [parseIpv6('2001:db8::9')],
  prefixes: [{ address: parseIpv6('2001:db8::a:71a0'), prefixLength: 125 }, { address: parseIpv6('2001:db8::'), prefixLength: 64 }],
};

describe('generated filters match libpcap compiling FILTER_EXPRESSION', () => {
  const frames = corpus(3000);
  const cases: Array<[name: string, ours: BpfInstruction[], expression: string]> = [
    ['solicitation', solicitationFilter(), FILTER_EXPRESSION.solicitation],
    ['advertisement', advertisementFilter(), FILTER_EXPRESSION.advertisement],
    ['solicitation with targets', solicitationFilter({ targets: [parseIpv6('2001:db8::2'), parseIpv6('2001:db8::9')] }),
      solicitationFilterExpression({ targets: [parseIpv6('2001:db8::2'), parseIpv6('2001:db8::9')] })],
    ['solicitation with targets and prefixes', solicitationFilter(WITH_PREFIXES), solicitationFilterExpression(WITH_PREFIXES)],
  ];
  for (const [name, ours, expression] of cases) {
    const reference = compileWithTcpdump(expression);
    it(`${name}: same verdict on ${frames.length} frames × ${PKT_TYPES.length} packet types`, {
      skip: typeof reference === 'string' ? reference : false,
    }, () => {
      if (typeof reference === 'string') return;
      for (const frame of frames) {
        for (const pktType of PKT_TYPES) {
          const expected = runBpf(reference, frame, { pktType });
          assert.equal(runBpf(ours, frame, { pktType }), expected, `pkttype ${pktType}, frame ${toHex(frame)}`);
        }
      }
    });
  }
});

describe('solicitationFilter agrees with decodeSolicitationFrame', () => {
  it('accepts every decodable, unfragmented NS with at most one hop-by-hop header, and nothing that is not an NS', () => {
    const program = solicitationFilter();
    let accepted = 0;
    for (const frame of corpus(5000)) {
      const verdict = runBpf(program, frame, { pktType: 2 });
      let decoded: ReturnType<typeof decodeSolicitationFrame> | WireError;
      try {
        decoded = decodeSolicitationFrame(frame);
      } catch (error) {
        assert.ok(error instanceof WireError);
        decoded = error;
      }
      if (verdict !== 0) {
        accepted++;
        assert.ok(!(decoded instanceof WireError && decoded.code === 'not-solicitation'), `accepted a non-NS ${toHex(frame)}`);
      } else if (!(decoded instanceof WireError) && !decoded.fragmented) {
        const simple = decoded.icmpOffset === 54 || (frame[20] === 0 && frame[54] === 58);
        assert.ok(!simple, `dropped a plain NS ${toHex(frame)}`);
      }
    }
    assert.ok(accepted > 500, `only ${accepted} accepted`);
  });
});
