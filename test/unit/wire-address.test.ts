import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_NODES,
  SOLICITED_NODE_PREFIX,
  UNSPECIFIED,
  equalBytes,
  formatIpv6,
  formatMac,
  isLinkLocal,
  isMulticast,
  isUnspecified,
  multicastMac,
  parseIpv6,
  parseMac,
  solicitedNodeAddress,
} from '../../src/wire/address';
import { WireError } from '../../src/wire/errors';
import { hex, toHex } from '../fixtures/hex';

describe('parseIpv6', () => {
  const cases: Array<[text: string, bytes: string]> = [
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['2001:db8::2', '20010db8000000000000000000000002'],
    ['2001:DB8:0:0:8:800:200C:417A', '20010db80000000000080800200c417a'], // RFC 4291 §2.2 example
    ['ff02::1:ff00:2', 'ff0200000000000000000001ff000002'],
    ['fe80::ff:fe00:a', 'fe80000000000000000000fffe00000a'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'], // "::" standing for one group
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'], // embedded IPv4 tail
    ['0:0:0:0:0:0:13.1.68.3', '0000000000000000000000000d014403'], // RFC 4291 §2.2 form 3
    ['2001:db8::a:71a5', '20010db80000000000000000000a71a5'],
  ];
  for (const [text, bytes] of cases) {
    it(`parses ${text}`, () => assert.equal(toHex(parseIpv6(text)), bytes));
  }

  const bad = ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '::1%eth0',
    '1:2:3:4:5:6:7:8::', ':1:2:3:4:5:6:7', '::1.2.3', '::256.1.1.1', '::01.2.3.4', '1.2.3.4::', '::1.2.3.4:5'];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)} with bad-address`, () => {
      assert.throws(() => parseIpv6(text), (e: unknown) => e instanceof WireError && e.code === 'bad-address');
    });
  }
});

describe('formatIpv6 (RFC 5952)', () => {
  const cases: Array<[bytes: string, text: string]> = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000002', '2001:db8::2'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'], // longest run compressed
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // first run on a tie (§4.2.3)
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'], // a single 0 group is not compressed (§4.2.2)
    ['20010DB8AAAA0000000000000000000A'.toLowerCase(), '2001:db8:aaaa::a'], // lowercase, no leading zeros
    ['fe80000000000000000000fffe00000a', 'fe80::ff:fe00:a'],
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'], // IPv4-mapped, §5
    ['00010000000000000000000000000000', '1::'],
  ];
  for (const [bytes, text] of cases) {
    it(`formats ${text}`, () => assert.equal(formatIpv6(hex(bytes)), text));
  }

  it('formats at an offset and round-trips through parseIpv6', () => {
    const buffer = hex('ffff', '20010db8000000000000000000a71a50');
    assert.equal(formatIpv6(buffer, 2), '2001:db8::a7:1a50');
    assert.equal(toHex(parseIpv6(formatIpv6(buffer, 2))), toHex(buffer.subarray(2)));
  });

  it('throws truncated for fewer than 16 bytes', () => {
    assert.throws(() => formatIpv6(new Uint8Array(15)), (e: unknown) => e instanceof WireError && e.code === 'truncated');
  });
});

describe('MAC addresses', () => {
  it('parses and formats lowercase colon form', () => {
    assert.equal(toHex(parseMac('02:00:00:00:00:0A')), '02000000000a');
    assert.equal(toHex(parseMac('02-00-00-00-00-0b')), '02000000000b');
    assert.equal(formatMac(hex('ff', '3333ff000002'), 1), '33:33:ff:00:00:02');
  });
  for (const text of ['', '02:00:00:00:00', '02:00:00:00:00:0g', '02:00-00:00:00:00', '002:00:00:00:00:00']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseMac(text), (e: unknown) => e instanceof WireError && e.code === 'bad-address');
    });
  }
});

describe('address classes', () => {
  const table: Array<[text: string, multicast: boolean, linkLocal: boolean, unspecified: boolean, solicited: boolean]> = [
    ['::', false, false, true, false],
    ['ff02::1', true, false, false, false],
    ['ff02::1:ff00:2', true, false, false, true],
    ['ff02::1:ff12:3456', true, false, false, true],
    ['ff02::2:ff00:2', true, false, false, false],
    ['fe80::1', false, true, false, false],
    ['febf::1', false, true, false, false], // still inside fe80::/10
    ['fec0::1', false, false, false, false],
    ['2001:db8::2', false, false, false, false],
  ];
  for (const [text, multicast, linkLocal, unspecified, solicited] of table) {
    it(`classifies ${text}`, () => {
      const a = parseIpv6(text);
      const inSolicitedNodePrefix = equalBytes(a, 0, SOLICITED_NODE_PREFIX, 0, SOLICITED_NODE_PREFIX.length);
      assert.deepEqual([isMulticast(a), isLinkLocal(a), isUnspecified(a), inSolicitedNodePrefix], [
        multicast, linkLocal, unspecified, solicited,
      ]);
    });
  }

  it('derives the solicited-node group and its MAC (RFC 4291 §2.7.1, RFC 2464 §7)', () => {
    const group = solicitedNodeAddress(parseIpv6('2001:db8::a:71a5'));
    assert.equal(formatIpv6(group), 'ff02::1:ff0a:71a5');
    assert.equal(formatMac(multicastMac(group)), '33:33:ff:0a:71:a5');
    assert.equal(formatMac(multicastMac(ALL_NODES)), '33:33:00:00:00:01');
  });

  it('exposes ff02::1 and ::', () => {
    assert.equal(formatIpv6(ALL_NODES), 'ff02::1');
    assert.equal(formatIpv6(UNSPECIFIED), '::');
  });

  it('compares byte ranges and refuses out-of-range ones', () => {
    const a = hex('0011223344');
    const b = hex('ff11223344ff');
    assert.equal(equalBytes(a, 1, b, 1, 4), true);
    assert.equal(equalBytes(a, 0, b, 0, 2), false);
    assert.equal(equalBytes(a, 2, b, 2, 4), false); // runs past a's end
  });
});
