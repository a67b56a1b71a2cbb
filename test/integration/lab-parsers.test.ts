import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandError, formatCommand, run } from '../../src/lab/exec';
import { formatIpv6At, summarizeNd } from '../../src/lab/nd-summary';
import { parseNdiscOutput } from '../../src/lab/ndisc';
import { parseNeighbourJson } from '../../src/lab/neighbours';
import { parsePingOutput } from '../../src/lab/ping';
import { encodePcap, parsePcap, PcapFormatError, type PcapPacket } from '../../src/lab/pcap';

/** Bytes from a hex string with spaces and line breaks allowed. */
function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

describe('pcap reader', () => {
  // tcpdump -w of one 4-byte frame: 1.5 s after the epoch, 4 of 60 bytes captured.
  const littleMicro = hex(`
    d4c3b2a1 0200 0400 00000000 00000000 00000400 01000000
    01000000 20a10700 04000000 3c000000 deadbeef`);
  const bigNano = hex(`
    a1b23c4d 0002 0004 00000000 00000000 00040000 00000001
    00000001 1dcd6500 00000004 0000003c deadbeef`);

  const cases: [string, Uint8Array, 'micro' | 'nano', boolean][] = [
    ['little-endian, microseconds', littleMicro, 'micro', true],
    ['big-endian, nanoseconds', bigNano, 'nano', false],
  ];
  for (const [name, bytes, precision, littleEndian] of cases) {
    test(`reads ${name}`, () => {
      const file = parsePcap(bytes);
      assert.equal(file.linkType, 1);
      assert.equal(file.snapLength, 262144);
      assert.equal(file.precision, precision);
      assert.equal(file.littleEndian, littleEndian);
      assert.equal(file.packets.length, 1);
      assert.equal(file.packets[0]?.timestampNs, 1_500_000_000n);
      assert.deepEqual([...(file.packets[0]?.data ?? [])], [0xde, 0xad, 0xbe, 0xef]);
      assert.equal(file.packets[0]?.originalLength, 60);
    });
  }

  test('an empty capture (header only) has no packets', () => {
    assert.deepEqual(parsePcap(littleMicro.subarray(0, 24)).packets, []);
  });

  test('reads a file that sits at an offset inside a larger buffer', () => {
    const larger = new Uint8Array(littleMicro.length + 7);
    larger.set(littleMicro, 7);
    assert.equal(parsePcap(larger.subarray(7)).packets[0]?.timestampNs, 1_500_000_000n);
  });

  const malformed: [string, Uint8Array, string, number][] = [
    ['short file header', littleMicro.subarray(0, 23), 'truncated-file-header', 0],
    ['foreign magic (pcapng)', hex('0a0d0d0a 00000000 00000000 00000000 00000000 00000000'), 'bad-magic', 0],
    ['short record header', littleMicro.subarray(0, 30), 'truncated-record-header', 24],
    ['record longer than the file', littleMicro.subarray(0, littleMicro.length - 1), 'truncated-record-data', 40],
  ];
  for (const [name, bytes, code, offset] of malformed) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => parsePcap(bytes),
        (error: unknown) => error instanceof PcapFormatError && error.code === code && error.offset === offset,
      );
    });
  }

  test('encodePcap round-trips through parsePcap in both precisions and byte orders', () => {
    const packets: PcapPacket[] = [
      { timestampNs: 1_700_000_000_123_456_789n, data: hex('0102'), originalLength: 2 },
      { timestampNs: 1_700_000_001_000_000_000n, data: hex(''), originalLength: 1514 },
    ];
    for (const precision of ['micro', 'nano'] as const) {
      for (const littleEndian of [true, false]) {
        const file = parsePcap(encodePcap(packets, { precision, littleEndian }));
        const expected = precision === 'nano' ? 1_700_000_000_123_456_789n : 1_700_000_000_123_456_000n;
        assert.equal(file.packets[0]?.timestampNs, expected);
        assert.deepEqual(file.packets.map((p) => [...p.data]), [[1, 2], []]);
        assert.equal(file.packets[1]?.originalLength, 1514);
      }
    }
  });
});

describe('tool output parsers', () => {
  test('ping summary: counts and average RTT', () => {
    const answered = '1 packets transmitted, 1 received, 0% packet loss, time 0ms\nrtt min/avg/max/mdev = 0.092/0.094/0.096/0.002 ms\n';
    assert.deepEqual(parsePingOutput(answered), { transmitted: 1, received: 1, rttMs: 0.094 });
    const lost = '1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n';
    assert.deepEqual(parsePingOutput(lost), { transmitted: 1, received: 0 });
  });

  test('ndisc6: the target link-layer address, lower case', () => {
    const out = 'Soliciting 2001:db8::2 (2001:db8::2) on lan0...\nTarget link-layer address: 7E:4F:33:B3:D3:61\n from 2001:db8::2\n';
    assert.equal(parseNdiscOutput(out), '7e:4f:33:b3:d3:61');
    assert.equal(parseNdiscOutput('Timed out.\nNo response.\n'), undefined);
  });

  test('ip -j neigh: state, MAC and router flag', () => {
    const row = '[{"dst":"fe80::1","lladdr":"7E:4F:33:B3:D3:61","router":null,"state":["REACHABLE"]}]';
    assert.deepEqual(parseNeighbourJson(row), { state: 'REACHABLE', mac: '7e:4f:33:b3:d3:61', router: true });
    assert.deepEqual(parseNeighbourJson('[{"dst":"2001:db8::a:71a5","state":["INCOMPLETE"]}]'), { state: 'INCOMPLETE', router: false });
    assert.equal(parseNeighbourJson('[]'), undefined);
    assert.equal(parseNeighbourJson(''), undefined);
  });
});

