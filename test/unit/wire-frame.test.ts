import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIpv6, formatMac, parseIpv6, parseMac } from '../../src/wire/address';
import { WireError, WireErrorCode } from '../../src/wire/errors';
import { SolicitationFrameFields, decodeAdvertisementFrame, decodeSolicitationFrame, encodeSolicitationFrame } from '../../src/wire/frame';
import { AdvertisementFrameFields, advertisementFrameLength, encodeAdvertisementFrame } from '../oracle/advertisement-frame';
import { findLinkLayerAddress } from '../../src/wire/nd-options';
import * as captured from '../fixtures/captured';
import { hex, toHex } from '../fixtures/hex';
import * as synthetic from '../fixtures/synthetic';

/** A one-line summary of a decoded NS, in the spirit of tcpdump's "who has X". */
function summary(bytes: Uint8Array): string {
  const f = decodeSolicitationFrame(bytes);
  const slla = findLinkLayerAddress(f.solicitation.options, 1);
  return [
    `${formatMac(f.ethernet.source)} > ${formatMac(f.ethernet.destination)}`,
    `${formatIpv6(f.ipv6.source)} > ${formatIpv6(f.ipv6.destination)} hlim ${f.ipv6.hopLimit}`,
    `who has ${formatIpv6(f.solicitation.target)}`,
    `slla ${slla === undefined ? '-' : formatMac(slla)} options ${f.solicitation.options.map((o) => o.type).join(',') || '-'}`,
    `icmp@${f.icmpOffset}+${f.icmpLength} code ${f.icmpCode} sum ${f.checksumValid ? 'ok' : 'bad'}${f.fragmented ? ' fragmented' : ''}`,
  ].join(' | ');
}

describe('decodeSolicitationFrame', () => {
  const table: Array<[name: string, frame: string, expected: string]> = [
    ['captured multicast NS', captured.NS_MULTICAST,
      '02:00:00:00:00:0a > 33:33:ff:00:00:02 | 2001:db8::1 > ff02::1:ff00:2 hlim 255 | who has 2001:db8::2 | slla 02:00:00:00:00:0a options 1 | icmp@54+32 code 0 sum ok'],
    ['captured DAD probe with nonce', captured.NS_DAD_WITH_NONCE,
      '02:00:00:00:00:0b > 33:33:ff:00:00:02 | :: > ff02::1:ff00:2 hlim 255 | who has 2001:db8::2 | slla - options 14 | icmp@54+32 code 0 sum ok'],
    ['captured unicast NUD probe', captured.NS_UNICAST_NUD,
      '02:00:00:00:00:0a > 02:00:00:00:00:0b | fe80::ff:fe00:a > 2001:db8::2 hlim 255 | who has 2001:db8::2 | slla 02:00:00:00:00:0a options 1 | icmp@54+32 code 0 sum ok'],
    ['NS behind hop-by-hop', synthetic.NS_HOP_BY_HOP,
      '02:00:00:00:00:0a > 33:33:ff:00:00:02 | 2001:db8::1 > ff02::1:ff00:2 hlim 255 | who has 2001:db8::2 | slla 02:00:00:00:00:0a options 1 | icmp@62+32 code 0 sum ok'],
    ['NS behind a 16-byte hop-by-hop', synthetic.NS_HOP_BY_HOP_16,
      '02:00:00:00:00:0a > 33:33:ff:00:00:02 | 2001:db8::1 > ff02::1:ff00:2 hlim 255 | who has 2001:db8::2 | slla 02:00:00:00:00:0a options 1 | icmp@70+32 code 0 sum ok'],
    ['NS in a fragment (reported, not thrown)', synthetic.NS_FRAGMENT,
      '02:00:00:00:00:0a > 33:33:ff:00:00:02 | 2001:db8::1 > ff02::1:ff00:2 hlim 255 | who has 2001:db8::2 | slla 02:00:00:00:00:0a options 1 | icmp@62+32 code 0 sum ok fragmented'],
    ['NS with a trailer beyond the payload', synthetic.NS_WITH_TRAILER,
      '02:00:00:00:00:0a > 33:33:ff:00:00:02 | 2001:db8::1 > ff02::1:ff00:2 hlim 255 | who has 2001:db8::2 | slla 02:00:00:00:00:0a options 1 | icmp@54+32 code 0 sum ok'],
  ];
  for (const [name, frame, expected] of table) {
    it(`decodes ${name}`, () => assert.equal(summary(hex(frame)), expected));
  }

  it('reports hop limit, code and checksum instead of throwing', () => {
    const bytes = hex(captured.NS_MULTICAST);
    bytes[21] = 64; // hop limit
    bytes[55] = 1; // ICMPv6 code
    assert.match(summary(bytes), /hlim 64 .* code 1 sum bad$/);
  });

  it('decodes at an offset with an explicit length, ignoring bytes around the frame', () => {
    const frame = hex(captured.NS_MULTICAST);
    const buffer = new Uint8Array(frame.length + 20).fill(0xee);
    buffer.set(frame, 10);
    const decoded = decodeSolicitationFrame(buffer, 10, frame.length);
    assert.equal(decoded.icmpOffset, 64);
    assert.deepEqual(decoded.solicitation, decodeSolicitationFrame(frame).solicitation);
  });
});

