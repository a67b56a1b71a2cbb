/**
 * The numeric address table behind target and own-address lookups: random insert/delete
 * sequences agree with a Map model (growth and backward-shift deletion included), and
 * TargetSet's longest-prefix match agrees with a linear scan.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressTable, prefixWordMask } from '../../src/wire/address-table';
import { TargetSet, networkAddress } from '../../src/core/target-set';
import { toHex } from '../fixtures/hex';
import { type Target } from '../../src/model/target';
import { parseTarget } from '../../src/core/parse-target';
import { parseIpv6 } from '../../src/wire/address';
import { randomBytes, seededRandom, type Random } from '../fixtures/random';

/** Addresses that collide often: a small pool differing in few bits. */
function poolAddress(random: Random): Uint8Array {
  const a = parseIpv6('2001:db8::');
  a[15] = random(64);
  if (random(4) === 0) a[7] = random(4);
  return a;
}

describe('AddressTable', () => {
  it('agrees with a Map over 20 000 random set/delete/get operations', () => {
    const random = seededRandom(0xadd7);
    const table = new AddressTable();
    const model = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const address = poolAddress(random);
      const key = toHex(address);
      const op = random(3);
      if (op === 0) assert.equal(table.set(address, 0, i), !model.has(key));
      if (op === 0) model.set(key, i);
      if (op === 1) assert.equal(table.delete(address), model.delete(key));
      assert.equal(table.getAt(address, 0), model.get(key) ?? -1, `op ${i}`);
      assert.equal(table.size, model.size);
    }
    for (let n = 0; n < 256; n++) {
      const address = parseIpv6('2001:db8::');
      address[15] = n % 64;
      address[7] = n >> 6;
      assert.equal(table.getAt(address, 0), model.get(toHex(address)) ?? -1);
    }
  });

  it('reads keys at an offset inside a larger buffer, and masks prefix words', () => {
    const table = new AddressTable();
    const frame = new Uint8Array(100);
    frame.set(parseIpv6('2001:db8::a:71a5'), 62);
    table.set(parseIpv6('2001:db8::a:71a5'), 0, 7);
    assert.equal(table.getAt(frame, 62), 7);
    assert.equal(table.getAt(frame, 61), -1);
    assert.deepEqual([0, 1, 2, 3].map((i) => prefixWordMask(125, i) >>> 0), [0xffffffff, 0xffffffff, 0xffffffff, 0xfffffff8]);
    assert.deepEqual([0, 1, 2, 3].map((i) => prefixWordMask(40, i) >>> 0), [0xffffffff, 0xff000000, 0, 0]);
  });
});

/** Longest-prefix match by scanning every target: the obviously right answer. */
function linearMatch(targets: readonly Target[], address: Uint8Array): Target | undefined {
  let best: Target | undefined;
  for (const t of targets) {
    const covers = toHex(networkAddress(address, t.prefixLength)) === toHex(networkAddress(t.address, t.prefixLength));
    if (covers && (best === undefined || t.prefixLength > best.prefixLength)) best = t;
  }
  return best;
}

describe('TargetSet.matchAt', () => {
  it('agrees with a linear longest-prefix scan on 20 000 addresses', () => {
    const random = seededRandom(0x7a5e);
    const texts = ['2001:db8::a:71a5', '2001:db8::a:71a0/125', '2001:db8::/64', '2001:db8::/48', '2001:db8:0:0:8000::/65', '2001:db8::a:0/112', '2001:db8:1::1'];
    const list = texts.map((t) => parseTarget(t));
    for (let i = 0; i < 200; i++) list.push(parseTarget(`2001:db8:2::${(i * 7).toString(16)}`));
    const set = new TargetSet(list);
    const frame = new Uint8Array(40);
    for (let i = 0; i < 20_000; i++) {
      const address = random(3) === 0 ? randomBytes(random, 16) : parseIpv6(['2001:db8::a:71a5', '2001:db8::a:71a3', '2001:db8::9', '2001:db8:0:0:8000::1', '2001:db8:0:1::1', '2001:db8:2::7'][random(6)]!);
      if (random(2) === 0) address[15] = random(256);
      frame.set(address, 9);
      assert.equal(set.matchAt(frame, 9)?.text, linearMatch(set.targets, address)?.text, toHex(address));
    }
  });
});
