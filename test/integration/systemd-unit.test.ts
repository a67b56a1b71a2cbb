/**
 * The shipped systemd unit: its hardening directives, and `systemd-analyze verify` on it.
 * verify insists that ExecStart's binary exists, so it runs on a temporary copy whose
 * ExecStart points at this checkout's launcher (bin/ndp-responder.js under this node).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRANTED_CAPABILITIES, capabilityName } from '../../src/core/privileges';

const ROOT = join(__dirname, '..', '..', '..');
const UNIT = join(ROOT, 'contrib', 'systemd', 'ndp-responder.service');
const INSTALLED_LAUNCHER = '/usr/local/bin/ndp-responder';
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const skip = hasAnalyze ? false : 'systemd-analyze not installed (Debian package: systemd)';

/** `Key=value` lines of the [Service] section, keys repeated as they appear. */
function serviceDirectives(text: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header !== null) section = header[1]!;
    const pair = /^(\w+)=(.*)$/.exec(line);
    if (section === 'Service' && pair !== null) directives.set(pair[1]!, [...(directives.get(pair[1]!) ?? []), pair[2]!]);
  }
  return directives;
}

describe('contrib/systemd/ndp-responder.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const service = serviceDirectives(text);
  const one = (key: string): string | undefined => service.get(key)?.at(-1);
  const words = (key: string): string[] => (one(key) ?? '').split(/\s+/).filter(Boolean).sort();

  test('grants exactly the stated capabilities (core/privileges.ts) to a dynamic user, hardened, restarted on failure', () => {
    assert.equal(one('DynamicUser'), 'yes');
    const stated = GRANTED_CAPABILITIES.map(capabilityName).sort();
    assert.deepEqual(stated, ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_NET_RAW']);
    assert.deepEqual(words('AmbientCapabilities'), stated);
    assert.deepEqual(words('CapabilityBoundingSet'), stated);
    for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'RestrictNamespaces', 'LockPersonality', 'RestrictSUIDSGID']) {
      assert.equal(one(key), 'yes', key);
    }
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(one('Restart'), 'on-failure');
    assert.deepEqual(words('SystemCallFilter'), ['@system-service', 'bpf']);
    assert.equal(one('SystemCallErrorNumber'), 'EPERM', 'a refused bpf(2) is an EPERM, which auto turns into the socket path');
    for (const family of ['AF_PACKET', 'AF_NETLINK', 'AF_INET6', 'AF_UNIX']) assert.ok(words('RestrictAddressFamilies').includes(family), family);
    // V8's JIT needs W+X pages; user namespaces would void the capabilities on the host's links.
    for (const key of ['MemoryDenyWriteExecute', 'PrivateUsers', 'PrivateNetwork', 'ProcSubset']) assert.equal(one(key), undefined, key);
    assert.match(one('ExecStart') ?? '', new RegExp(`^${INSTALLED_LAUNCHER} run --config /etc/ndp-responder/config.yaml`));
    assert.doesNotMatch(one('ExecStart') ?? '', /--configure-host/, 'ProtectKernelTunables=yes keeps /proc/sys read-only');
  });

  describe('systemd-analyze', { skip }, () => {
    let dir: string;
    let copy: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'ndp-unit-'));
      copy = join(dir, 'ndp-responder.service');
      const launcher = `${process.execPath} ${join(ROOT, 'bin', 'ndp-responder.js')}`;
      writeFileSync(copy, text.replace(`ExecStart=${INSTALLED_LAUNCHER} `, `ExecStart=${launcher} `));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test('verify: exit 0 and not a single warning', () => {
      assert.notEqual(readFileSync(copy, 'utf8'), text, 'ExecStart was rewritten to this checkout');
      const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(`${result.stdout}${result.stderr}`.trim(), '', 'no warnings');
    });

    test('the system call filter lets bpf(2) through (the fast path; SystemCallErrorNumber=EPERM would hide it)', () => {
      const expand = (group: string): Set<string> => {
        const result = spawnSync('systemd-analyze', ['syscall-filter', '--no-pager', group], { encoding: 'utf8', timeout: 20_000 });
        assert.equal(result.status, 0, result.stderr);
        // The group's header line, its description, then one system call (or nested @group) per line.
        return new Set(result.stdout.split('\n').map((line) => line.trim()).filter((line) => /^[a-z_0-9]+$/.test(line)));
      };
      const allowed = words('SystemCallFilter').flatMap((entry) => (entry.startsWith('@') ? [...expand(entry)] : [entry]));
      assert.ok(allowed.includes('bpf'), `bpf not allowed by SystemCallFilter=${one('SystemCallFilter')}`);
    });

    test('security --offline: exposure 3.0 or better', (t) => {
      const result = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', copy], { encoding: 'utf8', timeout: 20_000 });
      const exposure = /Overall exposure level for .*: (\d+\.\d+)/.exec(result.stdout)?.[1];
      if (exposure === undefined) {
        t.skip(`this systemd-analyze has no offline security scoring: ${result.stderr.trim().split('\n')[0] ?? ''}`);
        return;
      }
      process.stdout.write(`# systemd-analyze security exposure: ${exposure}\n`);
      assert.ok(Number(exposure) <= 3.0, `exposure ${exposure}`);
    });
  });
});