function throwsCode(fn: () => unknown, code: WireErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof WireError && e.code === code, `expected ${code}`);
}

describe('decodeSolicitationFrame errors', () => {
  it('throws truncated at every length of a valid NS frame', () => {
    const frame = hex(captured.NS_MULTICAST);
    for (let length = 0; length < frame.length; length++) {
      throwsCode(() => decodeSolicitationFrame(frame, 0, length), 'truncated');
      throwsCode(() => decodeSolicitationFrame(frame.slice(0, length)), 'truncated');
    }
  });

  /** NS_MULTICAST with `edit` applied. */
  const edited = (edit: (b: Uint8Array) => void): Uint8Array => {
    const bytes = hex(captured.NS_MULTICAST);
    edit(bytes);
    return bytes;
  };
  const nineHeaders = hex(
    '3333ff000002', '02000000000a', '86dd', // Ethernet
    '60000000', '0068', '3c', 'ff', // payload 72 + 32 = 104, next header 60
    '20010db8000000000000000000000001', 'ff0200000000000000000001ff000002',
    '3c00010400000000'.repeat(8), '3a00010400000000', // 9 destination options headers
    hex(captured.NS_MULTICAST).subarray(54).reduce((s, b) => s + b.toString(16).padStart(2, '0'), ''),
  );
  const table: Array<[name: string, bytes: Uint8Array, code: WireErrorCode]> = [
    ['IPv4 frame', hex(synthetic.IPV4_ECHO), 'not-solicitation'],
    ['echo request', hex(captured.ECHO_REQUEST), 'not-solicitation'],
    ['router solicitation', hex(captured.ROUTER_SOLICITATION), 'not-solicitation'],
    ['neighbor advertisement', hex(captured.NA_SOLICITED_OVERRIDE), 'not-solicitation'],
    ['IPv6 next header 59', edited((b) => { b[20] = 59; }), 'not-solicitation'],
    ['version 4 in an IPv6 EtherType', edited((b) => { b[14] = 0x40; }), 'bad-version'],
    ['payload length 20 (ICMPv6 shorter than 24)', edited((b) => { b[19] = 20; }), 'bad-length'],
    ['payload length 2', edited((b) => { b[19] = 2; }), 'bad-length'],
    ['payload length past the frame', edited((b) => { b[19] = 33; }), 'truncated'],
    ['zero-length option', edited((b) => { b[79] = 0; }), 'bad-option-length'],
    ['option overrunning the message', edited((b) => { b[79] = 2; }), 'bad-option-length'],
    ['9 extension headers', nineHeaders, 'too-many-headers'],
    ['hop-by-hop running past the payload', (() => {
      const b = hex(synthetic.NS_HOP_BY_HOP);
      b[55] = 9; // Hdr Ext Len 9: 80 bytes
      return b;
    })(), 'bad-length'],
  ];
  for (const [name, bytes, code] of table) {
    it(`rejects ${name} with ${code}`, () => throwsCode(() => decodeSolicitationFrame(bytes), code));
  }

  it('names the offset in the message', () => {
    assert.throws(() => decodeSolicitationFrame(hex(captured.ECHO_REQUEST)), /not-solicitation at offset 54/);
  });
});

