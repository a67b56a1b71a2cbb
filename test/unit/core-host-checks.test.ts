import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExitCode, checkFastPath, evaluateHost, formatReport, type CheckResult, type HostFacts } from '../../src/core/host-checks';
import type { RouteInfo } from '../../src/model/target';
import { parseTarget } from '../../src/core/parse-target';
import { parseIpv6 } from '../../src/wire/address';

const PREFIX = parseTarget('2001:db8::a:71a0/125');
const SINGLE = parseTarget('2001:db8::a:71a5');

/** A host on which everything is right; each case breaks one thing. */
function healthy(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    forwarding: 1,
    proxyNdpAll: 0,
    uplink: { name: 'eth0', exists: true, up: true, ifindex: 2, mac: Uint8Array.of(2, 0, 0, 0, 0, 1), acceptRa: 2, proxyNdp: 0 },
    via: 'br0',
    viaExists: true,
    targets: [PREFIX, SINGLE],
    routes: new Map<string, RouteInfo>([
      [PREFIX.text, { kind: 'interface', ifname: 'br0' }],
      [SINGLE.text, { kind: 'interface', ifname: 'br0' }],
    ]),
    proxyEntries: [],
    capabilities: 0x3000n,
    ...overrides,
  };
}

function only(results: CheckResult[], status: string): string[] {
  return results.filter((r) => r.status === status).map((r) => `${r.check}: ${r.message}`);
}

describe('host checks (pure)', () => {
  it('a healthy host is all ok and exits 0', () => {
    const results = evaluateHost(healthy());
    assert.deepEqual(results.filter((r) => r.status !== 'ok'), []);
    assert.equal(checkExitCode(results), 0);
    assert.deepEqual(results.map((r) => r.check), ['capabilities', 'interface', 'forwarding', 'accept_ra', 'proxy_ndp', 'via', 'route', 'route', 'proxy-entry']);
  });

  const failures: [string, Partial<HostFacts>, RegExp, RegExp][] = [
    ['forwarding off', { forwarding: 0 }, /^forwarding: IPv6 forwarding is off/, /IPForward=ipv6/],
    ['accept_ra=1 while forwarding', { uplink: { ...healthy().uplink!, acceptRa: 1 } }, /^accept_ra: forwarding is on/, /accept_ra=2/],
    ['uplink missing', { uplink: { name: 'eth9', exists: false, up: false, acceptRa: undefined, proxyNdp: undefined } }, /^interface: eth9 not found/, /--wait-for-interface/],
    ['uplink down', { uplink: { ...healthy().uplink!, up: false } }, /is down or has no carrier/, /ip link set eth0 up/],
    ['no CAP_NET_RAW', { capabilities: 0x1000n }, /lacks CAP_NET_RAW/, /AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN/],
    ['target routed out of the uplink', { routes: new Map([[PREFIX.text, { kind: 'interface', ifname: 'eth0' }]]), targets: [PREFIX] }, /leaves by the uplink eth0/, /ip -6 route add 2001:db8::a:71a0\/125 dev br0/],
    ['target routed elsewhere than --via', { routes: new Map([[PREFIX.text, { kind: 'interface', ifname: 'docker0' }]]), targets: [PREFIX] }, /leaves by docker0, not by br0/, /route replace/],
    ['target without a route', { routes: new Map(), targets: [PREFIX] }, /has no route/, /ip -6 route add/],
    ['target is a local address', { routes: new Map([[SINGLE.text, { kind: 'local' }]]), targets: [SINGLE] }, /is an address of this host/, /remove it/],
    [
      'active kernel proxy entry inside a prefix target',
      { proxyEntries: [{ address: parseIpv6('2001:db8::a:71a3'), addressText: '2001:db8::a:71a3', ifname: 'eth0', deviceProxyNdp: 1 }] },
      /^proxy-entry: kernel proxy entry for 2001:db8::a:71a3 on eth0: the kernel answers too/,
      /ip -6 neigh del proxy 2001:db8::a:71a3 dev eth0/,
    ],
  ];
  for (const [name, overrides, message, fix] of failures) {
    it(`${name}: FAIL with its fix, exit 1`, () => {
      const results = evaluateHost(healthy(overrides));
      const failed = results.filter((r) => r.status === 'fail');
      assert.equal(failed.length, 1, JSON.stringify(failed));
      assert.match(`${failed[0]!.check}: ${failed[0]!.message}`, message);
      assert.ok(failed[0]!.fixes.some((f) => fix.test(f)), `fixes ${JSON.stringify(failed[0]!.fixes)}`);
      assert.equal(checkExitCode(results), 1);
    });
  }

  it('warnings do not fail: dormant proxy entry, missing --via bridge, no CAP_NET_ADMIN, entries for other addresses ignored', () => {
    const results = evaluateHost(
      healthy({
        proxyEntries: [
          { address: parseIpv6('2001:db8::a:71a5'), addressText: '2001:db8::a:71a5', ifname: 'eth0', deviceProxyNdp: 0 },
          { address: parseIpv6('2001:db8::99'), addressText: '2001:db8::99', ifname: 'eth0', deviceProxyNdp: 0 },
        ],
        viaExists: false,
        capabilities: 0x2000n,
      }),
    );
    assert.equal(checkExitCode(results), 0);
    const warnings = only(results, 'warn').join('\n');
    assert.match(warnings, /2001:db8::a:71a5 on eth0 \(dormant/);
    assert.doesNotMatch(warnings, /2001:db8::99/);
    assert.match(warnings, /br0 not found: the responder waits for it/);
    assert.match(warnings, /no CAP_NET_ADMIN/);
  });

  it('formats one aligned line per check, indented fixes and a summary', () => {
    const text = formatReport(evaluateHost(healthy({ forwarding: 0 })));
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0]!, /^ok {4}capabilities {2}CAP_NET_RAW and CAP_NET_ADMIN are effective$/);
    const fail = lines.findIndex((l) => l.startsWith('FAIL  forwarding'));
    assert.match(lines[fail + 1]!, /^ {20}fix: sysctl -w net\.ipv6\.conf\.all\.forwarding=1$/);
    assert.equal(lines.at(-1), '1 problem(s) would stop the responder');
  });
});

