/**
 * What the generator needs to know about its interface, and the responder's MAC for
 * unicast probes (learnt from the answer to one multicast NS).
 */
import { ExitCode, UserError } from '../model/errors';
import { advertisementFilter } from '../wire/bpf';
import { decodeAdvertisementFrame } from '../wire/frame';
import { findLinkLayerAddress } from '../wire/nd-options';
import { equalBytes, isLinkLocal } from '../wire/address';
import { openPacketSocket } from '../io/native';
import { snapshotInterface } from '../io/rtnetlink-client';
import type { SourceChoice } from './options';
import type { ProbePlan, SourceSpace } from './probe-plan';

/** Index, MAC and IPv6 addresses (global ones in ascending order) of an interface in this namespace. */
export interface InterfaceInfo {
  name: string;
  ifindex: number;
  mac: Uint8Array;
  globalAddresses: Uint8Array[];
  linkLocalAddresses: Uint8Array[];
}

/** Byte-wise order of two addresses. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Reads the interface over rtnetlink; UserError exit 3 when it does not exist here or has no MAC. */
export async function readInterface(name: string): Promise<InterfaceInfo> {
  const snapshot = await snapshotInterface(name);
  if (snapshot === undefined) throw new UserError(`interface ${name} not found`, ExitCode.Environment);
  if (snapshot.mac?.length !== 6) throw new UserError(`interface ${name} has no Ethernet address`, ExitCode.Environment);
  const linkLocal = (a: Uint8Array): boolean => isLinkLocal(a);
  return {
    name,
    ifindex: snapshot.ifindex,
    mac: snapshot.mac,
    // Sorted, so `fixed` and `pool:N` pick the same addresses whatever order the kernel lists them in.
    globalAddresses: snapshot.ipv6Addresses.filter((a) => !linkLocal(a)).sort(compareBytes),
    linkLocalAddresses: snapshot.ipv6Addresses.filter(linkLocal),
  };
}

/** The source space for `choice` on this interface; UserError exit 3 when it lacks the addresses. */
export function resolveSources(choice: SourceChoice, info: InterfaceInfo): SourceSpace {
  if (choice.kind === 'random') return { kind: 'random', range: choice.range };
  const own = [...info.globalAddresses, ...info.linkLocalAddresses];
  if (choice.kind === 'fixed') {
    const first = own[0];
    if (first === undefined) throw new UserError(`interface ${info.name} has no IPv6 address to send from`, ExitCode.Environment);
    return { kind: 'list', addresses: [first] };
  }
  // Pool sources must be real addresses here: answers from kernel-based responders are routed to them.
  if (info.globalAddresses.length < choice.size) {
    throw new UserError(
      `--sources pool:${choice.size} needs ${choice.size} global IPv6 addresses on ${info.name}, it has ${info.globalAddresses.length}`,
      ExitCode.Environment,
    );
  }
  return { kind: 'list', addresses: info.globalAddresses.slice(0, choice.size) };
}

/**
 * Sends the first probe of a multicast `plan` up to 3 times and returns the MAC its answer
 * gives (TLLA option, else the frame's source); UserError exit 3 when nobody answers.
 */
export async function learnResponderMac(ifindex: number, plan: ProbePlan, targetText: string): Promise<Uint8Array> {
  let learnt: Uint8Array | undefined;
  const wanted = plan.keys.subarray(0, 16);
  const socket = openPacketSocket({
    ifindex,
    filter: advertisementFilter({ targets: [wanted] }),
    onFrames: (data, count, meta) => {
      let offset = 0;
      for (let i = 0; i < count && learnt === undefined; i++) {
        const length = meta[i * 4] ?? 0;
        try {
          const frame = decodeAdvertisementFrame(data, offset, length);
          if (equalBytes(frame.advertisement.target, 0, wanted, 0, 16)) {
            learnt = findLinkLayerAddress(frame.advertisement.options, 2) ?? frame.ethernet.source;
          }
        } catch {
          // not an NA we can read: keep waiting
        }
        offset += length;
      }
    },
  });
  try {
    for (let attempt = 0; attempt < 3 && learnt === undefined; attempt++) {
      socket.send(plan.frames.subarray(0, plan.frameLength));
      for (let waited = 0; waited < 1000 && learnt === undefined; waited += 10) await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    socket.close();
  }
  if (learnt === undefined) {
    throw new UserError(`no answer to a multicast NS for ${targetText}: unicast mode needs the responder's MAC`, ExitCode.Environment);
  }
  return learnt;
}
