/**
 * IPv6 and MAC address text forms and the address classes NDP cares about.
 * Addresses are plain byte arrays: 16 bytes for IPv6, 6 bytes for a MAC.
 */
import { WireError, ensureAvailable } from './errors';

/** Length of an IPv6 address in bytes. */
export const IPV6_ADDRESS_LENGTH = 16;
/** Length of an Ethernet MAC address in bytes. */
export const MAC_ADDRESS_LENGTH = 6;

/** The all-nodes multicast group ff02::1 (RFC 4291 §2.7.1). Shared: never mutate it. */
export const ALL_NODES: Uint8Array = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
/** The unspecified address :: (RFC 4291 §2.5.2), the source of a DAD probe. Shared: never mutate it. */
export const UNSPECIFIED: Uint8Array = new Uint8Array(IPV6_ADDRESS_LENGTH);

/** Prefix ff02:0:0:0:0:1:ff00::/104 of solicited-node groups, its 13 bytes (RFC 4291 §2.7.1). Shared: never mutate it. */
export const SOLICITED_NODE_PREFIX: Uint8Array = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff);

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const IPV4_TAIL = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC_TEXT = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

function badAddress(text: string, why: string): WireError {
  return new WireError('bad-address', 0, `${JSON.stringify(text)}: ${why}`);
}

/** Parses dotted-quad text into 4 bytes; leading zeros are refused (RFC 6943 §3.1.1: octal ambiguity). */
function parseIpv4Tail(text: string, whole: string): number[] {
  const match = IPV4_TAIL.exec(text);
  if (match === null) throw badAddress(whole, 'bad IPv4 tail');
  return match.slice(1).map((part) => {
    const value = Number(part);
    if (value > 255 || (part.length > 1 && part.startsWith('0'))) throw badAddress(whole, 'bad IPv4 octet');
    return value;
  });
}

/** Converts colon-separated groups (the last possibly dotted IPv4) into 16-bit words. */
function parseGroups(text: string, whole: string, ipv4Allowed: boolean): number[] {
  if (text === '') return [];
  const groups = text.split(':');
  const words: number[] = [];
  groups.forEach((group, index) => {
    if (ipv4Allowed && index === groups.length - 1 && group.includes('.')) {
      const [a = 0, b = 0, c = 0, d = 0] = parseIpv4Tail(group, whole);
      words.push((a << 8) | b, (c << 8) | d);
    } else if (HEX_GROUP.test(group)) {
      words.push(parseInt(group, 16));
    } else {
      throw badAddress(whole, `bad group ${JSON.stringify(group)}`);
    }
  });
  return words;
}

/** Parses any RFC 4291 §2.2 text form (including `::` and an IPv4 tail) into 16 bytes; zone ids are refused. */
export function parseIpv6(text: string): Uint8Array {
  const halves = text.split('::');
  if (halves.length > 2) throw badAddress(text, 'more than one "::"');
  const head = parseGroups(halves[0] ?? '', text, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '', text, true) : [];
  const count = head.length + tail.length;
  // RFC 4291 §2.2: "::" stands for one or more zero groups, so at most 7 remain.
  if (halves.length === 2 ? count > 7 : count !== 8) throw badAddress(text, 'wrong number of groups');
  const words = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const bytes = new Uint8Array(IPV6_ADDRESS_LENGTH);
  words.forEach((word, index) => {
    bytes[index * 2] = word >> 8;
    bytes[index * 2 + 1] = word & 0xff;
  });
  return bytes;
}

