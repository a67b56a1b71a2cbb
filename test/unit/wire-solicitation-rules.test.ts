/**
 * The rule table both the userspace validator and the kernel filter come from: its order is
 * the documented precedence, its kernel rows are the cBPF filter's checks, and the programs
 * are generated from those rows (the NA filter differs from the NS filter only where its type
 * row does).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IGNORE_REASONS } from '../../src/model/reasons';
import { Op } from '../../src/wire/bpf-assembler';
import { advertisementFilter, solicitationFilter } from '../../src/wire/bpf';
import { parseIpv6 } from '../../src/wire/address';
import { ADVERTISEMENT_FILTER_RULES, SOLICITATION_RULES } from '../../src/wire/solicitation-rules';

/** Reasons only the decision, the gate or the link give; every other reason is some row's. */
const DECISION_REASONS = ['link-local-target', 'own-address', 'route-via-uplink', 'route-not-via', 'no-route', 'link-down', 'rate-limited'];

describe('SOLICITATION_RULES', () => {
  it('lists the checks in the documented precedence', () => {
    assert.deepEqual(SOLICITATION_RULES.map((r) => r.name), [
      'ethertype', 'not-outgoing', 'ip-version', 'payload-in-frame', 'header-chain', 'icmpv6-type', 'ns-length', 'options',
      'own-mac', 'hop-limit', 'icmpv6-code', 'checksum', 'target-not-multicast', 'source-not-multicast', 'dad-destination', 'dad-no-slla', 'target',
    ]);
  });

  it('gives the kernel the structural rows and the target; the §7.1.1 rows stay in userspace, counted per reason', () => {
    assert.deepEqual(SOLICITATION_RULES.filter((r) => r.kernel).map((r) => r.name), ['ethertype', 'not-outgoing', 'header-chain', 'icmpv6-type', 'target']);
  });

  it('names every reason a frame can be refused for before the decision', () => {
    const named = new Set(SOLICITATION_RULES.flatMap((r) => [r.reason, ...(r.kind === 'header-chain' ? [r.fragmentReason] : []), ...(r.kind === 'options' ? [r.tooManyReason] : [])]));
    for (const reason of IGNORE_REASONS) if (!DECISION_REASONS.includes(reason)) assert.ok(named.has(reason), reason);
  });

  it('cites a section for every row, and cannot be changed at run time', () => {
    for (const row of SOLICITATION_RULES) assert.match(row.rfc, /RFC \d+ §|docs\/design\.md/, row.name);
    assert.ok(Object.isFrozen(SOLICITATION_RULES) && SOLICITATION_RULES.every((r) => Object.isFrozen(r)));
  });
});

describe('filters generated from the kernel rows', () => {
  for (const options of [{}, { targets: [parseIpv6('2001:db8::2')], prefixes: [{ address: parseIpv6('2001:db8::'), prefixLength: 64 }] }]) {
    it(`the NA filter is the NS filter with type 136 for 135 (${Object.keys(options).length > 0 ? 'with targets' : 'no targets'})`, () => {
      const ns = solicitationFilter(options);
      const na = advertisementFilter(options);
      assert.equal(na.length, ns.length);
      const differ = ns.flatMap((insn, pc) => (JSON.stringify(insn) === JSON.stringify(na[pc]) ? [] : [[insn, na[pc]]]));
      assert.equal(differ.length, 2, 'one type comparison on each path');
      for (const [a, b] of differ) assert.deepEqual([a?.[0], a?.[3], b?.[0], b?.[3]], [Op.JEQ_K, 135, Op.JEQ_K, 136]);
    });
  }

  it('keeps the rows of the NA table that the kernel applies', () => {
    assert.ok(ADVERTISEMENT_FILTER_RULES.every((r) => r.kernel));
  });
});
