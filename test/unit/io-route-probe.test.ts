import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeProbeAddress } from '../../src/io/host-watcher';
import { parseTarget } from '../../src/core/parse-target';
import { formatIpv6 } from '../../src/wire/address';

const cases: [string, string][] = [
  ['2001:db8::a:71a5', '2001:db8::a:71a5'], // a single address stands for itself
  ['2001:db8::a:71a0/125', '2001:db8::a:71a7'], // not ::a:71a0, the subnet-router anycast address
  ['2001:db8::/64', '2001:db8::ffff:ffff:ffff:ffff'],
  ['2001:db8::a:71a4/127', '2001:db8::a:71a5'],
];
for (const [target, probe] of cases) {
  test(`route probe for ${target} is ${probe}`, () => {
    assert.equal(formatIpv6(routeProbeAddress(parseTarget(target))), probe);
  });
}
