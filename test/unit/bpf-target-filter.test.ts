/**
 * The kernel's target filter, generated from the target set (kernelTargetFilter): run in the
 * cBPF interpreter, it accepts an NS exactly when TargetSet would match its target (for sets
 * within the budget), never drops a served target with the large-set fallback, and stays
 * within the kernel's instruction limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kernelTargetFilter } from '../../src/core/target-filter';
import { TargetSet } from '../../src/core/target-set';
import { parseTarget } from '../../src/core/parse-target';
import { multicastMac, parseIpv6, solicitedNodeAddress } from '../../src/wire/address';
import { solicitationFilter } from '../../src/wire/bpf';
import { BPF_MAXINSNS, validateFilter } from '../../src/wire/bpf-assembler';
import { MAX_FILTER_TARGETS } from '../../src/wire/bpf-targets';
import { encodeSolicitationFrame } from '../../src/wire/frame';
import { runBpf } from '../helpers/bpf-vm';
import { randomBytes, seededRandom, type Random } from '../fixtures/random';

const PACKET_MULTICAST = 2;
const PEER = Uint8Array.of(2, 0, 0, 0, 0, 1);

function nsFor(target: Uint8Array, hopByHop: boolean): Uint8Array {
  const group = solicitedNodeAddress(target);
  return encodeSolicitationFrame({
    ethernetDestination: multicastMac(group),
    ethernetSource: PEER,
    ipv6Source: parseIpv6('2001:db8::1'),
    ipv6Destination: group,
    hopLimit: 255,
    solicitation: { target, options: [{ type: 1, linkLayerAddress: PEER }] },
    hopByHop,
  });
}

/** Addresses near the configured ones (one bit or byte off) and random ones. */
function nearby(random: Random, bases: readonly Uint8Array[]): Uint8Array {
  if (random(5) === 0) return randomBytes(random, 16);
  const address = Uint8Array.from(bases[random(bases.length)]!);
  const at = random(16);
  if (random(3) !== 0) address[at] = address[at]! ^ (1 << random(8));
  return address;
}

function check(texts: string[], exact: boolean, frames: number): void {
  const targets = texts.map((t) => parseTarget(t));
  const set = new TargetSet(targets);
  const program = solicitationFilter(kernelTargetFilter(set.targets));
  validateFilter(program);
  assert.ok(program.length <= BPF_MAXINSNS);
  const random = seededRandom(texts.length);
  const bases = targets.map((t) => t.address);
  for (let i = 0; i < frames; i++) {
    const target = nearby(random, bases);
    const served = set.match(target) !== undefined;
    const accepted = runBpf(program, nsFor(target, random(4) === 0), { pktType: PACKET_MULTICAST }) > 0;
    if (exact) assert.equal(accepted, served, `target ${Buffer.from(target).toString('hex')}`);
    else if (served) assert.ok(accepted, `served target ${Buffer.from(target).toString('hex')} dropped`);
  }
}

describe('kernel target filter from the target set', () => {
  it('addresses and prefixes (/125, /64, /97, /33): accepted exactly when served', () => {
    check(['2001:db8::a:71a5', '2001:db8::a:71a0/125', '2001:db8:1::/64', '2001:db8:2::8000:0/97', '2001:db8:8000::/33', '2001:db8::77'], true, 20_000);
  });

  it(`${MAX_FILTER_TARGETS} prefixes /125 (the worst case): within BPF_MAXINSNS, exact`, () => {
    const texts = Array.from({ length: MAX_FILTER_TARGETS }, (_, i) => `2001:db8:${i.toString(16)}::a:71a0/125`);
    const program = solicitationFilter(kernelTargetFilter(texts.map((t) => parseTarget(t))));
    assert.ok(program.length < 1800, `${program.length} instructions`);
    check(texts, true, 5_000);
  });

  it('beyond the budget: falls back to the common prefix, never dropping a served target', () => {
    const texts = Array.from({ length: 300 }, (_, i) => `2001:db8::c:${i.toString(16)}`);
    const options = kernelTargetFilter(texts.map((t) => parseTarget(t)));
    assert.deepEqual(options.prefixes?.map((p) => p.prefixLength), [119]);
    check(texts, false, 10_000);
    const program = solicitationFilter(options);
    assert.equal(runBpf(program, nsFor(parseIpv6('2001:db8:1::c:1'), false), { pktType: PACKET_MULTICAST }), 0, 'other prefixes stay in the kernel');
  });

  it('beyond the budget with nothing in common: no target check', () => {
    const texts = Array.from({ length: 100 }, (_, i) => `${(0x2001 + i * 0x100).toString(16)}:db8::1`);
    texts.push('3001::1');
    assert.deepEqual(kernelTargetFilter(texts.map((t) => parseTarget(t))), {});
  });
});
