import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Capability,
  GRANTED_CAPABILITIES,
  fastPathPrivilegeReason,
  missingFastPathCapabilities,
  missingPrivilege,
} from '../../src/core/privileges';

/** A CapEff mask holding exactly `bits`. */
const caps = (...bits: number[]): bigint => bits.reduce((set, bit) => set | (1n << BigInt(bit)), 0n);
const { NetRaw, NetAdmin, Bpf, Perfmon, SysAdmin } = Capability;
/** Root's CapEff on Linux 6.18 (capabilities 0..40). */
const ROOT = (1n << 41n) - 1n;

describe('privileges: the fast path needs CAP_BPF and CAP_NET_ADMIN', () => {
  it('names exactly the missing ones, in a fixed order', () => {
    assert.deepEqual(missingFastPathCapabilities(caps(NetRaw, NetAdmin, Bpf)), []);
    assert.deepEqual(missingFastPathCapabilities(caps(NetRaw, NetAdmin)), [Bpf]);
    assert.deepEqual(missingFastPathCapabilities(caps(Bpf, Perfmon)), [NetAdmin]);
    assert.deepEqual(missingFastPathCapabilities(0n), [Bpf, NetAdmin]);
    assert.deepEqual(missingFastPathCapabilities(ROOT), []);
  });

  it('CAP_PERFMON is neither needed nor a substitute; CAP_SYS_ADMIN stands in for both', () => {
    assert.deepEqual(missingFastPathCapabilities(caps(NetAdmin, Perfmon)), [Bpf]);
    assert.deepEqual(missingFastPathCapabilities(caps(SysAdmin)), []);
  });

  it('the reason is one line naming what is missing and what is needed', () => {
    assert.equal(fastPathPrivilegeReason(caps(NetRaw, NetAdmin)), 'missing CAP_BPF: the in-kernel path needs CAP_BPF and CAP_NET_ADMIN');
    assert.equal(fastPathPrivilegeReason(0n), 'missing CAP_BPF and CAP_NET_ADMIN: the in-kernel path needs CAP_BPF and CAP_NET_ADMIN');
    assert.equal(fastPathPrivilegeReason(caps(NetAdmin, Bpf)), undefined);
  });

  it('what the unit and the image grant: the socket path first, then CAP_BPF', () => {
    assert.deepEqual(GRANTED_CAPABILITIES, [NetRaw, NetAdmin, Bpf]);
  });
});

describe('privileges: what stops `run`', () => {
  const socketOnly = caps(NetRaw, NetAdmin);
  it('the socket path is unchanged: CAP_NET_RAW always, CAP_NET_ADMIN for --configure-host', () => {
    assert.match(missingPrivilege(caps(NetAdmin, Bpf), false, 'socket') ?? '', /^missing privileges: needs CAP_NET_RAW/);
    assert.equal(missingPrivilege(caps(NetRaw), false, 'socket'), undefined);
    assert.equal(missingPrivilege(caps(NetRaw), true, 'socket'), 'missing privileges: --configure-host needs CAP_NET_ADMIN');
  });

  it('auto never stops it for want of CAP_BPF; bpf does, in one line naming the capability', () => {
    assert.equal(missingPrivilege(socketOnly, false, 'auto'), undefined);
    const line = missingPrivilege(socketOnly, false, 'bpf');
    assert.equal(line, 'missing privileges: --fast-path bpf needs CAP_BPF and CAP_NET_ADMIN, this process lacks CAP_BPF; grant them or use --fast-path auto');
    assert.doesNotMatch(line!, /\n/);
    assert.equal(missingPrivilege(caps(NetRaw, NetAdmin, Bpf), false, 'bpf'), undefined);
    assert.match(missingPrivilege(caps(NetRaw, Bpf), false, 'bpf') ?? '', /lacks CAP_NET_ADMIN;/);
  });
});
