import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpv6 } from '../../src/wire/address';
import { FILTER_EXPRESSION, advertisementFilter, solicitationFilter, solicitationFilterExpression } from '../../src/wire/bpf';
import { ACCEPT_WHOLE_FRAME, BpfInstruction, Op, PACKET_OUTGOING, encodeSockFilter, validateFilter } from '../../src/wire/bpf-assembler';
import { MAX_FILTER_TARGETS } from '../../src/wire/bpf-targets';
import { WireError } from '../../src/wire/errors';
import { runBpf } from '../helpers/bpf-vm';
import * as captured from '../fixtures/captured';
import { hex, toHex } from '../fixtures/hex';
import * as synthetic from '../fixtures/synthetic';

const ACCEPT = ACCEPT_WHOLE_FRAME;
const DROP = 0;
/** skb->pkt_type values (linux/if_packet.h). */
const PACKET_HOST = 0;
const PACKET_MULTICAST = 2;
const PACKET_OTHERHOST = 3;

type Row = [name: string, frame: string, pktType: number, verdict: number];

function runTable(label: string, program: BpfInstruction[], rows: Row[]): void {
  describe(label, () => {
    it('is a valid program: jumps in range, ends in ret', () => validateFilter(program));
    for (const [name, frame, pktType, verdict] of rows) {
      it(`${verdict === ACCEPT ? 'accepts' : 'drops'} ${name}`, () => {
        assert.equal(runBpf(program, hex(frame), { pktType }), verdict);
      });
    }
  });
}

runTable('solicitationFilter()', solicitationFilter(), [
  ['NS to a solicited-node group', captured.NS_MULTICAST, PACKET_MULTICAST, ACCEPT],
  ['DAD probe', captured.NS_DAD_WITH_NONCE, PACKET_MULTICAST, ACCEPT],
  ['unicast NUD probe', captured.NS_UNICAST_NUD, PACKET_HOST, ACCEPT],
  ['NS for another host (promiscuous)', captured.NS_UNICAST_NUD, PACKET_OTHERHOST, ACCEPT],
  ['NS behind hop-by-hop', synthetic.NS_HOP_BY_HOP, PACKET_MULTICAST, ACCEPT],
  ['NS behind a 16-byte hop-by-hop', synthetic.NS_HOP_BY_HOP_16, PACKET_MULTICAST, ACCEPT],
  ['NS in a fragment (RFC 6980)', synthetic.NS_FRAGMENT, PACKET_MULTICAST, DROP],
  ['NS behind destination options', synthetic.NS_DESTINATION_OPTIONS, PACKET_MULTICAST, DROP],
  ['our own outgoing NS', captured.NS_MULTICAST, PACKET_OUTGOING, DROP],
  ['NA', captured.NA_SOLICITED_OVERRIDE, PACKET_HOST, DROP],
  ['router solicitation', captured.ROUTER_SOLICITATION, PACKET_MULTICAST, DROP],
  ['echo request', captured.ECHO_REQUEST, PACKET_HOST, DROP],
  ['IPv4 frame', synthetic.IPV4_ECHO, PACKET_HOST, DROP],
]);

runTable('advertisementFilter()', advertisementFilter(), [
  ['solicited NA with TLLA', captured.NA_SOLICITED_OVERRIDE, PACKET_HOST, ACCEPT],
  ['NA without options', captured.NA_SOLICITED_NO_OPTIONS, PACKET_HOST, ACCEPT],
  ['our own outgoing NA', captured.NA_SOLICITED_OVERRIDE, PACKET_OUTGOING, DROP],
  ['NS', captured.NS_MULTICAST, PACKET_MULTICAST, DROP],
  ['echo request', captured.ECHO_REQUEST, PACKET_HOST, DROP],
]);

const TARGET = parseIpv6('2001:db8::2');
runTable('solicitationFilter({ targets: [2001:db8::2] })', solicitationFilter({ targets: [parseIpv6('2001:db8::9'), TARGET] }), [
  ['NS for a listed target', captured.NS_MULTICAST, PACKET_MULTICAST, ACCEPT],
  ['NS for a listed target behind hop-by-hop', synthetic.NS_HOP_BY_HOP, PACKET_MULTICAST, ACCEPT],
  ['NS for a listed target behind a 16-byte hop-by-hop', synthetic.NS_HOP_BY_HOP_16, PACKET_MULTICAST, ACCEPT],
  ['outgoing NS for a listed target', captured.NS_MULTICAST, PACKET_OUTGOING, DROP],
]);

