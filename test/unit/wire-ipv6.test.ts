import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpv6, parseMac } from '../../src/wire/address';
import { WireError, WireErrorCode } from '../../src/wire/errors';
import { EtherType, EthernetHeader, decodeEthernetHeader, encodeEthernetHeader } from '../../src/wire/ethernet';
import { IpProtocol, Ipv6Header, decodeIpv6Header, encodeIpv6Header, walkExtensionHeaders } from '../../src/wire/ipv6';
import { hex } from '../fixtures/hex';
import { Codec, assertRoundTrip } from '../fixtures/round-trip';

const ethernetCodec: Codec<EthernetHeader> = {
  encode: encodeEthernetHeader,
  decode: (bytes, offset) => decodeEthernetHeader(bytes, offset),
  encodingLength: () => 14,
};

const ipv6Codec: Codec<Ipv6Header> = {
  encode: encodeIpv6Header,
  decode: (bytes, offset) => decodeIpv6Header(bytes, offset),
  encodingLength: () => 40,
};

function throwsCode(fn: () => unknown, code: WireErrorCode, offset?: number): void {
  assert.throws(fn, (e: unknown) => e instanceof WireError && e.code === code && (offset === undefined || e.offset === offset));
}

describe('Ethernet header', () => {
  it('round-trips the header of a captured NS', () => {
    const value = { destination: parseMac('33:33:ff:00:00:02'), source: parseMac('02:00:00:00:00:0a'), etherType: EtherType.IPv6 };
    assertRoundTrip(ethernetCodec, value, hex('3333ff000002', '02000000000a', '86dd'));
  });

  it('throws truncated with the offset for 13 bytes', () => {
    throwsCode(() => decodeEthernetHeader(new Uint8Array(20), 7), 'truncated', 7);
  });
});

describe('IPv6 header', () => {
  const table: Array<[name: string, value: Ipv6Header, bytes: Uint8Array]> = [
    [
      'NS to a solicited-node group',
      {
        trafficClass: 0, flowLabel: 0, payloadLength: 32, nextHeader: IpProtocol.Icmpv6, hopLimit: 255,
        source: parseIpv6('2001:db8::1'), destination: parseIpv6('ff02::1:ff00:2'),
      },
      hex(
        '6', '00', '00000', // version 6, traffic class 0, flow label 0
        '0020', '3a', 'ff', // payload length 32, next header 58, hop limit 255
        '20010db8000000000000000000000001', // source 2001:db8::1
        'ff0200000000000000000001ff000002', // destination ff02::1:ff00:2
      ),
    ],
    [
      'echo request with traffic class and flow label',
      {
        trafficClass: 0xb8, flowLabel: 0xf77e0, payloadLength: 64, nextHeader: IpProtocol.Icmpv6, hopLimit: 64,
        source: parseIpv6('2001:db8::1'), destination: parseIpv6('2001:db8::2'),
      },
      hex(
        '6', 'b8', 'f77e0', // version 6, traffic class 0xb8 (EF), flow label 0xf77e0
        '0040', '3a', '40', // payload length 64, next header 58, hop limit 64
        '20010db8000000000000000000000001', // source 2001:db8::1
        '20010db8000000000000000000000002', // destination 2001:db8::2
      ),
    ],
  ];
  for (const [name, value, bytes] of table) {
    it(`round-trips ${name}`, () => assertRoundTrip(ipv6Codec, value, bytes));
  }

  it('throws bad-version for an IPv4 header', () => {
    throwsCode(() => decodeIpv6Header(hex('45', '00'.repeat(39)), 0), 'bad-version', 0);
  });

  it('throws truncated for 39 bytes', () => throwsCode(() => decodeIpv6Header(new Uint8Array(39), 0), 'truncated', 0));
});

/** Builds `count` 8-byte headers of `protocol`, each chaining to the next, the last to ICMPv6. */
function chain(protocol: number, count: number): { bytes: Uint8Array; end: number } {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(i === count - 1 ? '3a' : protocol.toString(16).padStart(2, '0'), '00', '010400000000');
  const bytes = hex(...parts, '8700');
  return { bytes, end: bytes.length };
}

describe('walkExtensionHeaders', () => {
  it('returns the upper layer at once when there are no extension headers', () => {
    assert.deepEqual(walkExtensionHeaders(hex('8700'), 0, IpProtocol.Icmpv6, 2), {
      protocol: 58, offset: 0, fragmented: false, extensionHeaders: [],
    });
  });

  const table: Array<[name: string, first: number, bytes: Uint8Array, result: ReturnType<typeof walkExtensionHeaders>]> = [
    ['hop-by-hop with PadN', IpProtocol.HopByHop, hex('3a00', '0104', '00000000', '8700'),
      { protocol: 58, offset: 8, fragmented: false, extensionHeaders: [0] }],
    ['16-byte hop-by-hop', IpProtocol.HopByHop, hex('3a01', '010c', '00'.repeat(12), '8700'),
      { protocol: 58, offset: 16, fragmented: false, extensionHeaders: [0] }],
    ['fragment (RFC 6980)', IpProtocol.Fragment, hex('3a00', '0000', '12345678', '8700'),
      { protocol: 58, offset: 8, fragmented: true, extensionHeaders: [44] }],
    ['hop-by-hop, routing, destination options', IpProtocol.HopByHop,
      hex('2b00', '010400000000', '3c00', '0000', '00000000', '3a00', '010400000000', '8700'),
      { protocol: 58, offset: 24, fragmented: false, extensionHeaders: [0, 43, 60] }],
    ['no next header', IpProtocol.DestinationOptions, hex('3b00', '010400000000'),
      { protocol: 59, offset: 8, fragmented: false, extensionHeaders: [60] }],
  ];
  for (const [name, first, bytes, result] of table) {
    it(`walks ${name}`, () => assert.deepEqual(walkExtensionHeaders(bytes, 0, first, bytes.length), result));
  }

  it('walks 8 headers but not 9', () => {
    const eight = chain(IpProtocol.DestinationOptions, 8);
    assert.equal(walkExtensionHeaders(eight.bytes, 0, IpProtocol.DestinationOptions, eight.end).offset, 64);
    const nine = chain(IpProtocol.DestinationOptions, 9);
    throwsCode(() => walkExtensionHeaders(nine.bytes, 0, IpProtocol.DestinationOptions, nine.end), 'too-many-headers', 64);
  });

  it('throws bad-length for a header running past the payload end', () => {
    const bytes = hex('3a01', '010c', '00'.repeat(12), '8700');
    throwsCode(() => walkExtensionHeaders(bytes, 0, IpProtocol.HopByHop, 10), 'bad-length', 0);
    throwsCode(() => walkExtensionHeaders(bytes, 0, IpProtocol.HopByHop, 1), 'bad-length', 0);
  });

  it('throws truncated when the payload end is past the buffer', () => {
    throwsCode(() => walkExtensionHeaders(new Uint8Array(8), 0, IpProtocol.Icmpv6, 9), 'truncated');
  });
});
