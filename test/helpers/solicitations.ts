import { join } from 'node:path';
import { runInNamespace } from '../../src/lab/exec';
import type { Scenario } from '../../src/lab/topology';
import { multicastMac, parseIpv6, parseMac, solicitedNodeAddress } from '../../src/wire/address';
import { encodeSolicitationFrame, type SolicitationFrameFields } from '../../src/wire/frame';
import { writeIcmpv6Checksum } from '../../src/wire/icmpv6';
import { NdOptionType } from '../../src/wire/nd-options';

const SEND_FRAMES = join(__dirname, 'send-frames.js');

/** A multicast NS for `target` from the LAN host, with SLLA, as its kernel would send it; `overrides` replace whole fields. */
export function solicitation(lab: Scenario, target: string, overrides: Partial<SolicitationFrameFields> = {}): Uint8Array {
  const lanMac = parseMac(lab.lan.mac);
  const group = solicitedNodeAddress(parseIpv6(target));
  return encodeSolicitationFrame({
    ethernetDestination: multicastMac(group),
    ethernetSource: lanMac,
    ipv6Source: parseIpv6(lab.lan.address),
    ipv6Destination: group,
    hopLimit: 255,
    solicitation: { target: parseIpv6(target), options: [{ type: NdOptionType.SourceLinkLayerAddress, linkLayerAddress: lanMac }] },
    ...overrides,
  });
}

/** A copy of `frame` with the byte at `offset` set to `value`; `recompute` rewrites the ICMPv6 checksum afterwards. */
export function patched(frame: Uint8Array, offset: number, value: number, recompute: boolean): Uint8Array {
  const copy = Uint8Array.from(frame);
  copy[offset] = value;
  if (recompute) writeIcmpv6Checksum(copy.subarray(22, 38), copy.subarray(38, 54), copy, 54, copy.length - 54);
  return copy;
}

/** Send whole Ethernet frames, in order, out of the LAN host's lan0. */
export async function sendFrames(lab: Scenario, frames: readonly Uint8Array[]): Promise<void> {
  await runInNamespace(lab.lan.ns, process.execPath, [SEND_FRAMES, 'lan0', ...frames.map((f) => Buffer.from(f).toString('hex'))]);
}
