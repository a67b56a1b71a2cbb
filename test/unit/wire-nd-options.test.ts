import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMac } from '../../src/wire/address';
import { WireError, WireErrorCode } from '../../src/wire/errors';
import {
  NdOption,
  decodeNdOptions,
  encodeNdOptions,
  findLinkLayerAddress,
  isLinkLayerAddressOption,
  isNonceOption,
  ndOptionsEncodingLength,
} from '../../src/wire/nd-options';
import { hex, toHex } from '../fixtures/hex';
import { Codec, assertRoundTrip } from '../fixtures/round-trip';

const optionsCodec: Codec<NdOption[]> = {
  encode: encodeNdOptions,
  decode: (bytes, offset, length) => decodeNdOptions(bytes, offset, offset + length),
  encodingLength: ndOptionsEncodingLength,
};

describe('ND options round trip (RFC 4861 §4.6)', () => {
  const table: Array<[name: string, options: NdOption[], bytes: Uint8Array]> = [
    ['no options', [], hex('')],
    ['source link-layer address', [{ type: 1, linkLayerAddress: parseMac('02:00:00:00:00:0a') }],
      hex('01', '01', '02000000000a')], // type 1, length 1 (8 bytes), MAC
    ['target link-layer address', [{ type: 2, linkLayerAddress: parseMac('02:00:00:00:00:0b') }],
      hex('02', '01', '02000000000b')],
    ['DAD nonce (RFC 7527 §4)', [{ type: 14, nonce: hex('76c2d42c181e') }],
      hex('0e', '01', '76c2d42c181e')],
    ['MTU, kept raw', [{ type: 5, body: hex('0000', '000005dc') }],
      hex('05', '01', '0000', '000005dc')], // reserved, MTU 1500
    ['unknown type 253 of 16 bytes, kept raw', [{ type: 253, body: hex('0102030405060708090a0b0c0d0e') }],
      hex('fd', '02', '0102030405060708090a0b0c0d0e')],
    ['link-layer option that is not 8 bytes, kept raw', [{ type: 1, body: hex('00'.repeat(14)) }],
      hex('01', '02', '00'.repeat(14))], // e.g. a 20-byte InfiniBand address would be length 3
    ['SLLA then nonce', [{ type: 1, linkLayerAddress: parseMac('02:00:00:00:00:0a') }, { type: 14, nonce: hex('010203040506') }],
      hex('0101', '02000000000a', '0e01', '010203040506')],
  ];
  for (const [name, options, bytes] of table) {
    it(`round-trips ${name}`, () => assertRoundTrip(optionsCodec, options, bytes));
  }

  it('pads an option body to a multiple of 8 bytes with zeros', () => {
    const options: NdOption[] = [{ type: 14, nonce: hex('0102030405060708') }];
    const bytes = new Uint8Array(ndOptionsEncodingLength(options));
    encodeNdOptions(options, bytes, 0);
    assert.equal(toHex(bytes), toHex(hex('0e02', '0102030405060708', '000000000000')));
  });
});

describe('ND option errors', () => {
  const table: Array<[name: string, bytes: Uint8Array, code: WireErrorCode, offset: number]> = [
    ['length 0', hex('0101', '02000000000a', '0100', '000000000000'), 'bad-option-length', 8],
    ['option overrunning the end', hex('0102', '02000000000a'), 'bad-option-length', 0],
    ['a lone trailing byte', hex('0101', '02000000000a', '01'), 'bad-option-length', 8],
    ['65 options', hex('0e01010203040506'.repeat(65)), 'too-many-headers', 512],
  ];
  for (const [name, bytes, code, offset] of table) {
    it(`rejects ${name} with ${code} at ${offset}`, () => {
      assert.throws(() => decodeNdOptions(bytes, 0, bytes.length),
        (e: unknown) => e instanceof WireError && e.code === code && e.offset === offset);
    });
  }

  it('accepts exactly 64 options', () => {
    const bytes = hex('0e01010203040506'.repeat(64));
    assert.equal(decodeNdOptions(bytes, 0, bytes.length).length, 64);
  });

  it('throws truncated when end is past the buffer', () => {
    assert.throws(() => decodeNdOptions(new Uint8Array(8), 0, 16), (e: unknown) => e instanceof WireError && e.code === 'truncated');
  });

  it('throws truncated when encoding into too small a buffer', () => {
    const options: NdOption[] = [{ type: 2, linkLayerAddress: new Uint8Array(6) }];
    assert.throws(() => encodeNdOptions(options, new Uint8Array(7), 0), (e: unknown) => e instanceof WireError && e.code === 'truncated');
  });

  it('refuses to encode an option longer than 255 units', () => {
    const options: NdOption[] = [{ type: 200, body: new Uint8Array(2040) }];
    assert.throws(() => encodeNdOptions(options, new Uint8Array(4096), 0),
      (e: unknown) => e instanceof WireError && e.code === 'bad-option-length');
  });
});

describe('ND option helpers', () => {
  const options = decodeNdOptions(hex('0e01', '010203040506', '0201', '02000000000b', '0101', '02000000000a'), 0, 24);

  it('narrows options by kind', () => {
    assert.deepEqual(options.map((o) => [o.type, isLinkLayerAddressOption(o), isNonceOption(o)]), [
      [14, false, true], [2, true, false], [1, true, false],
    ]);
  });

  it('finds the first SLLA / TLLA', () => {
    assert.equal(toHex(findLinkLayerAddress(options, 1) ?? new Uint8Array()), '02000000000a');
    assert.equal(toHex(findLinkLayerAddress(options, 2) ?? new Uint8Array()), '02000000000b');
    assert.equal(findLinkLayerAddress([], 1), undefined);
  });

  it('returns copies, not views of the receive buffer', () => {
    const bytes = hex('0101', '02000000000a');
    const [option] = decodeNdOptions(bytes, 0, 8);
    bytes.fill(0);
    assert.equal(toHex(findLinkLayerAddress(option === undefined ? [] : [option], 1) ?? new Uint8Array()), '02000000000a');
  });
});
