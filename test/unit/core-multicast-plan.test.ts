import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_GROUP_JOINS, multicastPlan } from '../../src/core/target-filter';
import { parseTarget } from '../../src/core/parse-target';
import { formatMac } from '../../src/wire/address';

test('multicast plan: one solicited-node group per distinct low 24 bits, with its 33:33:ff MAC', () => {
  // ::a:71a5 and ::b:a:71a5 share their low 24 bits, so they share one group.
  const plan = multicastPlan(['2001:db8::a:71a5', '2001:db8::b:a:71a5', '2001:db8::a:71a6'].map((t) => parseTarget(t)));
  assert.deepEqual(plan.groups, ['ff02::1:ff0a:71a5', 'ff02::1:ff0a:71a6']);
  assert.deepEqual(plan.groupMacs.map((m) => formatMac(m)), ['33:33:ff:0a:71:a5', '33:33:ff:0a:71:a6']);
  assert.equal(plan.allMulticast, false);
});

test('multicast plan: a prefix target needs ALLMULTI (its groups are too many to join)', () => {
  const plan = multicastPlan([parseTarget('2001:db8::a:71a0/125'), parseTarget('2001:db8::5')]);
  assert.equal(plan.allMulticast, true);
  assert.deepEqual(plan.groups, ['ff02::1:ff00:5']);
});

test(`multicast plan: more than ${MAX_GROUP_JOINS} addresses switch to ALLMULTI instead of joins`, () => {
  const many = Array.from({ length: MAX_GROUP_JOINS + 1 }, (_, i) => parseTarget(`2001:db8::${(i + 1).toString(16)}`));
  const plan = multicastPlan(many);
  assert.equal(plan.allMulticast, true);
  assert.equal(plan.groups.length, 0);
  assert.equal(multicastPlan(many.slice(0, MAX_GROUP_JOINS)).groups.length, MAX_GROUP_JOINS);
});