const MAC_A = parseMac('02:00:00:00:00:0a');
const MAC_B = parseMac('02:00:00:00:00:0b');
const TARGET = parseIpv6('2001:db8::2');

describe('encodeAdvertisementFrame', () => {
  const fields: AdvertisementFrameFields = {
    ethernetDestination: MAC_A,
    ethernetSource: MAC_B,
    ipv6Source: TARGET,
    ipv6Destination: parseIpv6('2001:db8::1'),
    hopLimit: 255,
    advertisement: { router: false, solicited: true, override: true, target: TARGET, options: [{ type: 2, linkLayerAddress: MAC_B }] },
  };

  it("reproduces the kernel's NA byte for byte, checksum included", () => {
    assert.equal(advertisementFrameLength(fields), 86);
    assert.equal(toHex(encodeAdvertisementFrame(fields)), toHex(hex(captured.NA_SOLICITED_OVERRIDE)));
  });

  it('writes into a caller buffer at an offset and returns the view', () => {
    const buffer = new Uint8Array(100).fill(0xee);
    const view = encodeAdvertisementFrame(fields, buffer, 5);
    assert.equal(view.buffer, buffer.buffer);
    assert.equal(view.byteOffset, 5);
    assert.equal(toHex(view), toHex(hex(captured.NA_SOLICITED_OVERRIDE)));
    assert.equal(buffer[4], 0xee);
    assert.equal(buffer[91], 0xee);
  });

  it('reproduces the option-less NA to a link-local source', () => {
    const bare = { ...fields, ipv6Destination: parseIpv6('fe80::ff:fe00:a'),
      advertisement: { ...fields.advertisement, override: false, options: [] } };
    assert.equal(toHex(encodeAdvertisementFrame(bare)), toHex(hex(captured.NA_SOLICITED_NO_OPTIONS)));
  });

  it('decodes back through decodeAdvertisementFrame', () => {
    const decoded = decodeAdvertisementFrame(encodeAdvertisementFrame(fields));
    assert.equal(decoded.checksumValid, true);
    assert.deepEqual(decoded.advertisement, fields.advertisement);
    assert.equal(decoded.ipv6.hopLimit, 255);
    throwsCode(() => decodeAdvertisementFrame(hex(captured.NS_MULTICAST)), 'not-advertisement');
  });

  it('throws truncated when the caller buffer is too small', () => {
    throwsCode(() => encodeAdvertisementFrame(fields, new Uint8Array(85)), 'truncated');
  });
});

describe('encodeSolicitationFrame', () => {
  const fields: SolicitationFrameFields = {
    ethernetDestination: parseMac('33:33:ff:00:00:02'),
    ethernetSource: MAC_A,
    ipv6Source: parseIpv6('2001:db8::1'),
    ipv6Destination: parseIpv6('ff02::1:ff00:2'),
    hopLimit: 255,
    solicitation: { target: TARGET, options: [{ type: 1, linkLayerAddress: MAC_A }] },
  };

  it("reproduces the kernel's NS byte for byte", () => {
    assert.equal(toHex(encodeSolicitationFrame(fields)), toHex(hex(captured.NS_MULTICAST)));
  });

  it('inserts the padded hop-by-hop header on request', () => {
    assert.equal(toHex(encodeSolicitationFrame({ ...fields, hopByHop: true })), toHex(hex(synthetic.NS_HOP_BY_HOP)));
  });

  it('reproduces the DAD probe with its nonce', () => {
    const dad = { ...fields, ethernetSource: MAC_B, ipv6Source: parseIpv6('::'),
      solicitation: { target: TARGET, options: [{ type: 14 as const, nonce: hex('76c2d42c181e') }] } };
    assert.equal(toHex(encodeSolicitationFrame(dad)), toHex(hex(captured.NS_DAD_WITH_NONCE)));
  });
});
