import { HeaderLength, netlinkAlign } from './rtnetlink-constants';
import { RtnetlinkError } from './rtnetlink-error';

/**
 * Bounds-checked access to rtattr/nlattr lists. All multi-byte reads are
 * little-endian because netlink uses host byte order (x86_64 / aarch64 here).
 */

/** Type bits of rta_type once NLA_F_NESTED (0x8000) and NLA_F_NET_BYTEORDER (0x4000) are masked off. */
const ATTRIBUTE_TYPE_MASK = 0x3fff;

/** A datagram plus a DataView over exactly the same bytes. */
export interface WireView {
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

/** One attribute: its masked type and where its payload lies in the datagram. */
export interface NetlinkAttribute {
  readonly type: number;
  readonly start: number;
  readonly length: number;
}

/** Wraps a datagram so readers share one DataView. */
export function wireView(bytes: Uint8Array): WireView {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** Walks the attributes in [start, end), keyed by type; a repeated type keeps the last one, as the kernel's nla_parse does. */
export function indexAttributes(wire: WireView, start: number, end: number): Map<number, NetlinkAttribute> {
  const attributes = new Map<number, NetlinkAttribute>();
  let offset = start;
  while (offset < end) {
    if (end - offset < HeaderLength.Attribute) {
      throw new RtnetlinkError('TRUNCATED_ATTRIBUTE', offset, `${end - offset} stray bytes after the last attribute`);
    }
    const length = wire.view.getUint16(offset, true);
    const type = wire.view.getUint16(offset + 2, true) & ATTRIBUTE_TYPE_MASK;
    if (length < HeaderLength.Attribute) {
      throw new RtnetlinkError('BAD_ATTRIBUTE_LENGTH', offset, `rta_len ${length} is below ${HeaderLength.Attribute}`);
    }
    if (length > end - offset) {
      throw new RtnetlinkError('ATTRIBUTE_OVERRUN', offset, `rta_len ${length} exceeds the ${end - offset} bytes left`);
    }
    const payloadStart = offset + HeaderLength.Attribute;
    attributes.set(type, { type, start: payloadStart, length: length - HeaderLength.Attribute });
    // The final attribute may omit its padding, so never step past the end.
    offset = Math.min(offset + netlinkAlign(length), end);
  }
  return attributes;
}

function requireSize(attribute: NetlinkAttribute, size: number): void {
  if (attribute.length < size) {
    throw new RtnetlinkError(
      'BAD_ATTRIBUTE_SIZE',
      attribute.start - HeaderLength.Attribute,
      `attribute ${attribute.type} carries ${attribute.length} bytes, needs ${size}`,
    );
  }
}

/** Reads a u8 attribute payload, or undefined when the attribute is absent. */
export function readU8(wire: WireView, attribute: NetlinkAttribute | undefined): number | undefined {
  if (attribute === undefined) return undefined;
  requireSize(attribute, 1);
  return wire.view.getUint8(attribute.start);
}

/** Reads a host-order u32 attribute payload, or undefined when the attribute is absent. */
export function readU32(wire: WireView, attribute: NetlinkAttribute | undefined): number | undefined {
  if (attribute === undefined) return undefined;
  requireSize(attribute, 4);
  return wire.view.getUint32(attribute.start, true);
}

/** Copies an attribute payload into a fresh Uint8Array that does not alias the datagram. */
export function readBytes(wire: WireView, attribute: NetlinkAttribute | undefined): Uint8Array | undefined {
  if (attribute === undefined) return undefined;
  return new Uint8Array(wire.bytes.subarray(attribute.start, attribute.start + attribute.length));
}

const utf8 = new TextDecoder('utf-8');

/** Reads a NUL-terminated string attribute payload (the NUL is optional). */
export function readString(wire: WireView, attribute: NetlinkAttribute | undefined): string | undefined {
  if (attribute === undefined) return undefined;
  const payload = wire.bytes.subarray(attribute.start, attribute.start + attribute.length);
  const nul = payload.indexOf(0);
  return utf8.decode(nul === -1 ? payload : payload.subarray(0, nul));
}

/** Writes one attribute (header, payload, zero padding) at `offset`; returns the aligned bytes written. */
export function writeAttribute(wire: WireView, offset: number, type: number, payload: Uint8Array): number {
  const length = HeaderLength.Attribute + payload.length;
  wire.view.setUint16(offset, length, true);
  wire.view.setUint16(offset + 2, type, true);
  wire.bytes.set(payload, offset + HeaderLength.Attribute);
  wire.bytes.fill(0, offset + length, offset + netlinkAlign(length));
  return netlinkAlign(length);
}

/** Encodes a u32 as a 4-byte host-order (little-endian) attribute payload. */
export function u32Payload(value: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, value, true);
  return payload;
}