describe('host checks: --fast-path (which path run would use, and why)', () => {
  it('socket: ok, says why one would pick it and what bpf would use', () => {
    const r = checkFastPath({ mode: 'socket', available: { kind: 'bpf-tcx' } });
    assert.equal(r.status, 'ok');
    assert.match(r.message, /run would answer from the socket: --fast-path socket \(--fast-path bpf would use bpf-tcx\)/);
  });

  it('auto or bpf with the kernel path available: in the kernel, and says it has no answer limits', () => {
    for (const mode of ['auto', 'bpf'] as const) {
      const r = checkFastPath({ mode, available: { kind: 'bpf-xdp-generic' } });
      assert.equal(r.status, 'ok');
      assert.match(r.message, /in the kernel \(bpf-xdp-generic\), addresses and prefixes, with the same answer limits/);
    }
  });

  it('auto without it: the socket, with the reason; bpf without it: fail (run would exit 3) with fixes', () => {
    const available = { reason: 'cannot load the program: Operation not permitted (needs CAP_BPF and CAP_NET_ADMIN)' };
    const auto = checkFastPath({ mode: 'auto', available });
    assert.equal(auto.status, 'ok');
    assert.match(auto.message, /socket: the in-kernel path is unavailable \(cannot load the program/);
    const bpf = checkFastPath({ mode: 'bpf', available });
    assert.equal(bpf.status, 'fail');
    assert.match(bpf.message, /run would exit 3/);
    assert.ok(bpf.fixes.some((fix) => fix.includes('CAP_BPF')));
  });
});
