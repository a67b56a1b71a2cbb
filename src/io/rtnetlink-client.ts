import { openNetlinkSocket, type NetlinkSocket, type NativeError } from './native';
import { decodeNetlinkDatagram, type NetlinkMessage } from '../wire/rtnetlink';
import { encodeAddressDumpRequest, encodeLinkDumpRequest } from '../wire/rtnetlink-encode';

/** A failed netlink request: carries the kernel's errno name (e.g. EEXIST) for callers to branch on. */
export class NetlinkRequestError extends Error {
  constructor(
    readonly errno: number,
    readonly code: string,
  ) {
    super(`netlink request failed: ${code}`);
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 13: 'EACCES', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL',
  101: 'ENETUNREACH', 113: 'EHOSTUNREACH', 95: 'EOPNOTSUPP',
};

/** What ends a request: a DONE after a dump, the single reply, or the kernel's ACK. */
export type RequestKind = 'dump' | 'reply' | 'ack';

interface Pending {
  readonly messages: NetlinkMessage[];
  readonly kind: RequestKind;
  resolve(messages: NetlinkMessage[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Request/response and event stream over one NETLINK_ROUTE socket.
 * Replies are matched by sequence number; everything else is an event.
 */
export class RtnetlinkClient {
  private readonly socket: NetlinkSocket;
  private readonly pending = new Map<number, Pending>();
  private sequence = Math.floor(Math.random() * 0x7fff0000);

  constructor(
    groups: number,
    private readonly onEvent: (message: NetlinkMessage) => void,
    private readonly onOverrun: (error: NativeError) => void,
  ) {
    this.socket = openNetlinkSocket({
      groups,
      onMessages: (datagram) => this.receive(datagram),
      onError: (error) => this.onOverrun(error),
    });
  }

  /** Next sequence number for a request built by the caller. */
  nextSequence(): number {
    this.sequence = (this.sequence + 1) & 0x7fffffff || 1;
    return this.sequence;
  }

  /** Send an encoded request and resolve with its replies (all parts of a dump, or the single answer). */
  request(seq: number, bytes: Uint8Array, kind: RequestKind, timeoutMs = 5000): Promise<NetlinkMessage[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error('netlink request timed out'));
      }, timeoutMs);
      this.pending.set(seq, { messages: [], kind, resolve, reject, timer });
      try {
        this.socket.send(bytes);
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(seq);
        reject(error as Error);
      }
    });
  }

  /** Close the socket and fail what is still pending. */
  close(): void {
    for (const [seq, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error('netlink socket closed'));
      this.pending.delete(seq);
    }
    this.socket.close();
  }

  private receive(datagram: Buffer): void {
    let messages: NetlinkMessage[];
    try {
      messages = decodeNetlinkDatagram(datagram);
    } catch {
      return; // A datagram we cannot parse is dropped; the next dump reconciles.
    }
    for (const message of messages) this.dispatch(message);
  }

  private dispatch(message: NetlinkMessage): void {
    const pending = message.seq === 0 ? undefined : this.pending.get(message.seq);
    // Route notifications carry the seq of the request that caused them: for an ACK-type
    // request they are events, not replies.
    const isReply = pending !== undefined && (pending.kind !== 'ack' || message.kind === 'error');
    if (!isReply) {
      if (message.kind !== 'error' && message.kind !== 'done') this.onEvent(message);
      return;
    }
    if (message.kind === 'error' && message.errno !== 0) {
      this.finish(message.seq, pending);
      pending.reject(new NetlinkRequestError(message.errno, ERRNO_NAMES[message.errno] ?? `errno ${message.errno}`));
      return;
    }
    if (message.kind === 'done' || message.kind === 'error') {
      this.finish(message.seq, pending);
      pending.resolve(pending.messages);
      return;
    }
    pending.messages.push(message);
    if (pending.kind === 'reply') {
      this.finish(message.seq, pending);
      pending.resolve(pending.messages);
    }
  }

  private finish(seq: number, pending: Pending): void {
    clearTimeout(pending.timer);
    this.pending.delete(seq);
  }
}

/** One interface as rtnetlink reports it in this process's network namespace. */
export interface InterfaceSnapshot {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: Uint8Array | undefined;
  /** Its IPv6 addresses, in the kernel's order. */
  readonly ipv6Addresses: readonly Uint8Array[];
}

/**
 * Dumps links and IPv6 addresses once over rtnetlink and returns interface `name`, or undefined
 * when it does not exist. rtnetlink answers for the caller's namespace; sysfs would answer for
 * the namespace that mounted it (wrong under `nsenter --net=`).
 */
export async function snapshotInterface(name: string): Promise<InterfaceSnapshot | undefined> {
  const client = new RtnetlinkClient(0, () => undefined, () => undefined);
  try {
    let seq = client.nextSequence();
    const links = await client.request(seq, encodeLinkDumpRequest(seq), 'dump');
    const link = links.find((m) => m.kind === 'link' && m.ifname === name);
    if (link?.kind !== 'link') return undefined;
    seq = client.nextSequence();
    const addresses = await client.request(seq, encodeAddressDumpRequest(seq), 'dump');
    const ipv6Addresses = addresses.flatMap((m) => (m.kind === 'address' && m.ifindex === link.ifindex && m.address !== undefined ? [m.address] : []));
    return { name, ifindex: link.ifindex, mac: link.mac, ipv6Addresses };
  } finally {
    client.close();
  }
}
