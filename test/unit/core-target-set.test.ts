import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TargetSet } from '../../src/core/target-set';
import { parseTarget } from '../../src/core/parse-target';
import { parseIpv6 } from '../../src/wire/address';

const set = new TargetSet(
  ['2001:db8::a:71a5', '2001:db8::a:71a0/125', '2001:db8:0:0:1::/80', '2001:db8::a:71a5', '2001:db8::a:71a0/125'].map((t) => parseTarget(t)),
);

const cases: [string, string | undefined][] = [
  ['2001:db8::a:71a5', '2001:db8::a:71a5'], // exact beats the covering /125
  ['2001:db8::a:71a0', '2001:db8::a:71a0/125'], // first address of the prefix
  ['2001:db8::a:71a7', '2001:db8::a:71a0/125'], // last address of the prefix
  ['2001:db8::a:71a8', undefined], // one past the /125
  ['2001:db8::a:719f', undefined], // one before the /125
  ['2001:db8::1:0:0:7', '2001:db8:0:0:1::/80'],
  ['2001:db8::2:0:0:7', undefined],
  ['fe80::1', undefined],
];

for (const [address, expected] of cases) {
  test(`target set: ${address} matches ${expected ?? 'nothing'}`, () => {
    assert.equal(set.match(parseIpv6(address))?.text, expected);
  });
}

test('target set: duplicates collapse, prefixes are flagged', () => {
  assert.equal(set.size, 3);
  assert.equal(set.hasPrefixes, true);
  assert.equal(new TargetSet([parseTarget('2001:db8::5')]).hasPrefixes, false);
});

test('target set: 100k single targets stay exact', () => {
  const many = [];
  for (let i = 0; i < 100_000; i++) many.push(parseTarget(`2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`));
  const big = new TargetSet(many);
  assert.equal(big.size, 100_000);
  assert.equal(big.match(parseIpv6('2001:db8::1:86a0'))?.text, undefined); // 100000 itself is not in
  assert.equal(big.match(parseIpv6('2001:db8::1:869f'))?.text, '2001:db8::1:869f');
});