/** Finds the longest run of at least two zero words, the first one on a tie (RFC 5952 §4.2). */
function longestZeroRun(words: number[]): { start: number; length: number } {
  let best = { start: -1, length: 0 };
  let start = -1;
  for (let i = 0; i <= words.length; i++) {
    if (i < words.length && words[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best.length >= 2 ? best : { start: -1, length: 0 };
}

/**
 * Formats 16 bytes as RFC 5952 canonical text: lowercase, no leading zeros,
 * longest zero run (first on tie, never a single group) compressed, and
 * IPv4-mapped addresses in mixed notation (§5).
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  ensureAvailable(bytes, offset, IPV6_ADDRESS_LENGTH, 'IPv6 address');
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[offset + i * 2] ?? 0) << 8) | (bytes[offset + i * 2 + 1] ?? 0));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    const v4 = bytes.subarray(offset + 12, offset + 16).join('.');
    return `::ffff:${v4}`;
  }
  const run = longestZeroRun(words);
  const hex = words.map((w) => w.toString(16));
  if (run.length === 0) return hex.join(':');
  const head = hex.slice(0, run.start).join(':');
  const tail = hex.slice(run.start + run.length).join(':');
  return `${head}::${tail}`;
}

/** Parses "aa:bb:cc:dd:ee:ff" (or dash-separated) into 6 bytes. */
export function parseMac(text: string): Uint8Array {
  if (!MAC_TEXT.test(text)) throw badAddress(text, 'not a MAC address');
  return Uint8Array.from(text.split(/[:-]/), (part) => parseInt(part, 16));
}

/** Formats 6 bytes as lowercase "aa:bb:cc:dd:ee:ff". */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  ensureAvailable(bytes, offset, MAC_ADDRESS_LENGTH, 'MAC address');
  const parts: string[] = [];
  for (let i = 0; i < MAC_ADDRESS_LENGTH; i++) parts.push((bytes[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Compares `len` bytes of `a` from `aOff` with `b` from `bOff`; false if either is too short. */
export function equalBytes(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  if (aOff < 0 || bOff < 0 || aOff + len > a.length || bOff + len > b.length) return false;
  for (let i = 0; i < len; i++) {
    if (a[aOff + i] !== b[bOff + i]) return false;
  }
  return true;
}

/** True for ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(address: Uint8Array, offset = 0): boolean {
  ensureAvailable(address, offset, IPV6_ADDRESS_LENGTH, 'IPv6 address');
  return address[offset] === 0xff;
}

/** True for fe80::/10 (RFC 4291 §2.5.6). */
export function isLinkLocal(address: Uint8Array, offset = 0): boolean {
  ensureAvailable(address, offset, IPV6_ADDRESS_LENGTH, 'IPv6 address');
  return address[offset] === 0xfe && ((address[offset + 1] ?? 0) & 0xc0) === 0x80;
}

/** True for :: (RFC 4291 §2.5.2). */
export function isUnspecified(address: Uint8Array, offset = 0): boolean {
  ensureAvailable(address, offset, IPV6_ADDRESS_LENGTH, 'IPv6 address');
  for (let i = 0; i < IPV6_ADDRESS_LENGTH; i++) if (address[offset + i] !== 0) return false;
  return true;
}

/** The solicited-node group of `target`: the /104 prefix plus its low 24 bits (RFC 4291 §2.7.1). */
export function solicitedNodeAddress(target: Uint8Array): Uint8Array {
  ensureAvailable(target, 0, IPV6_ADDRESS_LENGTH, 'IPv6 address');
  const group = new Uint8Array(IPV6_ADDRESS_LENGTH);
  group.set(SOLICITED_NODE_PREFIX);
  group.set(target.subarray(13, 16), 13);
  return group;
}

/** The Ethernet group MAC for an IPv6 multicast address: 33:33 plus its low 32 bits (RFC 2464 §7). */
export function multicastMac(ipv6: Uint8Array): Uint8Array {
  ensureAvailable(ipv6, 0, IPV6_ADDRESS_LENGTH, 'IPv6 address');
  const mac = new Uint8Array(MAC_ADDRESS_LENGTH);
  mac[0] = 0x33;
  mac[1] = 0x33;
  mac.set(ipv6.subarray(12, 16), 2);
  return mac;
}
