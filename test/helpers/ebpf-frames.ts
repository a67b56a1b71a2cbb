/**
 * Frames for the in-kernel fast path tests, all in the captured fixtures' world
 * (test/fixtures/captured.ts): host a (2001:db8::1, 02:00:00:00:00:0a) asks for
 * 2001:db8::2, which host b (02:00:00:00:00:0b) answers for.
 */
import { multicastMac, parseIpv6, parseMac, solicitedNodeAddress } from '../../src/wire/address';
import { TargetAction, encodeFastPathConfig, encodeTargetKey, fastPathMaps, type FastPathConfig } from '../../src/wire/ebpf/fast-path-layout';
import { ETHERNET_HEADER_LENGTH } from '../../src/wire/ethernet';
import { encodeSolicitationFrame, type SolicitationFrameFields } from '../../src/wire/frame';
import { writeIcmpv6Checksum } from '../../src/wire/icmpv6';
import { IPV6_HEADER_LENGTH } from '../../src/wire/ipv6';
import { SOLICITATION_RULES, type FieldRule } from '../../src/wire/solicitation-rules';
import { NdOptionType, type NdOption } from '../../src/wire/nd-options';
import * as captured from '../fixtures/captured';
import { hex } from '../fixtures/hex';
import type { VmMap } from './ebpf-vm';
import { patched } from './solicitations';

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

/** What the program should do with a frame: answer it, leave it to userspace after matching, or ignore it. */
export type FastPathOutcome = 'answer' | 'defer' | 'ignore';

const NS = hex(captured.NS_MULTICAST);

const LAYER_START = { ethernet: 0, ipv6: ETHERNET_HEADER_LENGTH, icmpv6: ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH } as const;
const TARGET_START = LAYER_START.icmpv6 + 8;

/** The field rows a frame can violate (metadata rows are socket-filter ancillary data, not bytes). */
export const FRAME_FIELD_RULES: readonly FieldRule[] = SOLICITATION_RULES.filter(
  (row): row is FieldRule => row.kind === 'field' && row.layer !== 'metadata',
);

/**
 * The captured (answered) NS changed so that it fails `row` only: the masked field set to a
 * value the row refuses, the checksum recomputed.
 */
export function violating(row: FieldRule, frame: Uint8Array = NS): Uint8Array {
  if (row.layer === 'metadata') throw new RangeError('metadata rows have no bytes');
  const copy = Uint8Array.from(frame);
  const view = new DataView(copy.buffer);
  const at = LAYER_START[row.layer] + row.offset;
  const read = (): number => (row.width === 1 ? view.getUint8(at) : row.width === 2 ? view.getUint16(at) : view.getUint32(at));
  const lowest = row.mask & -row.mask;
  const bad = row.op === 'eq' ? (row.value ^ lowest) & row.mask : row.value;
  const value = ((read() & ~row.mask) | bad) >>> 0;
  if (row.width === 1) view.setUint8(at, value);
  else if (row.width === 2) view.setUint16(at, value);
  else view.setUint32(at, value);
  if (row.layer !== 'ethernet' || row.offset >= 12) {
    writeIcmpv6Checksum(copy.subarray(22, 38), copy.subarray(38, 54), copy, 54, copy.length - 54);
  }
  return copy;
}

/**
 * What the answering program does with a frame failing only field `row`: a socket-filter row
 * (or one that changes the target, which then misses the map) is not an NS for us; any other
 * row is matched, deferred and passed to userspace, which counts the row's reason.
 */
function violationOutcome(row: FieldRule): FastPathOutcome {
  const at = LAYER_START[row.layer as keyof typeof LAYER_START] + row.offset;
  const touchesTarget = at < TARGET_START + 16 && at + row.width > TARGET_START;
  return row.kernel || touchesTarget ? 'ignore' : 'defer';
}

/** Frames and what the answering program does with each (the counting program matches the same ones). */
export const FAST_PATH_CASES: readonly (readonly [name: string, frame: Uint8Array, outcome: FastPathOutcome])[] = [
  ['multicast NS with SLLA (captured)', NS, 'answer'],
  ['unicast NUD probe from a link-local source (captured)', hex(captured.NS_UNICAST_NUD), 'answer'],
  ['DAD probe with nonce (captured): its NA goes to ff02::1 with S=0', hex(captured.NS_DAD_WITH_NONCE), 'defer'],
  ['NS with a bad checksum', patched(NS, 57, 0x00, false), 'defer'],
  ['NS without options (24 bytes)', solicitationFor(TARGET, {}, []), 'defer'],
  ['NS from our own MAC', solicitationFor(TARGET, { ethernetSource: parseMac(ANSWERER.mac) }), 'defer'],
  ['NS for a target not in the map', solicitationFor('2001:db8::3'), 'ignore'],
  ['NS with hop limit 64 (RFC 4861 §7.1.1): userspace counts bad-hop-limit', patched(NS, 21, 64, false), 'defer'],
  ['NS with code 1: userspace counts bad-code', patched(NS, 55, 1, true), 'defer'],
  ['NA (captured)', hex(captured.NA_SOLICITED_OVERRIDE), 'ignore'],
  ['echo request (captured)', hex(captured.ECHO_REQUEST), 'ignore'],
  ['truncated NS (ends inside the target)', NS.subarray(0, 70), 'ignore'],
  ...FRAME_FIELD_RULES.map((row) => [`captured NS failing only the ${row.name} row (${row.reason})`, violating(row), violationOutcome(row)] as const),
];

/** The fast path's maps for the eBPF VM, filled as the loader fills them: TARGET (or `targets`), our MAC, O set, no limits (or `config`). */
export function vmMaps(config: Partial<FastPathConfig> = {}, targets: readonly Uint8Array[] = [parseIpv6(TARGET)]): Record<string, VmMap> {
  const specs = fastPathMaps();
  return {
    targets: { ...specs.targets, lpm: true, entries: new Map(targets.map((target) => [Buffer.from(encodeTargetKey(target, 128)).toString('hex'), Uint8Array.of(TargetAction.ANSWER, 0, 0, 0)])) },
    config: { ...specs.config, arrayEntries: 1, entries: new Map([['0', encodeFastPathConfig({ mac: parseMac(ANSWERER.mac), router: false, override: true, ...config })]]) },
    counters: { ...specs.counters, arrayEntries: specs.counters.maxEntries, entries: new Map() },
    flows: { ...specs.flows, entries: new Map() },
    sources: { ...specs.sources, entries: new Map() },
    global: { ...specs.global, arrayEntries: 1, entries: new Map() },
  };
}
