/**
 * The sample of `npm run fuzz` that runs in `npm test`: frames through decode, validate and
 * the NA decoder, datagrams through the rtnetlink decoder; nothing but WireError and
 * RtnetlinkError may escape, validation never throws, and a frame inside a larger buffer
 * decodes as it does alone. Inputs that once broke (or nearly broke) a decoder are named below.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeNetlinkDatagram, RtnetlinkError } from '../../src/wire/rtnetlink';
import { fuzzDecoders, replayFrame } from '../fuzz/decoder-fuzz';

const SAMPLE = 20_000;

/**
 * Named edge cases. The million-input runs (`npm run fuzz`, seeds 0x71a5 and 0x6e6470) found no
 * failure; these pin the inputs a decoder is most likely to get wrong, so a regression is named.
 */
const FRAME_CASES: Record<string, [hex: string, verdict: string]> = {
  'empty frame': ['', 'malformed'],
  'Ethernet header only': ['333300000001 020000000001 86dd', 'malformed'],
  'IPv6 payload length larger than the frame': [`333300000001 020000000001 86dd 6000000000ff3aff ${'00'.repeat(32)}`, 'malformed'],
  'hop-by-hop header longer than the payload': [`333300000001 020000000001 86dd 60000000 0008 00ff ${'00'.repeat(32)} 3a0f000000000000`, 'malformed'],
  'NS with a zero-length option (RFC 4861 §4.6: invalid)': [
    '333300000001 020000000001 86dd 60000000 0020 3aff 20010db8000000000000000000000002 ff0200000000000000000001ff000001' +
      ' 87000000 00000000 20010db8000000000000000000000001 0100000000000000',
    'bad-option-length',
  ],
};

const NETLINK_CASES: Record<string, [hex: string, code: string]> = {
  'nlmsg_len 0 (must not loop forever)': ['00000000 1000 0000 00000000 00000000', 'BAD_MESSAGE_LENGTH'],
  'nlmsg_len shorter than the header': ['0f000000 1000 0000 00000000 00000000', 'BAD_MESSAGE_LENGTH'],
  'rta_len 0 inside a link message': [`24000000 1000 0000 00000000 00000000 ${'00'.repeat(16)} 0000 0300`, 'BAD_ATTRIBUTE_LENGTH'],
  'rta_len past the message end': [`24000000 1000 0000 00000000 00000000 ${'00'.repeat(16)} ff00 0300`, 'ATTRIBUTE_OVERRUN'],
};

describe(`decoders on ${SAMPLE} fuzzed frames and ${SAMPLE} fuzzed rtnetlink datagrams`, () => {
  it('throw only their own error types, and read nothing past a frame', () => {
    const report = fuzzDecoders(SAMPLE, 0x71a5);
    assert.deepEqual(report.failures.map((f) => `${f.decoder} #${f.index} ${f.input}: ${f.problem.split('\n')[0]}`), []);
    // The mix must reach the deep paths, or a clean run proves little.
    for (const key of ['validate ok', 'validate dad-with-slla', 'validate bad-checksum', 'ns error:bad-option-length', 'netlink decoded', 'netlink error:MESSAGE_OVERRUN']) {
      assert.ok((report.outcomes.get(key) ?? 0) > 10, `too few "${key}": ${JSON.stringify([...report.outcomes])}`);
    }
  });

  for (const [name, [hexInput, verdict]] of Object.entries(FRAME_CASES)) {
    it(`frame: ${name} → ${verdict}`, () => assert.equal(replayFrame(hexInput), verdict));
  }

  for (const [name, [hexInput, code]] of Object.entries(NETLINK_CASES)) {
    it(`rtnetlink: ${name} → ${code}`, () => {
      const bytes = Uint8Array.from(Buffer.from(hexInput.replace(/\s+/g, ''), 'hex'));
      assert.throws(() => decodeNetlinkDatagram(bytes), (error: unknown) => error instanceof RtnetlinkError && error.code === code);
    });
  }
});
