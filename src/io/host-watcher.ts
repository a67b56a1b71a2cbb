import { EventEmitter } from 'node:events';
import type { RouteInfo } from '../model/target';
import { AddressTable } from '../wire/address-table';
import type { Target } from '../model/target';
import { isLinkLocal } from '../wire/address';
import {
  encodeAddressDumpRequest, encodeLinkDumpRequest, encodeNeighbourDumpRequest, encodeRouteGetRequest, InterfaceFlags, NeighbourFlags,
  NetlinkMessageType, RouteType, RtnetlinkGroups, type NetlinkMessage,
} from '../wire/rtnetlink';
import { NetlinkRequestError, RtnetlinkClient } from './rtnetlink-client';

/** What we know about one network interface. */
export interface LinkInfo {
  readonly ifindex: number;
  readonly name: string;
  /** Administratively up and with carrier. */
  readonly up: boolean;
  readonly mac: Uint8Array | undefined;
}

type LinkMessage = Extract<NetlinkMessage, { kind: 'link' }>;
type AddressMessage = Extract<NetlinkMessage, { kind: 'address' }>;

const REFRESH_DEBOUNCE_MS = 20;
const ROUTE_QUERIES_IN_FLIGHT = 128;
const NO_ROUTE: RouteInfo = { kind: 'none' };

function linkFrom(message: LinkMessage, previous: LinkInfo | undefined): LinkInfo {
  const flags = message.interfaceFlags;
  const up = (flags & InterfaceFlags.Up) !== 0 && (flags & (InterfaceFlags.LowerUp | InterfaceFlags.Running)) !== 0;
  return { ifindex: message.ifindex, name: message.ifname ?? previous?.name ?? `if${message.ifindex}`, up, mac: message.mac ?? previous?.mac };
}

/**
 * The address whose route stands for a target. A prefix is represented by its last address:
 * the first one is the subnet-router anycast address (RFC 4291 §2.6.1), which a forwarding
 * host routes locally, and the gateway usually takes the second.
 */
export function routeProbeAddress(target: Target): Uint8Array {
  if (target.prefixLength === 128) return target.address;
  const probe = Uint8Array.from(target.address);
  for (let bit = target.prefixLength; bit < 128; bit++) probe[bit >> 3]! |= 0x80 >> (bit & 7);
  return probe;
}

function sameRoute(a: RouteInfo | undefined, b: RouteInfo): boolean {
  if (a === undefined || a.kind !== b.kind) return false;
  return a.kind !== 'interface' || b.kind !== 'interface' || a.ifname === b.ifname;
}

/**
 * Mirrors the kernel state the responder depends on, driven by rtnetlink events:
 * links (name, state, MAC), the host's own IPv6 addresses, and the route of each target
 * (asked of the kernel's FIB with RTM_GETROUTE, never by polling /proc).
 * Emits 'link' (link, previous), 'route' (target, route, previous) and 'address' (ifindex) when
 * one of the host's IPv6 addresses comes or goes.
 */
export class HostWatcher extends EventEmitter {
  readonly links = new Map<number, LinkInfo>();
  /** Numeric table, not strings: the hot path asks it per answer without allocating. */
  private readonly ownAddressTable = new AddressTable();
  private readonly linkLocals = new Map<number, Uint8Array>();
  private readonly routes = new Map<string, RouteInfo>();
  private targets: readonly Target[] = [];
  private client: RtnetlinkClient | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;

  /** Open the netlink socket, take the initial dumps and route lookups. */
  async start(targets: readonly Target[]): Promise<void> {
    this.targets = targets;
    const groups = RtnetlinkGroups.Link | RtnetlinkGroups.Ipv6Ifaddr | RtnetlinkGroups.Ipv6Route;
    this.client = new RtnetlinkClient(groups, (m) => this.onEvent(m), () => this.resync());
    await this.dump();
    await this.refreshRoutes();
  }

  /** Stop watching. */
  stop(): void {
    clearTimeout(this.refreshTimer);
    this.client?.close();
    this.client = undefined;
  }

  /** The netlink client, for host configuration requests. */
  get netlink(): RtnetlinkClient {
    if (this.client === undefined) throw new Error('host watcher not started');
    return this.client;
  }

  /** Replace the target list and re-resolve their routes. */
  setTargets(targets: readonly Target[]): void {
    this.targets = targets;
    this.scheduleRefresh();
  }

  /** Link by name, if it exists now. */
  linkByName(name: string): LinkInfo | undefined {
    for (const link of this.links.values()) if (link.name === name) return link;
    return undefined;
  }

  /** True when `address` is assigned to any interface of this host. */
  isOwnAddress(address: Uint8Array): boolean {
    return this.ownAddressTable.getAt(address, 0) >= 0;
  }

  /** The host's own IPv6 addresses, every interface. */
  ownAddresses(): Uint8Array[] {
    return this.ownAddressTable.addresses();
  }

  /** A link-local address of `ifindex`, if it has one. */
  linkLocalOf(ifindex: number): Uint8Array | undefined {
    return this.linkLocals.get(ifindex);
  }

