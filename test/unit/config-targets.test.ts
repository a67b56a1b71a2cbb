import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTarget } from '../../src/core/parse-target';
import { UserError } from '../../src/model/errors';
import { parseRunOptions } from '../../src/config/run-options';

const good: [string, string, number][] = [
  ['2001:db8::a:71a5', '2001:db8::a:71a5', 128],
  ['2001:DB8:0:0:0:0:a:71a5', '2001:db8::a:71a5', 128],
  ['2001:db8::a:71a0/125', '2001:db8::a:71a0/125', 125],
  ['2001:db8::/64', '2001:db8::/64', 64],
  [' 2001:db8::5/128 ', '2001:db8::5', 128],
];
for (const [input, text, length] of good) {
  test(`parseTarget accepts ${input}`, () => {
    const target = parseTarget(input);
    assert.equal(target.text, text);
    assert.equal(target.prefixLength, length);
    assert.equal(target.address.length, 16);
  });
}

const bad: [string, RegExp][] = [
  ['192.0.2.1', /IPv4/],
  ['ff02::1', /multicast/],
  ['fe80::1', /link-local/],
  ['::', /unspecified/],
  ['::1', /loopback/],
  ['::ffff:192.0.2.1', /IPv4-mapped/],
  ['::ffff:c000:201/128', /IPv4-mapped/],
  ['2001:db8::5%eth0', /zone/],
  ['2001:db8::zz', /not an IPv6 address/],
  ['2001:db8::a:71a5/125', /host bits are set; did you mean 2001:db8::a:71a0\/125/],
  ['2001:db8::/129', /prefix length/],
  ['2001:db8::/x', /prefix length/],
  ['', /expected an IPv6 address/],
];
for (const [input, message] of bad) {
  test(`parseTarget rejects "${input}" with one clear line`, () => {
    assert.throws(() => parseTarget(input), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, message);
      assert.equal(error.message.includes('\n'), false);
      assert.equal(error.exitCode, 2);
      return true;
    });
  });
}

test('run options: defaults are override on, router off, source target', () => {
  const config = parseRunOptions({ interface: 'eth0', target: ['2001:db8::5'] });
  assert.equal(config.daemon.override, true);
  assert.equal(config.daemon.router, false);
  assert.equal(config.daemon.source, 'target');
  assert.equal(config.daemon.via, undefined);
});

test('run options: --no-override, --router, --source link-local, --via', () => {
  const config = parseRunOptions({ interface: 'eth0', target: ['2001:db8::5'], override: false, router: true, source: 'link-local', via: 'br0' });
  assert.equal(config.daemon.override, false);
  assert.equal(config.daemon.router, true);
  assert.equal(config.daemon.source, 'link-local');
  assert.equal(config.daemon.via, 'br0');
});

const badRuns: [string, object, RegExp][] = [
  ['no target', { interface: 'eth0' }, /no target/],
  ['no interface', { target: ['2001:db8::5'] }, /missing --interface/],
  ['via is uplink', { interface: 'eth0', via: 'eth0', target: ['2001:db8::5'] }, /uplink itself/],
  ['bad source', { interface: 'eth0', target: ['2001:db8::5'], source: 'x' }, /--source/],
  ['bad interface name', { interface: 'a/b', target: ['2001:db8::5'] }, /not an interface name/],
];
for (const [name, raw, message] of badRuns) {
  test(`run options reject: ${name}`, () => {
    assert.throws(() => parseRunOptions(raw), message);
  });
}
