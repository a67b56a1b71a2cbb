import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RtnetlinkError, decodeNetlinkDatagram, type RtnetlinkErrorCode } from '../../src/wire/rtnetlink';
import { hex } from '../fixtures/rtnetlink-hex';
import { routeGetOnLinkReply } from '../fixtures/rtnetlink-route-get';
import { routeAddAck, routeAddExtendedAckError } from '../fixtures/rtnetlink-route-change';

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Copy of `bytes` with a little-endian u16 or u32 overwritten at `offset`. */
function patch(bytes: Uint8Array, offset: number, value: number, size: 2 | 4): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  if (size === 2) view.setUint16(offset, value, true);
  else view.setUint32(offset, value, true);
  return copy;
}

/** One message of `type` around `body`, with nlmsg_len computed (flags 0, seq 1, pid 0). */
function message(type: number, body: Uint8Array): Uint8Array {
  const header = hex('00000000', '0000', '0000', '01000000', '00000000');
  const view = new DataView(header.buffer);
  view.setUint32(0, 16 + body.length, true);
  view.setUint16(4, type, true);
  return concat(header, body);
}

const RTMSG = hex('0a 30 00 00 fe 03 00 01 00000000'); // AF_INET6 /48, main, boot, universe, unicast
const OIF_OFFSET = 104; // RTA_OIF inside routeGetOnLinkReply (see the fixture's field list)
const EXTACK_TLV_OFFSET = 16 + 4 + 68; // nlmsghdr + error + echoed 68-byte request

const malformed: { name: string; bytes: Uint8Array; code: RtnetlinkErrorCode; offset: number }[] = [
  { name: 'a datagram shorter than nlmsghdr', bytes: routeAddAck.slice(0, 12), code: 'TRUNCATED_HEADER', offset: 0 },
  { name: 'stray bytes after the last message', bytes: concat(routeAddAck, new Uint8Array(8)), code: 'TRUNCATED_HEADER', offset: 36 },
  { name: 'nlmsg_len smaller than the header', bytes: patch(routeAddAck, 0, 8, 4), code: 'BAD_MESSAGE_LENGTH', offset: 0 },
  { name: 'nlmsg_len zero', bytes: patch(routeAddAck, 0, 0, 4), code: 'BAD_MESSAGE_LENGTH', offset: 0 },
  { name: 'nlmsg_len beyond the datagram', bytes: routeGetOnLinkReply.slice(0, 100), code: 'MESSAGE_OVERRUN', offset: 0 },
  { name: 'a second message beyond the datagram', bytes: concat(routeAddAck, patch(routeAddAck, 0, 64, 4)), code: 'MESSAGE_OVERRUN', offset: 36 },
  { name: 'an rtmsg cut short', bytes: message(24, RTMSG.slice(0, 4)), code: 'TRUNCATED_PAYLOAD', offset: 16 },
  { name: 'an ifinfomsg cut short', bytes: message(16, new Uint8Array(12)), code: 'TRUNCATED_PAYLOAD', offset: 16 },
  { name: 'an ifaddrmsg cut short', bytes: message(21, new Uint8Array(7)), code: 'TRUNCATED_PAYLOAD', offset: 16 },
  { name: 'an ndmsg cut short', bytes: message(29, new Uint8Array(8)), code: 'TRUNCATED_PAYLOAD', offset: 16 },
  { name: 'an NLMSG_ERROR without the echoed header', bytes: message(2, new Uint8Array(4)), code: 'TRUNCATED_PAYLOAD', offset: 16 },
  { name: 'an attribute overrunning its message', bytes: patch(routeGetOnLinkReply, OIF_OFFSET, 0x40, 2), code: 'ATTRIBUTE_OVERRUN', offset: OIF_OFFSET },
  { name: 'an attribute shorter than its header', bytes: patch(routeGetOnLinkReply, OIF_OFFSET, 2, 2), code: 'BAD_ATTRIBUTE_LENGTH', offset: OIF_OFFSET },
  { name: 'an attribute of length zero', bytes: patch(routeGetOnLinkReply, OIF_OFFSET, 0, 2), code: 'BAD_ATTRIBUTE_LENGTH', offset: OIF_OFFSET },
  {
    name: 'an RTA_OIF too short for a u32',
    bytes: message(24, concat(RTMSG, hex('0600 0400 0300 0000'))), // rta_len 6: a 2-byte payload
    code: 'BAD_ATTRIBUTE_SIZE',
    offset: 28,
  },
  {
    name: 'stray bytes after the last attribute',
    bytes: message(24, concat(RTMSG, hex('0800 0400 03000000', '0000'))),
    code: 'TRUNCATED_ATTRIBUTE',
    offset: 36,
  },
  {
    name: 'an rtnexthop shorter than its header',
    bytes: message(24, concat(RTMSG, hex('0c00 0900', '0400 00 00 03000000'))), // rtnh_len 4
    code: 'BAD_NEXTHOP_LENGTH',
    offset: 32,
  },
  {
    name: 'an rtnexthop overrunning RTA_MULTIPATH',
    bytes: message(24, concat(RTMSG, hex('0c00 0900', '2000 00 00 03000000'))), // rtnh_len 32 in 8 bytes
    code: 'BAD_NEXTHOP_LENGTH',
    offset: 32,
  },
  { name: 'an extended ACK whose echoed request overruns it', bytes: patch(routeAddExtendedAckError, 20, 200, 4), code: 'TRUNCATED_PAYLOAD', offset: 20 },
  {
    name: 'an extended-ACK attribute overrunning the error',
    bytes: patch(routeAddExtendedAckError, EXTACK_TLV_OFFSET, 0x40, 2),
    code: 'ATTRIBUTE_OVERRUN',
    offset: EXTACK_TLV_OFFSET,
  },
];

