/**
 * The layout NS and NA share (RFC 4861 §4.3, §4.4): type, code, checksum, one byte of flags
 * (reserved in an NS), three reserved bytes, the 16-byte target, then options.
 */
import { IPV6_ADDRESS_LENGTH } from './address';
import { WireError, ensureAvailable, type WireErrorCode } from './errors';
import { NdOption, decodeNdOptions, encodeNdOptions, ndOptionsEncodingLength } from './nd-options';

/** Fixed part of both messages: 8 header bytes plus the target. */
export const TARGET_MESSAGE_MIN_LENGTH = 24;

/** The shared fields of a decoded NS or NA. */
export interface TargetMessage {
  /** The byte after the checksum: R/S/O flags in an NA, reserved in an NS. */
  readonly flags: number;
  readonly target: Uint8Array;
  readonly options: NdOption[];
}

/** What identifies one of the two messages in errors. */
export interface TargetMessageKind {
  readonly type: number;
  /** For errors: "Neighbor Solicitation". */
  readonly name: string;
  readonly short: string;
  /** The error code for another ICMPv6 type. */
  readonly wrongType: WireErrorCode;
}

/** Decodes the message of `length` bytes at `offset` as `kind`; code and checksum are the caller's. */
export function decodeTargetMessage(kind: TargetMessageKind, bytes: Uint8Array, offset: number, length: number): TargetMessage {
  if (length < TARGET_MESSAGE_MIN_LENGTH) throw new WireError('bad-length', offset, `${kind.short} of ${length} bytes`);
  ensureAvailable(bytes, offset, length, kind.name);
  if (bytes[offset] !== kind.type) throw new WireError(kind.wrongType, offset, `ICMPv6 type ${bytes[offset] ?? -1}`);
  return {
    flags: bytes[offset + 4] ?? 0,
    target: bytes.slice(offset + 8, offset + 24),
    options: decodeNdOptions(bytes, offset + 24, offset + length),
  };
}

/** Encoded size of a message with `options`. */
export function targetMessageEncodingLength(options: readonly NdOption[]): number {
  return TARGET_MESSAGE_MIN_LENGTH + ndOptionsEncodingLength(options);
}

/** Writes the message with code 0 and checksum 0 (frame helpers fill it); returns bytes written. */
export function encodeTargetMessage(kind: TargetMessageKind, message: TargetMessage, bytes: Uint8Array, offset: number): number {
  const length = targetMessageEncodingLength(message.options);
  ensureAvailable(bytes, offset, length, kind.name);
  if (message.target.length !== IPV6_ADDRESS_LENGTH) throw new WireError('bad-address', offset + 8, 'target is not 16 bytes');
  bytes[offset] = kind.type;
  bytes.fill(0, offset + 1, offset + 8); // code, checksum, flags, reserved
  bytes[offset + 4] = message.flags;
  bytes.set(message.target, offset + 8);
  encodeNdOptions(message.options, bytes, offset + TARGET_MESSAGE_MIN_LENGTH);
  return length;
}
