import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpv6 } from '../../src/wire/address';
import { WireError } from '../../src/wire/errors';
import { icmpv6Checksum, verifyIcmpv6Checksum, writeIcmpv6Checksum } from '../../src/wire/icmpv6';
import * as captured from '../fixtures/captured';
import { hex } from '../fixtures/hex';

/** Every captured frame is Ethernet + IPv6 without extension headers: ICMPv6 at 54. */
function parts(frame: Uint8Array): { source: Uint8Array; destination: Uint8Array; length: number } {
  return {
    source: frame.slice(22, 38),
    destination: frame.slice(38, 54),
    length: ((frame[18] ?? 0) << 8) | (frame[19] ?? 0),
  };
}

describe('ICMPv6 checksum (RFC 4443 §2.3) over captured kernel frames', () => {
  for (const [name, text] of Object.entries(captured)) {
    const frame = hex(text);
    const { source, destination, length } = parts(frame);
    const stored = ((frame[56] ?? 0) << 8) | (frame[57] ?? 0);

    it(`verifies ${name}`, () => {
      assert.equal(icmpv6Checksum(source, destination, frame, 54, length), 0);
      assert.equal(verifyIcmpv6Checksum(source, destination, frame, 54, length), true);
    });

    it(`recomputes the kernel's checksum 0x${stored.toString(16)} for ${name}`, () => {
      const copy = frame.slice();
      copy[56] = 0x12; // garbage: write must zero the field first
      copy[57] = 0x34;
      writeIcmpv6Checksum(source, destination, copy, 54, length);
      assert.equal(((copy[56] ?? 0) << 8) | (copy[57] ?? 0), stored);
    });

    it(`detects a flipped bit in ${name}`, () => {
      const copy = frame.slice();
      copy[54 + length - 1] = (copy[54 + length - 1] ?? 0) ^ 0x01;
      assert.equal(verifyIcmpv6Checksum(source, destination, copy, 54, length), false);
      assert.equal(verifyIcmpv6Checksum(source, parseIpv6('2001:db8::3'), frame, 54, length), false);
    });
  }
});

describe('ICMPv6 checksum edge cases', () => {
  const source = parseIpv6('2001:db8::1');
  const destination = parseIpv6('2001:db8::2');

  it('pads an odd-length message with a zero byte (RFC 1071)', () => {
    const odd = hex('8000', '0000', '0001', '0001', 'ab');
    const even = hex('8000', '0000', '0001', '0001', 'ab00');
    // Same words once padded; only the pseudo-header length (9 vs 10) differs, by 1 in the sum.
    writeIcmpv6Checksum(source, destination, odd, 0, 9);
    writeIcmpv6Checksum(source, destination, even, 0, 10);
    assert.equal(verifyIcmpv6Checksum(source, destination, odd, 0, 9), true);
    const sum = (b: Uint8Array): number => ((b[2] ?? 0) << 8) | (b[3] ?? 0);
    assert.equal((sum(odd) + 0xffff - sum(even)) % 0xffff, 1);
  });

  it('works at an offset inside a larger buffer', () => {
    const frame = hex(captured.NS_MULTICAST);
    const { source: s, destination: d, length } = parts(frame);
    const shifted = new Uint8Array(frame.length + 3);
    shifted.set(frame, 3);
    assert.equal(verifyIcmpv6Checksum(s, d, shifted, 57, length), true);
  });

  it('throws on a message running past the buffer and on bad pseudo-header addresses', () => {
    assert.throws(() => icmpv6Checksum(source, destination, new Uint8Array(8), 4, 8),
      (e: unknown) => e instanceof WireError && e.code === 'truncated');
    assert.throws(() => icmpv6Checksum(new Uint8Array(4), destination, new Uint8Array(8), 0, 8),
      (e: unknown) => e instanceof WireError && e.code === 'bad-address');
  });

  it('sums a 1500-byte message 10,000 times in well under a second', () => {
    const big = new Uint8Array(1500).fill(0x5a);
    const started = process.hrtime.bigint();
    for (let i = 0; i < 10_000; i++) icmpv6Checksum(source, destination, big, 0, big.length);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 1000, `took ${ms} ms`);
  });
});