describe('rtnetlink decode: malformed datagrams throw RtnetlinkError naming the offset', () => {
  for (const { name, bytes, code, offset } of malformed) {
    it(name, () => {
      assert.throws(
        () => decodeNetlinkDatagram(bytes),
        (error: unknown) => error instanceof RtnetlinkError && error.code === code && error.offset === offset,
      );
    });
  }
});

describe('rtnetlink decode: unusual but valid input', () => {
  it('decodes an empty datagram as no messages', () => {
    assert.deepEqual(decodeNetlinkDatagram(new Uint8Array(0)), []);
  });

  it('accepts a final message whose trailing padding was not sent', () => {
    const unpadded = patch(routeGetOnLinkReply, 0, 153, 4).slice(0, 153);
    const [route] = decodeNetlinkDatagram(unpadded);
    assert.equal(route?.kind === 'route' && route.outputInterface, 3);
  });

  it('steps over the padding of an unaligned nlmsg_len to the next message', () => {
    const messages = decodeNetlinkDatagram(concat(patch(routeGetOnLinkReply, 0, 153, 4), routeAddAck));
    assert.deepEqual(messages.map((m) => m.kind), ['route', 'error']);
  });

  it('masks NLA_F_NESTED off attribute types', () => {
    const [route] = decodeNetlinkDatagram(patch(routeGetOnLinkReply, OIF_OFFSET + 2, 0x8004, 2));
    assert.equal(route?.kind === 'route' && route.outputInterface, 3);
  });

  it('ignores attribute types it does not know', () => {
    const [route] = decodeNetlinkDatagram(patch(routeGetOnLinkReply, OIF_OFFSET + 2, 0x3ff0, 2));
    assert.equal(route?.kind, 'route');
    assert.equal(route?.kind === 'route' && route.outputInterface, undefined);
  });

  it('decodes NOOP as other and a DONE without an error code as errno 0', () => {
    assert.deepEqual(decodeNetlinkDatagram(concat(message(1, new Uint8Array(0)), message(3, new Uint8Array(0)))), [
      { kind: 'other', type: 1, seq: 1, flags: 0 },
      { kind: 'done', type: 3, seq: 1, flags: 0, errno: 0 },
    ]);
  });

  it('reports a failed dump (DONE carrying -EINTR) as a positive errno', () => {
    const [done] = decodeNetlinkDatagram(message(3, hex('fcffffff')));
    assert.equal(done?.kind === 'done' && done.errno, 4);
  });

  it('reads a Buffer slice at a non-zero byteOffset and returns copies that do not alias it', () => {
    const pooled = Buffer.concat([Buffer.alloc(5, 0xee), Buffer.from(routeGetOnLinkReply)]).subarray(5);
    const [route] = decodeNetlinkDatagram(pooled);
    assert.equal(route?.kind, 'route');
    if (route?.kind !== 'route') return;
    const destination = route.destination;
    assert.equal(Object.getPrototypeOf(destination), Uint8Array.prototype);
    pooled.fill(0);
    assert.equal(destination?.[15], 5);
  });
});
