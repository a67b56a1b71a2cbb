import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpv6, parseMac } from '../../src/wire/address';
import { WireError, WireErrorCode } from '../../src/wire/errors';
import {
  NeighborAdvertisement,
  decodeNeighborAdvertisement,
  encodeNeighborAdvertisement,
  neighborAdvertisementEncodingLength,
} from '../../src/wire/neighbor-advertisement';
import {
  NeighborSolicitation,
  decodeNeighborSolicitation,
  encodeNeighborSolicitation,
  neighborSolicitationEncodingLength,
} from '../../src/wire/neighbor-solicitation';
import { hex } from '../fixtures/hex';
import { Codec, assertRoundTrip } from '../fixtures/round-trip';

const nsCodec: Codec<NeighborSolicitation> = {
  encode: encodeNeighborSolicitation,
  decode: decodeNeighborSolicitation,
  encodingLength: neighborSolicitationEncodingLength,
};
const naCodec: Codec<NeighborAdvertisement> = {
  encode: encodeNeighborAdvertisement,
  decode: decodeNeighborAdvertisement,
  encodingLength: neighborAdvertisementEncodingLength,
};

const target = parseIpv6('2001:db8::2');
const TARGET_HEX = '20010db8000000000000000000000002';

describe('Neighbor Solicitation (RFC 4861 §4.3)', () => {
  const table: Array<[name: string, value: NeighborSolicitation, bytes: Uint8Array]> = [
    ['without options', { target, options: [] },
      hex('87', '00', '0000', '00000000', TARGET_HEX)], // type 135, code 0, checksum left 0, reserved, target
    ['with SLLA', { target, options: [{ type: 1, linkLayerAddress: parseMac('02:00:00:00:00:0a') }] },
      hex('87', '00', '0000', '00000000', TARGET_HEX, '01', '01', '02000000000a')],
    ['DAD probe with nonce', { target, options: [{ type: 14, nonce: hex('76c2d42c181e') }] },
      hex('87', '00', '0000', '00000000', TARGET_HEX, '0e', '01', '76c2d42c181e')],
  ];
  for (const [name, value, bytes] of table) {
    it(`round-trips ${name}`, () => assertRoundTrip(nsCodec, value, bytes));
  }

  it('ignores code, checksum and reserved bits when decoding (core validates them)', () => {
    const ns = decodeNeighborSolicitation(hex('87', '01', '1c1e', 'ffffffff', TARGET_HEX), 0, 24);
    assert.deepEqual(ns, { target, options: [] });
  });
});

describe('Neighbor Advertisement (RFC 4861 §4.4)', () => {
  const na = (router: boolean, solicited: boolean, override: boolean): NeighborAdvertisement => ({
    router, solicited, override, target, options: [{ type: 2, linkLayerAddress: parseMac('02:00:00:00:00:0b') }],
  });
  const table: Array<[name: string, value: NeighborAdvertisement, flags: string]> = [
    ['no flags', na(false, false, false), '00'],
    ['Solicited', na(false, true, false), '40'],
    ['Solicited + Override', na(false, true, true), '60'],
    ['Router + Override', na(true, false, true), 'a0'],
    ['all flags', na(true, true, true), 'e0'],
  ];
  for (const [name, value, flags] of table) {
    it(`round-trips ${name}`, () => {
      // type 136, code 0, checksum left 0, R|S|O + 29 reserved bits, target, TLLA
      assertRoundTrip(naCodec, value, hex('88', '00', '0000', flags, '000000', TARGET_HEX, '0201', '02000000000b'));
    });
  }

  it('ignores the reserved bits', () => {
    const decoded = decodeNeighborAdvertisement(hex('88', '00', '0000', '5fffffff', TARGET_HEX), 0, 24);
    assert.deepEqual(decoded, { router: false, solicited: true, override: false, target, options: [] });
  });
});

describe('NS / NA errors', () => {
  const table: Array<[name: string, run: () => unknown, code: WireErrorCode, offset: number]> = [
    ['NS of 23 bytes', () => decodeNeighborSolicitation(new Uint8Array(30).fill(135), 2, 23), 'bad-length', 2],
    ['NS buffer shorter than its length', () => decodeNeighborSolicitation(hex('87', '00'.repeat(23)), 0, 32), 'truncated', 0],
    ['NS of another type', () => decodeNeighborSolicitation(hex('88', '00'.repeat(23)), 0, 24), 'not-solicitation', 0],
    ['NS with a zero-length option', () => decodeNeighborSolicitation(hex('87', '00'.repeat(23), '0100', '00'.repeat(6)), 0, 32),
      'bad-option-length', 24],
    ['NA of 20 bytes', () => decodeNeighborAdvertisement(new Uint8Array(20), 0, 20), 'bad-length', 0],
    ['NA of another type', () => decodeNeighborAdvertisement(hex('87', '00'.repeat(23)), 0, 24), 'not-advertisement', 0],
    ['NS with a 15-byte target', () => encodeNeighborSolicitation({ target: new Uint8Array(15), options: [] }, new Uint8Array(24), 0),
      'bad-address', 8],
    ['NA into a short buffer', () => encodeNeighborAdvertisement(
      { router: false, solicited: false, override: false, target, options: [] }, new Uint8Array(23), 0), 'truncated', 0],
  ];
  for (const [name, run, code, offset] of table) {
    it(`rejects ${name} with ${code}`, () => {
      assert.throws(run, (e: unknown) => e instanceof WireError && e.code === code && e.offset === offset);
    });
  }
});
