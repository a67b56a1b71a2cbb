/**
 * Neighbor Discovery options (RFC 4861 §4.6): type, length in 8-octet units,
 * body. Known options get typed fields; any other option survives as its raw
 * body and re-encodes byte for byte.
 */
import { MAC_ADDRESS_LENGTH } from './address';
import { WireError } from './errors';

/** ND option type codes (IANA "IPv6 Neighbor Discovery Option Formats"). */
export const NdOptionType = {
  SourceLinkLayerAddress: 1,
  TargetLinkLayerAddress: 2,
  PrefixInformation: 3,
  RedirectedHeader: 4,
  Mtu: 5,
  /** RFC 3971 §5.3.2, used by enhanced DAD (RFC 7527 §4). */
  Nonce: 14,
} as const;

/** At most this many options are decoded per message, bounding work on hostile input. */
export const MAX_ND_OPTIONS = 64;

/** Source/Target Link-Layer Address option (RFC 4861 §4.6.1) carrying an Ethernet MAC. */
export interface LinkLayerAddressOption {
  type: 1 | 2;
  linkLayerAddress: Uint8Array;
}

/** Nonce option (RFC 3971 §5.3.2): `nonce` is every byte after type and length. */
export interface NonceOption {
  type: 14;
  nonce: Uint8Array;
}

/** Any other option, or a link-layer option that is not 8 bytes: `body` is every byte after type and length. */
export interface RawNdOption {
  type: number;
  body: Uint8Array;
}

/** One ND option. Narrow with {@link isLinkLayerAddressOption} / {@link isNonceOption}. */
export type NdOption = LinkLayerAddressOption | NonceOption | RawNdOption;

/** True for a decoded SLLA/TLLA option holding a link-layer address. */
export function isLinkLayerAddressOption(option: NdOption): option is LinkLayerAddressOption {
  return 'linkLayerAddress' in option;
}

/** True for a decoded nonce option. */
export function isNonceOption(option: NdOption): option is NonceOption {
  return 'nonce' in option;
}

/** The link-layer address of the first option of `type` (1 = SLLA, 2 = TLLA), if any. */
export function findLinkLayerAddress(options: readonly NdOption[], type: 1 | 2): Uint8Array | undefined {
  for (const option of options) {
    if (option.type === type && isLinkLayerAddressOption(option)) return option.linkLayerAddress;
  }
  return undefined;
}

/** The bytes after type and length, whatever the option kind. */
function optionBody(option: NdOption): Uint8Array {
  if (isLinkLayerAddressOption(option)) return option.linkLayerAddress;
  if (isNonceOption(option)) return option.nonce;
  return option.body;
}

/** Encoded size of one option: 2 header bytes plus body, padded to 8 (RFC 4861 §4.6). */
function optionLength(option: NdOption): number {
  return Math.ceil((2 + optionBody(option).length) / 8) * 8;
}

/** Builds the typed option for one decoded type/body pair. */
function typedOption(type: number, body: Uint8Array): NdOption {
  // RFC 4861 §4.6.1: on Ethernet the option is exactly 8 bytes; other sizes stay raw.
  const isLinkLayer = type === NdOptionType.SourceLinkLayerAddress || type === NdOptionType.TargetLinkLayerAddress;
  if (isLinkLayer && body.length === MAC_ADDRESS_LENGTH) {
    return { type: type as 1 | 2, linkLayerAddress: body };
  }
  if (type === NdOptionType.Nonce) return { type: NdOptionType.Nonce, nonce: body };
  return { type, body };
}

/**
 * Decodes the options in bytes[offset, end). RFC 4861 §4.6: a zero length or
 * an option overrunning `end` is 'bad-option-length'; more than
 * {@link MAX_ND_OPTIONS} is 'too-many-headers'. Bodies are copies.
 */
export function decodeNdOptions(bytes: Uint8Array, offset: number, end: number): NdOption[] {
  if (end > bytes.length) throw new WireError('truncated', bytes.length, `options end at ${end}`);
  const options: NdOption[] = [];
  let at = offset;
  while (at < end) {
    if (at + 2 > end) throw new WireError('bad-option-length', at, 'option header past end');
    const length = (bytes[at + 1] ?? 0) * 8;
    if (length === 0) throw new WireError('bad-option-length', at, 'option length 0');
    if (at + length > end) throw new WireError('bad-option-length', at, `option of ${length} bytes past end`);
    if (options.length === MAX_ND_OPTIONS) throw new WireError('too-many-headers', at, `more than ${MAX_ND_OPTIONS} options`);
    options.push(typedOption(bytes[at] ?? 0, bytes.slice(at + 2, at + length)));
    at += length;
  }
  return options;
}

/** Total encoded size of `options` in bytes. */
export function ndOptionsEncodingLength(options: readonly NdOption[]): number {
  let total = 0;
  for (const option of options) total += optionLength(option);
  return total;
}

/** Writes `options` at `offset`, zero-padding each to 8 bytes; returns bytes written. */
export function encodeNdOptions(options: readonly NdOption[], bytes: Uint8Array, offset: number): number {
  const total = ndOptionsEncodingLength(options);
  if (offset < 0 || offset + total > bytes.length) throw new WireError('truncated', offset, `options need ${total} bytes`);
  let at = offset;
  for (const option of options) {
    const length = optionLength(option);
    if (length > 255 * 8) throw new WireError('bad-option-length', at, `option of ${length} bytes too long`);
    bytes[at] = option.type & 0xff;
    bytes[at + 1] = length / 8;
    bytes.set(optionBody(option), at + 2);
    bytes.fill(0, at + 2 + optionBody(option).length, at + length);
    at += length;
  }
  return total;
}
