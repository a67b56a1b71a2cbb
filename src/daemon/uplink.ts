/**
 * The uplink's lifecycle: open the packet socket when the interface is up, close it when it
 * goes down or disappears, reopen when it returns (new ifindex or MAC included), retry after
 * errors without spinning, and rebind when the target set changes.
 */
import type { HostWatcher, LinkInfo } from '../io/host-watcher';
import type { Logger } from '../io/log';
import type { NativeError } from '../io/native';
import { PacketLink, type FrameHandler, type LinkBinding } from '../io/packet-link';
import { ExitCode, UserError } from '../model/errors';
import { formatMac } from '../wire/address';

const REOPEN_RETRY_MS = 1000;

/** What the uplink asks of the daemon. */
export interface UplinkHooks {
  /** Filter and memberships for the current target set. */
  binding(link: LinkInfo): LinkBinding;
  /** The socket is open on `link` (first open at start, or again after a flap). */
  opened(link: LinkInfo): void;
  /** The socket closed because the link went down or away. */
  closed(): void;
  /** The uplink is up again, before the socket reopens (re-fix sysctls of a recreated link). */
  up(link: LinkInfo): void;
}

function describeOpenError(error: unknown, ifname: string): UserError {
  const code = (error as { code?: string }).code;
  if (code === 'EPERM' || code === 'EACCES') {
    return new UserError(`cannot open a packet socket on ${ifname}: permission denied (needs CAP_NET_RAW and CAP_NET_ADMIN)`, ExitCode.Environment);
  }
  return new UserError(`cannot open a packet socket on ${ifname}: ${(error as Error).message}`, ExitCode.Environment);
}

function sameMac(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.every((byte, i) => byte === b[i]);
}

/** The LAN uplink: follows rtnetlink link events and keeps one packet socket open while it is up. */
export class Uplink {
  private readonly link: PacketLink;
  private info: LinkInfo | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly watcher: HostWatcher,
    onFrames: FrameHandler,
    private readonly hooks: UplinkHooks,
    private readonly log: Logger,
  ) {
    this.link = new PacketLink(onFrames, (e) => this.onError(e));
  }

  /** The interface as last seen (undefined while it does not exist). */
  get current(): LinkInfo | undefined {
    return this.info;
  }

  /** True while the packet socket is open. */
  get isOpen(): boolean {
    return this.link.isOpen;
  }

  /** Open now if the uplink is up (throws UserError if the kernel refuses), else say what we wait for. */
  start(info: LinkInfo | undefined): void {
    this.info = info;
    this.watcher.on('link', (link: LinkInfo, previous: LinkInfo | undefined, removed: boolean) => this.onLink(link, previous, removed));
    // No polling while waiting: onLink opens the socket when rtnetlink announces the uplink.
    if (info === undefined) this.log.warn({ interface: this.name }, 'waiting for interface');
    else if (info.up) this.open(info, true);
    else this.log.warn({ interface: info.name }, 'link down, waiting for it');
  }

  /** Send whole frames; returns how many the kernel took. */
  send(bytes: Uint8Array, lengths: Uint32Array, count: number): number {
    return this.link.sendBatch(bytes, lengths, count);
  }

  /** Apply a new filter and memberships (target set changed) without reopening. */
  rebind(): void {
    if (this.info !== undefined && this.link.isOpen) this.link.update(this.hooks.binding(this.info));
  }

  /** Close for good. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    this.link.close();
  }

  private open(info: LinkInfo, first: boolean): void {
    try {
      this.link.open(this.hooks.binding(info));
    } catch (error) {
      if (first) throw describeOpenError(error, info.name);
      this.log.warn({ interface: info.name, error: (error as Error).message }, 'reopen failed, retrying');
      this.scheduleReopen();
      return;
    }
    this.hooks.opened(info);
    if (!first) this.log.info({ interface: info.name, ifindex: info.ifindex, mac: info.mac && formatMac(info.mac) }, 'link up, answering again');
  }

  private scheduleReopen(): void {
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      const info = this.watcher.linkByName(this.name);
      if (!this.stopped && info?.up === true && !this.link.isOpen) this.open(info, false);
    }, REOPEN_RETRY_MS);
  }

  private onLink(link: LinkInfo, previous: LinkInfo | undefined, removed: boolean): void {
    if (this.stopped || link.name !== this.name) return;
    const changed = previous === undefined || previous.ifindex !== link.ifindex || !sameMac(previous.mac, link.mac);
    this.info = removed ? undefined : link;
    if (removed || !link.up) {
      this.hooks.closed();
      if (this.link.isOpen) {
        this.link.close();
        this.log.info({ interface: link.name, removed }, removed ? 'link removed, waiting for it' : 'link down');
      }
      return;
    }
    this.hooks.up(link);
    if (!this.link.isOpen || changed) this.open(link, false);
  }

  private onError(error: NativeError): void {
    // ENETDOWN and friends: close now; the rtnetlink 'up' event (or the retry) reopens. Never spin.
    this.link.close();
    this.log.warn({ interface: this.name, code: error.code }, 'link error, socket closed');
    this.scheduleReopen();
  }
}
