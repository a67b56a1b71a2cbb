/** One captured frame. */
export interface PcapPacket {
  /** Capture time in nanoseconds since the Unix epoch (µs files are scaled up). */
  readonly timestampNs: bigint;
  /** The captured bytes (a view into the file's buffer; at most the snapshot length). */
  readonly data: Uint8Array;
  /** Length of the frame on the wire, which exceeds `data.length` when it was truncated. */
  readonly originalLength: number;
}

/** A classic (libpcap) capture file. */
export interface PcapFile {
  /** LINKTYPE_* of every frame; 1 is Ethernet. */
  readonly linkType: number;
  readonly snapLength: number;
  /** Timestamp resolution the file was written with. */
  readonly precision: 'micro' | 'nano';
  readonly littleEndian: boolean;
  readonly packets: PcapPacket[];
}

/** Link type of Ethernet frames. */
export const LINKTYPE_ETHERNET = 1;

/** Classic pcap constants (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap). */
export const PCAP = {
  MAGIC_MICRO: 0xa1b2c3d4,
  MAGIC_NANO: 0xa1b23c4d,
  FILE_HEADER_LENGTH: 24,
  RECORD_HEADER_LENGTH: 16,
} as const;

/** Why a buffer is not a readable pcap file. */
export type PcapErrorCode = 'truncated-file-header' | 'bad-magic' | 'truncated-record-header' | 'truncated-record-data';

/** A malformed capture file, with the byte offset where reading stopped. */
export class PcapFormatError extends Error {
  constructor(
    readonly code: PcapErrorCode,
    readonly offset: number,
    detail: string,
  ) {
    super(`pcap ${code} at offset ${offset}: ${detail}`);
    this.name = 'PcapFormatError';
  }
}

/** Byte order and precision announced by the magic number, or undefined for a foreign magic. */
function readMagic(view: DataView): { littleEndian: boolean; precision: 'micro' | 'nano' } | undefined {
  for (const littleEndian of [true, false]) {
    const magic = view.getUint32(0, littleEndian);
    if (magic === PCAP.MAGIC_MICRO) return { littleEndian, precision: 'micro' };
    if (magic === PCAP.MAGIC_NANO) return { littleEndian, precision: 'nano' };
  }
  return undefined;
}

/** Parse a classic pcap file (either byte order, µs or ns timestamps); throws {@link PcapFormatError}. */
export function parsePcap(bytes: Uint8Array): PcapFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < PCAP.FILE_HEADER_LENGTH) {
    throw new PcapFormatError('truncated-file-header', 0, `${bytes.length} bytes, need ${PCAP.FILE_HEADER_LENGTH}`);
  }
  const magic = readMagic(view);
  if (magic === undefined) {
    throw new PcapFormatError('bad-magic', 0, `0x${view.getUint32(0, false).toString(16).padStart(8, '0')}`);
  }
  const { littleEndian, precision } = magic;
  const snapLength = view.getUint32(16, littleEndian);
  const linkType = view.getUint32(20, littleEndian) & 0xffff; // the upper bits carry FCS information
  const packets: PcapPacket[] = [];
  for (let offset = PCAP.FILE_HEADER_LENGTH; offset < bytes.length; ) {
    const packet = readRecord(bytes, view, offset, littleEndian, precision);
    packets.push(packet);
    offset += PCAP.RECORD_HEADER_LENGTH + packet.data.length;
  }
  return { linkType, snapLength, precision, littleEndian, packets };
}

/** Read the record that starts at `offset`. */
function readRecord(bytes: Uint8Array, view: DataView, offset: number, littleEndian: boolean, precision: 'micro' | 'nano'): PcapPacket {
  if (offset + PCAP.RECORD_HEADER_LENGTH > bytes.length) {
    throw new PcapFormatError('truncated-record-header', offset, `${bytes.length - offset} bytes left, need ${PCAP.RECORD_HEADER_LENGTH}`);
  }
  const seconds = BigInt(view.getUint32(offset, littleEndian));
  const fraction = BigInt(view.getUint32(offset + 4, littleEndian));
  const capturedLength = view.getUint32(offset + 8, littleEndian);
  const originalLength = view.getUint32(offset + 12, littleEndian);
  const dataOffset = offset + PCAP.RECORD_HEADER_LENGTH;
  if (capturedLength > bytes.length - dataOffset) {
    throw new PcapFormatError('truncated-record-data', dataOffset, `record says ${capturedLength} bytes, ${bytes.length - dataOffset} left`);
  }
  const scale = precision === 'nano' ? 1n : 1000n;
  return {
    timestampNs: seconds * 1_000_000_000n + fraction * scale,
    data: bytes.subarray(dataOffset, dataOffset + capturedLength),
    originalLength,
  };
}

/** What {@link encodePcap} writes. */
export interface PcapWriteOptions {
  readonly linkType?: number;
  readonly snapLength?: number;
  readonly precision?: 'micro' | 'nano';
  readonly littleEndian?: boolean;
}

/** Write packets as a classic pcap file (for fixtures and tests); sub-resolution time is truncated. */
export function encodePcap(packets: readonly PcapPacket[], options: PcapWriteOptions = {}): Uint8Array {
  const littleEndian = options.littleEndian ?? true;
  const nano = options.precision === 'nano';
  const total = packets.reduce<number>((sum, p) => sum + PCAP.RECORD_HEADER_LENGTH + p.data.length, PCAP.FILE_HEADER_LENGTH);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, nano ? PCAP.MAGIC_NANO : PCAP.MAGIC_MICRO, littleEndian);
  view.setUint16(4, 2, littleEndian); // version 2.4
  view.setUint16(6, 4, littleEndian);
  view.setUint32(16, options.snapLength ?? 262144, littleEndian);
  view.setUint32(20, options.linkType ?? LINKTYPE_ETHERNET, littleEndian);
  let offset = PCAP.FILE_HEADER_LENGTH;
  for (const packet of packets) {
    const divisor = nano ? 1n : 1000n;
    view.setUint32(offset, Number(packet.timestampNs / 1_000_000_000n), littleEndian);
    view.setUint32(offset + 4, Number((packet.timestampNs % 1_000_000_000n) / divisor), littleEndian);
    view.setUint32(offset + 8, packet.data.length, littleEndian);
    view.setUint32(offset + 12, packet.originalLength, littleEndian);
    bytes.set(packet.data, offset + PCAP.RECORD_HEADER_LENGTH);
    offset += PCAP.RECORD_HEADER_LENGTH + packet.data.length;
  }
  return bytes;
}
