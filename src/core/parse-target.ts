import { Address4, Address6 } from 'ip-address';
import type { Target } from '../model/target';
import { UserError } from '../model/errors';

function bytesOf(address: Address6): Uint8Array {
  return Uint8Array.from(address.toUnsignedByteArray());
}

/**
 * Parse one `--target` value (an address or a prefix) at the boundary, with `ip-address`.
 * Rejects what can never be proxied, with a message that says why.
 */
export function parseTarget(text: string, origin = 'static', via?: string): Target {
  const trimmed = text.trim();
  // A zone names an interface on this host; a proxied address must be global (RFC 4007 §11).
  if (trimmed.includes('%')) throw new UserError(`invalid target "${text}": a zone (%…) cannot be proxied; give the global address`);
  const [addressPart, lengthPart, ...extra] = trimmed.split('/');
  if (trimmed === '' || extra.length > 0) throw new UserError(`invalid target "${text}": expected an IPv6 address or prefix`);
  if (Address4.isValid(addressPart ?? '')) {
    throw new UserError(`invalid target "${text}": IPv4 has no Neighbour Discovery; give an IPv6 address`);
  }
  if (lengthPart !== undefined && !/^\d{1,3}$/.test(lengthPart)) {
    throw new UserError(`invalid target "${text}": prefix length must be a number from 1 to 128`);
  }
  const prefixLength = lengthPart === undefined ? 128 : Number(lengthPart);
  if (prefixLength < 1 || prefixLength > 128) {
    throw new UserError(`invalid target "${text}": prefix length must be a number from 1 to 128`);
  }
  let address: Address6;
  try {
    address = new Address6(`${addressPart}/${prefixLength}`);
  } catch {
    throw new UserError(`invalid target "${text}": not an IPv6 address`);
  }
  if (address.isMulticast()) throw new UserError(`invalid target "${text}": multicast addresses are never solicited`);
  if (address.isLinkLocal() || /^fe[89ab]/i.test(address.canonicalForm())) {
    throw new UserError(`invalid target "${text}": link-local addresses cannot be proxied`);
  }
  const bytes = bytesOf(address);
  if (bytes.every((b) => b === 0)) throw new UserError(`invalid target "${text}": the unspecified address`);
  if (prefixLength === 128 && bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) {
    throw new UserError(`invalid target "${text}": the loopback address never appears on a link`);
  }
  // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d stands for an IPv4 node, which has no Neighbour Discovery.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    throw new UserError(`invalid target "${text}": an IPv4-mapped address stands for an IPv4 node, which has no Neighbour Discovery`);
  }
  const network = address.startAddress();
  if (prefixLength < 128 && network.correctForm() !== address.correctForm()) {
    throw new UserError(
      `invalid target "${text}": host bits are set; did you mean ${network.correctForm()}/${prefixLength}?`,
    );
  }
  const normal = prefixLength === 128 ? address.correctForm() : `${address.correctForm()}/${prefixLength}`;
  return { address: bytes, prefixLength, text: normal, via, origin };
}