  /** Kernel proxy_ndp entries (RTM_GETNEIGH dump of the proxy table; the kernel sends no events for them). */
  async kernelProxyEntries(): Promise<{ address: Uint8Array; ifname: string }[]> {
    const client = this.netlink;
    const seq = client.nextSequence();
    const messages = await client.request(seq, encodeNeighbourDumpRequest(seq), 'dump');
    const entries: { address: Uint8Array; ifname: string }[] = [];
    for (const m of messages) {
      if (m.kind !== 'neighbour' || (m.neighbourFlags & NeighbourFlags.Proxy) === 0 || m.destination?.length !== 16) continue;
      entries.push({ address: m.destination, ifname: this.links.get(m.ifindex)?.name ?? `if${m.ifindex}` });
    }
    return entries;
  }

  /** The default router through `ifindex`, as the kernel's FIB would pick it for a global destination. */
  async defaultRouter(ifindex: number): Promise<Uint8Array | undefined> {
    const client = this.netlink;
    const seq = client.nextSequence();
    // 2000:: stands for "somewhere on the Internet": its route is the default route, if any.
    const anywhere = Uint8Array.of(0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const replies = await client.request(seq, encodeRouteGetRequest(seq, anywhere), 'reply').catch(() => []);
    const route = replies.find((m) => m.kind === 'route');
    if (route?.kind !== 'route' || route.outputInterface !== ifindex) return undefined;
    return route.gateway;
  }

  /** Last known route of a target. */
  routeOf(target: Target): RouteInfo {
    return this.routes.get(target.text) ?? NO_ROUTE;
  }

  private async dump(): Promise<void> {
    const client = this.netlink;
    let seq = client.nextSequence();
    const links = await client.request(seq, encodeLinkDumpRequest(seq), 'dump');
    this.links.clear();
    for (const m of links) if (m.kind === 'link') this.applyLink(m);
    seq = client.nextSequence();
    const addresses = await client.request(seq, encodeAddressDumpRequest(seq), 'dump');
    this.ownAddressTable.clear();
    this.linkLocals.clear();
    for (const m of addresses) if (m.kind === 'address') this.applyAddress(m);
  }

  private resync(): void {
    // Overrun: events were lost, so rebuild everything from fresh dumps.
    this.dump().then(() => this.scheduleRefresh(), () => this.scheduleRefresh());
  }

  private onEvent(message: NetlinkMessage): void {
    if (message.kind === 'link') this.applyLink(message);
    else if (message.kind === 'address') this.applyAddress(message);
    else if (message.kind !== 'route') return;
    this.scheduleRefresh();
  }

  private applyLink(message: LinkMessage): void {
    const previous = this.links.get(message.ifindex);
    if (message.type === NetlinkMessageType.DelLink) {
      this.links.delete(message.ifindex);
      if (previous !== undefined) this.emit('link', { ...previous, up: false }, previous, true);
      return;
    }
    const link = linkFrom(message, previous);
    this.links.set(link.ifindex, link);
    this.emit('link', link, previous, false);
  }

  private applyAddress(message: AddressMessage): void {
    const address = message.local ?? message.address;
    if (address === undefined || message.family !== 10) return;
    const removed = message.type === NetlinkMessageType.DelAddr;
    if (removed) this.ownAddressTable.delete(address);
    else this.ownAddressTable.set(address, 0, 0);
    if (isLinkLocal(address)) {
      if (removed) this.linkLocals.delete(message.ifindex);
      else this.linkLocals.set(message.ifindex, address);
    }
    this.emit('address', message.ifindex);
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer !== undefined) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refreshRoutes();
    }, REFRESH_DEBOUNCE_MS);
  }

  /** Re-ask the kernel for every target's route; serialised, coalescing requests made meanwhile. */
  async refreshRoutes(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = this.queryAll().finally(() => {
      this.refreshing = undefined;
      if (this.refreshAgain) {
        this.refreshAgain = false;
        this.scheduleRefresh();
      }
    });
    return this.refreshing;
  }

  private async queryAll(): Promise<void> {
    const targets = this.targets;
    for (let i = 0; i < targets.length; i += ROUTE_QUERIES_IN_FLIGHT) {
      const slice = targets.slice(i, i + ROUTE_QUERIES_IN_FLIGHT);
      const routes = await Promise.all(slice.map((t) => this.queryRoute(t)));
      slice.forEach((target, j) => this.updateRoute(target, routes[j]!));
    }
  }

  private updateRoute(target: Target, route: RouteInfo): void {
    const previous = this.routes.get(target.text);
    if (sameRoute(previous, route)) return;
    this.routes.set(target.text, route);
    this.emit('route', target, route, previous);
  }

  private async queryRoute(target: Target): Promise<RouteInfo> {
    const client = this.client;
    if (client === undefined) return NO_ROUTE;
    const seq = client.nextSequence();
    try {
      const replies = await client.request(seq, encodeRouteGetRequest(seq, routeProbeAddress(target)), 'reply');
      const route = replies.find((m) => m.kind === 'route');
      if (route === undefined || route.kind !== 'route') return NO_ROUTE;
      if (route.routeType === RouteType.Local) return { kind: 'local' };
      if (route.routeType !== RouteType.Unicast || route.outputInterface === undefined) return NO_ROUTE;
      const link = this.links.get(route.outputInterface);
      return link === undefined ? NO_ROUTE : { kind: 'interface', ifname: link.name };
    } catch (error) {
      if (error instanceof NetlinkRequestError) return NO_ROUTE;
      return this.routes.get(target.text) ?? NO_ROUTE;
    }
  }
}