describe('ND frame summary', () => {
  const addresses: [string, string][] = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000000', '2001:db8::'],
    ['20010db80000000000000000000a71a5', '2001:db8::a:71a5'],
    ['20010000000000010000000000010001', '2001::1:0:0:1:1'], // the first of two equal runs is compressed
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'], // a lone zero group is never "::"
    ['ff0200000000000000000001ff0a71a5', 'ff02::1:ff0a:71a5'],
  ];
  for (const [bytes, text] of addresses) {
    test(`formats ${text}`, () => assert.equal(formatIpv6At(hex(bytes), 0), text));
  }

  test('summarises a solicited NA and ignores non-ND frames', () => {
    const na = hex(`
      de4d97f2ba89 32b6f8ae0ee1 86dd                      # Ethernet: LAN MAC <- host uplink MAC, IPv6
      60000000 0020 3a ff                                 # IPv6: payload 32, next header ICMPv6, hop limit 255
      20010db8000000000000000000000002                    # source 2001:db8::2
      20010db8000000000000000000000001                    # destination 2001:db8::1
      88 00 0000 40000000                                 # NA, code 0, checksum (unchecked), S=1
      20010db80000000000000000000a71a5                    # target 2001:db8::a:71a5
      0201 32b6f8ae0ee1                                   # TLLA`.replace(/#.*$/gm, ''));
    const summary = summarizeNd(na);
    assert.deepEqual(summary && { kind: summary.kind, target: summary.target, flags: summary.flags, hop: summary.hopLimit }, {
      kind: 'NA',
      target: '2001:db8::a:71a5',
      flags: { router: false, solicited: true, override: false },
      hop: 255,
    });
    assert.equal(summary?.ethernetSource, '32:b6:f8:ae:0e:e1');
    assert.equal(summary?.linkLayerAddress, '32:b6:f8:ae:0e:e1', 'the TLLA option');
    const echo = Uint8Array.from(na);
    echo[54] = 128;
    assert.equal(summarizeNd(echo), undefined);
    assert.equal(summarizeNd(na.subarray(0, 70)), undefined);
  });

  test('link-layer address option: absent, zero-length or overrunning gives none; unknown options are skipped', () => {
    const na = hex(`
      de4d97f2ba89 32b6f8ae0ee1 86dd 60000000 0030 3a ff
      20010db8000000000000000000000002 20010db8000000000000000000000001
      88 00 0000 60000000 20010db80000000000000000000a71a5
      0e01 010203040506                                   # a nonce option (type 14), skipped
      0201 32b6f8ae0ee1                                   # TLLA
      0101 111111111111                                   # an SLLA, not what an NA carries`.replace(/#.*$/gm, ''));
    assert.equal(summarizeNd(na)?.linkLayerAddress, '32:b6:f8:ae:0e:e1');
    assert.equal(summarizeNd(na.subarray(0, 78))?.linkLayerAddress, undefined, 'no options');
    const zero = Uint8Array.from(na);
    zero[79] = 0;
    assert.equal(summarizeNd(zero)?.linkLayerAddress, undefined, 'a zero-length option ends the walk');
    assert.equal(summarizeNd(na.subarray(0, 92))?.linkLayerAddress, undefined, 'the TLLA is cut short');
    const ns = Uint8Array.from(na);
    ns[54] = 135;
    assert.equal(summarizeNd(ns)?.linkLayerAddress, '11:11:11:11:11:11', 'an NS reports its SLLA');
  });
});

describe('exec', () => {
  test('run returns output and accepted exit codes', async () => {
    assert.equal((await run('node', ['-e', 'process.stdout.write("hi")'])).stdout, 'hi');
    assert.equal((await run('node', ['-e', 'process.exit(1)'], { okExitCodes: [0, 1] })).exitCode, 1);
    assert.equal((await run('node', ['-e', 'process.stdin.pipe(process.stdout)'], { input: 'echo' })).stdout, 'echo');
  });

  test('failures name the command and quote stderr', async () => {
    await assert.rejects(run('node', ['-e', 'console.error("boom"); process.exit(3)']), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.exitCode, 3);
      assert.match(error.message, /^node -e .*: exit code 3: boom$/);
      return true;
    });
    await assert.rejects(run('node', ['-e', 'setTimeout(() => {}, 5000)'], { timeoutMs: 100 }), /timed out after 100 ms/);
    await assert.rejects(run('no-such-command-here', []), /could not start \(ENOENT\)/);
  });

  test('formatCommand quotes only words that need it', () => {
    assert.equal(formatCommand('tcpdump', ['-i', 'lan0', 'icmp6 and ip6[40] == 135']), 'tcpdump -i lan0 "icmp6 and ip6[40] == 135"');
  });
});
