import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeOf, dockerTargets, isRelevantEvent, selectNetworks } from '../../src/sources/docker-targets';
import { JsonStreamSplitter } from '../../src/sources/docker-api';
import { TargetSet } from '../../src/core/target-set';
import { parseIpv6 } from '../../src/wire/address';
import { CONTAINERS_ONE, CONTAINERS_TWO, EVENT_STREAM, NETWORKS_ONE, NETWORKS_TWO } from '../fixtures/docker-engine';

/** The fields a user sees in the log: origin, address, via. */
function rows(networks: unknown, containers: unknown, selection: { networks: string[]; all: boolean }): string[] {
  return dockerTargets(networks, containers, selection).targets.map((t) => `${t.target.origin} ${t.target.text} via ${t.target.via}`);
}

describe('docker targets from recorded Engine replies', () => {
  test('a named network: its container address, routed via the bridge-name option', () => {
    assert.deepEqual(rows(NETWORKS_ONE, CONTAINERS_ONE, { networks: ['lan6'], all: false }), ['docker:lan6/web 2001:db8::a:71a5 via br-lan6']);
  });

  test('an IPAM-assigned address counts as much as a requested one; unselected networks are left out', () => {
    assert.deepEqual(rows(NETWORKS_TWO, CONTAINERS_TWO, { networks: ['lan6'], all: false }), [
      'docker:lan6/db 2001:db8::a:71a2 via br-lan6',
      'docker:lan6/web 2001:db8::a:71a5 via br-lan6',
    ]);
  });

  test('--docker: every IPv6 bridge; without the name option the bridge is br- plus 12 characters of the ID', () => {
    assert.deepEqual(rows(NETWORKS_TWO, CONTAINERS_TWO, { networks: [], all: true }), [
      'docker:auto6/db 2001:db8::b:2 via br-4a60de76d7af',
      'docker:lan6/db 2001:db8::a:71a2 via br-lan6',
      'docker:lan6/web 2001:db8::a:71a5 via br-lan6',
    ]);
  });

  test('a network may be named by its ID', () => {
    const id = '4a60de76d7af73ace27a404fad230662cdb8196097ffeac989d7e022c497a8d6';
    assert.deepEqual(rows(NETWORKS_TWO, CONTAINERS_TWO, { networks: [id], all: false }), ['docker:auto6/db 2001:db8::b:2 via br-4a60de76d7af']);
  });

  test('targets answer lookups in a TargetSet (what the daemon builds from them)', () => {
    const set = new TargetSet(dockerTargets(NETWORKS_TWO, CONTAINERS_TWO, { networks: [], all: true }).targets.map((t) => t.target));
    assert.equal(set.match(parseIpv6('2001:db8::a:71a5'))?.origin, 'docker:lan6/web');
    assert.equal(set.match(parseIpv6('2001:db8::a:71a3')), undefined, 'only container addresses, not the subnet');
  });

  test('the default bridge (IPv6 off) yields nothing and says why when named', () => {
    const listing = dockerTargets(NETWORKS_TWO, CONTAINERS_TWO, { networks: ['bridge'], all: false });
    assert.deepEqual(listing.targets, []);
    assert.deepEqual(listing.unusableNetworks, [{ network: 'bridge', reason: 'IPv6 is not enabled on it (docker network create --ipv6)' }]);
  });

  test('a named network the Engine does not know is reported missing; host/null drivers are unusable', () => {
    const listing = dockerTargets(NETWORKS_ONE, CONTAINERS_ONE, { networks: ['nope', 'host'], all: false });
    assert.deepEqual(listing.missingNetworks, ['nope']);
    assert.deepEqual(listing.unusableNetworks.map((u) => u.network), ['host']);
    assert.match(listing.unusableNetworks[0]!.reason, /not a bridge network/);
  });

  test('no containers yet: an empty list, not an error', () => {
    assert.deepEqual(dockerTargets(NETWORKS_ONE, [], { networks: ['lan6'], all: false }).targets, []);
  });

  test('addresses that cannot be proxied are rejected with a reason; garbage is tolerated', () => {
    const containers = [
      { Names: ['/ll'], NetworkSettings: { Networks: { lan6: { NetworkID: 'x', GlobalIPv6Address: 'fe80::5' } } } },
      { Names: ['/bad'], NetworkSettings: { Networks: { lan6: { GlobalIPv6Address: 'not-an-address' } } } },
      { Names: null, NetworkSettings: 7 },
      'junk',
    ];
    const listing = dockerTargets(NETWORKS_ONE, containers, { networks: ['lan6'], all: false });
    assert.deepEqual(listing.targets, []);
    assert.deepEqual(listing.rejectedAddresses.map((r) => [r.origin, r.address]), [['docker:lan6/ll', 'fe80::5'], ['docker:lan6/bad', 'not-an-address']]);
    assert.match(listing.rejectedAddresses[0]!.reason, /link-local/);
    assert.deepEqual(dockerTargets({ message: 'oops' }, null, { networks: ['lan6'], all: false }).missingNetworks, ['lan6']);
  });

  test('bridge names: the option, docker0 for the default network, else br-<12 of the ID>', () => {
    assert.equal(bridgeOf({ Name: 'x', Id: '0123456789abcdef', Options: { 'com.docker.network.bridge.name': 'br-x' } }), 'br-x');
    assert.equal(bridgeOf({ Name: 'bridge', Id: '0123456789abcdef', Options: {} }), 'docker0');
    assert.equal(bridgeOf({ Name: 'y', Id: '0123456789abcdef', Options: null }), 'br-0123456789ab');
    assert.equal(selectNetworks(NETWORKS_ONE, { networks: [], all: true }).selected.size, 1, 'only lan6 is an IPv6 bridge');
  });
});

