/**
 * Attaching programs to a device through bpf links (BPF_LINK_CREATE): XDP and
 * tcx. A link never replaces a program it does not own, and it lives exactly
 * as long as an fd refers to it: close() detaches, and so does the death of
 * the process holding it. ifindex is looked up in the caller's network
 * namespace.
 */
import { AttachFlags, AttachType, XdpFlags } from '../wire/ebpf/kernel-abi';
import { BpfObject, type BpfProgram } from './bpf';
import { isNativeError, nativeBpf } from './native';

/** An attached program; close() detaches it. */
export class BpfLink extends BpfObject {}

/** native: the driver's hook (fails if it has none); generic: the skb path every device has; auto: kernel's choice. */
export type XdpMode = 'native' | 'generic' | 'auto';

const XDP_MODE_FLAGS: Readonly<Record<XdpMode, number>> = { native: XdpFlags.DRV_MODE, generic: XdpFlags.SKB_MODE, auto: 0 };

/** An attach the kernel refused, with a message saying what was in the way. */
export class AttachError extends Error {
  /** Wraps the native error `cause`, keeping its code and errno. */
  constructor(
    message: string,
    readonly code: string,
    readonly errno: number,
    readonly syscall: string,
  ) {
    super(message);
    this.name = 'AttachError';
  }
}

function describeXdpRefusal(code: string, ifindex: number, mode: XdpMode): string {
  switch (code) {
    case 'EBUSY':
      return `another XDP program is attached to ifindex ${ifindex}; it is not ours, so it was left in place`;
    case 'EEXIST':
      return `an XDP program is attached to ifindex ${ifindex} in the other mode (native and generic cannot mix)`;
    case 'EOPNOTSUPP':
      return `the driver of ifindex ${ifindex} has no ${mode === 'native' ? 'native ' : ''}XDP support`;
    case 'ENODEV':
      return `no device with ifindex ${ifindex} in this network namespace`;
    default:
      return `attaching XDP to ifindex ${ifindex} failed`;
  }
}

/** Rethrows a native error from BPF_LINK_CREATE as an AttachError whose message explains it. */
function refused(error: unknown, explain: (code: string) => string): never {
  if (!isNativeError(error)) throw error;
  throw new AttachError(`${explain(error.code)} (${error.message})`, error.code, error.errno, error.syscall);
}

/** Attaches an XDP program to `ifindex` with a link; never replaces an attached program. */
export function attachXdp(program: BpfProgram, ifindex: number, mode: XdpMode = 'auto'): BpfLink {
  try {
    return new BpfLink(
      nativeBpf().bpfLinkCreate({ progFd: program.fd, ifindex, attachType: AttachType.XDP, flags: XDP_MODE_FLAGS[mode] }),
    );
  } catch (error) {
    refused(error, (code) => describeXdpRefusal(code, ifindex, mode));
  }
}

/** Which tcx hook: frames received by the device, or frames it sends. */
export type TcxDirection = 'ingress' | 'egress';

/** Where in the device's tcx chain: ahead of every other program, or after them. */
export type TcxPosition = 'first' | 'last';

const TCX_ATTACH: Readonly<Record<TcxDirection, number>> = { ingress: AttachType.TCX_INGRESS, egress: AttachType.TCX_EGRESS };

/** tcx options. `expectedRevision` makes the attach fail (ESTALE) if the chain changed since a query. */
export interface TcxOptions {
  readonly direction?: TcxDirection;
  readonly position?: TcxPosition;
  readonly expectedRevision?: number;
}

/** Attaches a SCHED_CLS program to the device's tcx chain (Linux 6.6+); other programs stay. */
export function attachTcx(program: BpfProgram, ifindex: number, options: TcxOptions = {}): BpfLink {
  const flags = options.position === 'first' ? AttachFlags.BEFORE : AttachFlags.AFTER;
  try {
    return new BpfLink(
      nativeBpf().bpfLinkCreate({
        progFd: program.fd,
        ifindex,
        attachType: TCX_ATTACH[options.direction ?? 'ingress'],
        flags,
        ...(options.expectedRevision === undefined ? {} : { expectedRevision: options.expectedRevision }),
      }),
    );
  } catch (error) {
    refused(error, (code) =>
      code === 'EINVAL' ? `tcx attach to ifindex ${ifindex} refused (kernel older than 6.6, or not a SCHED_CLS program)` : `tcx attach to ifindex ${ifindex} failed`,
    );
  }
}

/** The programs on one tcx hook, in run order, and the chain's revision. */
export interface TcxChain {
  readonly programIds: readonly number[];
  readonly linkIds: readonly number[];
  readonly revision: number;
}

/** BPF_PROG_QUERY on a device's tcx hook. */
export function queryTcx(ifindex: number, direction: TcxDirection = 'ingress'): TcxChain {
  const capacity = 64; // BPF_MPROG_MAX
  const programs = new Uint32Array(capacity);
  const links = new Uint32Array(capacity);
  const { count, revision } = nativeBpf().bpfProgQuery(ifindex, TCX_ATTACH[direction], programs, links);
  const n = Math.min(count, capacity);
  return { programIds: [...programs.subarray(0, n)], linkIds: [...links.subarray(0, n)], revision };
}

/** What the kernel reports about a link (struct bpf_link_info). */
export interface LinkInfo {
  readonly id: number;
  /** enum bpf_link_type: 6 XDP, 11 tcx. */
  readonly type: number;
  readonly programId: number;
  /** The device for XDP and tcx links (0 once the device is gone). */
  readonly ifindex: number;
}

/** BPF_OBJ_GET_INFO_BY_FD for a link. */
export function linkInfo(link: BpfLink): LinkInfo {
  const info = new Uint8Array(64);
  nativeBpf().bpfObjGetInfo(link.fd, info);
  const view = new DataView(info.buffer);
  return { type: view.getUint32(0, true), id: view.getUint32(4, true), programId: view.getUint32(8, true), ifindex: view.getUint32(16, true) };
}

/** Whether a link with this id still exists anywhere in the system (BPF_LINK_GET_FD_BY_ID). */
export function linkExists(id: number): boolean {
  try {
    nativeBpf().bpfClose(nativeBpf().bpfGetFdById(2, id));
    return true;
  } catch (error) {
    if (isNativeError(error) && error.code === 'ENOENT') return false;
    throw error;
  }
}
