/**
 * Frames for the in-kernel fast path tests, all in the captured fixtures' world
 * (test/fixtures/captured.ts): host a (2001:db8::1, 02:00:00:00:00:0a) asks for
 * 2001:db8::2, which host b (02:00:00:00:00:0b) answers for.
 */
import { multicastMac, parseIpv6, parseMac, solicitedNodeAddress } from '../../src/wire/address';
import { encodeSolicitationFrame, type SolicitationFrameFields } from '../../src/wire/frame';
import { NdOptionType, type NdOption } from '../../src/wire/nd-options';

/** The asking host. */
export const ASKER = { mac: '02:00:00:00:00:0a', address: '2001:db8::1' } as const;
/** The answering host (the uplink the fast path runs on). */
export const ANSWERER = { mac: '02:00:00:00:00:0b' } as const;
/** The address answered for. */
export const TARGET = '2001:db8::2';

/** A multicast NS from ASKER for `target` with an SLLA, as Linux sends it; `overrides` replace whole fields. */
export function solicitationFor(target: string = TARGET, overrides: Partial<SolicitationFrameFields> = {}, options?: NdOption[]): Uint8Array {
  const mac = parseMac(ASKER.mac);
  const group = solicitedNodeAddress(parseIpv6(target));
  return encodeSolicitationFrame({
    ethernetDestination: multicastMac(group),
    ethernetSource: mac,
    ipv6Source: parseIpv6(ASKER.address),
    ipv6Destination: group,
    hopLimit: 255,
    solicitation: { target: parseIpv6(target), options: options ?? [{ type: NdOptionType.SourceLinkLayerAddress, linkLayerAddress: mac }] },
    ...overrides,
  });
}