describe('target filtering', () => {
  /** 2001:db8::2 with one of its four 32-bit words changed, so every comparison gets a miss. */
  const nearMisses = ['2001:db9::2', '2001:db8:0:1::2', '2001:db8::1:0:0:2', '2001:db8::1:2', '2001:db8::3'];
  for (const text of nearMisses) {
    it(`drops an NS for 2001:db8::2 when only ${text} is listed, on both paths`, () => {
      const program = solicitationFilter({ targets: [parseIpv6(text)] });
      assert.equal(runBpf(program, hex(captured.NS_MULTICAST)), DROP);
      assert.equal(runBpf(program, hex(synthetic.NS_HOP_BY_HOP)), DROP);
    });
  }

  it(`handles ${MAX_FILTER_TARGETS} targets with every jump within 8 bits`, () => {
    const targets = Array.from({ length: MAX_FILTER_TARGETS }, (_, i) => parseIpv6(`2001:db8::${(i + 3).toString(16)}`));
    targets[MAX_FILTER_TARGETS - 1] = TARGET;
    const program = solicitationFilter({ targets });
    validateFilter(program);
    assert.ok(program.every(([code, jt, jf]) => code === Op.JA || (jt <= 255 && jf <= 255)));
    assert.equal(runBpf(program, hex(captured.NS_MULTICAST)), ACCEPT);
    assert.equal(runBpf(program, hex(synthetic.NS_HOP_BY_HOP)), ACCEPT);
    targets[MAX_FILTER_TARGETS - 1] = parseIpv6('2001:db8::1');
    assert.equal(runBpf(solicitationFilter({ targets }), hex(captured.NS_MULTICAST)), DROP);
  });

  it(`falls back to no target check beyond ${MAX_FILTER_TARGETS} targets`, () => {
    const targets = Array.from({ length: MAX_FILTER_TARGETS + 1 }, () => parseIpv6('2001:db8::9'));
    assert.deepEqual(solicitationFilter({ targets }), solicitationFilter());
    assert.equal(solicitationFilterExpression({ targets }), FILTER_EXPRESSION.solicitation);
  });

  it('drops every NS when the target list is empty', () => {
    const program = solicitationFilter({ targets: [] });
    assert.equal(runBpf(program, hex(captured.NS_MULTICAST)), DROP);
    assert.equal(runBpf(program, hex(synthetic.NS_HOP_BY_HOP)), DROP);
  });

  it('rejects a target that is not 16 bytes', () => {
    assert.throws(() => solicitationFilter({ targets: [new Uint8Array(4)] }),
      (e: unknown) => e instanceof WireError && e.code === 'bad-address');
  });
});

describe('truncated frames (the kernel returns 0 on loads past the end)', () => {
  const cases: Array<[name: string, program: BpfInstruction[], frame: string, firstAccepted: number]> = [
    ['plain NS, no targets: the ICMPv6 type byte is the last read', solicitationFilter(), captured.NS_MULTICAST, 55],
    ['hop-by-hop NS, no targets', solicitationFilter(), synthetic.NS_HOP_BY_HOP, 63],
    ['plain NS with targets: the whole target is read', solicitationFilter({ targets: [TARGET] }), captured.NS_MULTICAST, 78],
    ['hop-by-hop NS with targets', solicitationFilter({ targets: [TARGET] }), synthetic.NS_HOP_BY_HOP, 86],
  ];
  for (const [name, program, frame, firstAccepted] of cases) {
    it(`${name}: drops every prefix shorter than ${firstAccepted} bytes`, () => {
      const bytes = hex(frame);
      for (let length = 0; length <= bytes.length; length++) {
        const expected = length >= firstAccepted ? ACCEPT : DROP;
        assert.equal(runBpf(program, bytes.subarray(0, length)), expected, `prefix of ${length} bytes`);
      }
    });
  }
});

describe('program layout', () => {
  it('starts like libpcap: ldh [12], jeq #0x86dd, ld pkttype, jeq #4 (outgoing)', () => {
    const [first, second, third, fourth] = solicitationFilter();
    assert.deepEqual([first, second?.[3], third?.[3], fourth?.[3]], [[Op.LDH_ABS, 0, 0, 12], 0x86dd, 0xfffff004, PACKET_OUTGOING]);
  });

  it('lays instructions out as struct sock_filter in host byte order', () => {
    const bytes = encodeSockFilter([[Op.JEQ_K, 1, 2, 0x86dd]]);
    const little = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
    assert.equal(toHex(bytes), little ? '15000102dd860000' : '00150102000086dd');
  });

  it('documents each filter with its tcpdump expression', () => {
    assert.match(FILTER_EXPRESSION.solicitation, /^ether proto 0x86dd and not outbound and .*ip6\[40\] == 135/);
    assert.match(FILTER_EXPRESSION.advertisement, /ip6\[40\] == 136/);
    assert.match(solicitationFilterExpression({ targets: [TARGET] }), /ip6\[40 \+ 8:4\] == 0x20010db8 and .* == 0x2\)/);
  });

  it('refuses programs the kernel would refuse', () => {
    assert.throws(() => validateFilter([]), RangeError);
    assert.throws(() => validateFilter([[Op.JEQ_K, 1, 0, 0], [Op.RET_K, 0, 0, 0]]), RangeError);
    assert.throws(() => validateFilter([[Op.LDB_ABS, 0, 0, 0]]), RangeError);
  });
});