describe('Engine event stream', () => {
  const actions = (events: unknown[]): string[] => events.map((e) => `${(e as { Type: string }).Type} ${(e as { Action: string }).Action}`);

  test('the recorded stream, fed in one piece, gives every event in order', () => {
    const events = new JsonStreamSplitter().push(EVENT_STREAM);
    assert.equal(events.length, 16);
    assert.deepEqual(actions(events).slice(0, 4), ['network create', 'container create', 'network connect', 'container start']);
  });

  test('cut into chunks at every possible size, it gives the same events', () => {
    const whole = new JsonStreamSplitter().push(EVENT_STREAM);
    for (const size of [1, 2, 3, 7, 64, 199, 1000]) {
      const splitter = new JsonStreamSplitter();
      const got: unknown[] = [];
      for (let i = 0; i < EVENT_STREAM.length; i += size) got.push(...splitter.push(EVENT_STREAM.slice(i, i + size)));
      assert.deepEqual(got, whole, `chunk size ${size}`);
    }
  });

  test('braces and escaped quotes inside strings do not end an object; back-to-back objects split', () => {
    const events = new JsonStreamSplitter().push('{"a":"}{\\"x"}{"b":{"c":1}}\r\n');
    assert.deepEqual(events, [{ a: '}{"x' }, { b: { c: 1 } }]);
  });

  test('garbage between events is an error, not silently skipped', () => {
    assert.throws(() => new JsonStreamSplitter().push('{"a":1}\nnot json\n'), /unexpected character/);
    assert.throws(() => new JsonStreamSplitter().push('}'), /unexpected character/);
  });

  test('relevant events: network connect/disconnect, container start/die/destroy; not create/kill/stop', () => {
    const events = new JsonStreamSplitter().push(EVENT_STREAM);
    assert.deepEqual(actions(events.filter(isRelevantEvent)), [
      'network connect',
      'container start',
      'network connect',
      'network connect',
      'container start',
      'network disconnect',
      'network disconnect',
      'container die',
      'network disconnect',
      'container destroy',
    ]);
  });
});
