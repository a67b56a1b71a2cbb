import type { DecisionContext, RouteInfo, SourceMode } from './core/decide';
import { routeReason } from './core/decide';
import { OutputBatch, processBatch, ResponderCounters, warmUpResponder, type DecisionObserver } from './core/responder';
import { TargetSet, type Target } from './core/target-set';
import { ExitCode, UserError } from './config/errors';
import { checkSysctls, HostConfigurator } from './io/host-config';
import { HostWatcher, type LinkInfo } from './io/host-watcher';
import { now, type NativeError } from './io/native';
import { PacketLink, type LinkBinding } from './io/packet-link';
import type { Logger } from './log';
import { formatIpv6, formatMac, multicastMac, parseIpv6, solicitedNodeAddress } from './wire/address';
import { solicitationFilter } from './wire/bpf';

/** Validated options of `ndp-responder run`. */
export interface DaemonOptions {
  readonly interface: string;
  readonly targets: readonly Target[];
  readonly via: string | undefined;
  readonly configureHost: boolean;
  readonly source: SourceMode;
  readonly router: boolean;
  readonly override: boolean;
}

const RECEIVE_BATCH = 64;
/** Above this many single-address targets, ALLMULTI replaces per-group joins (NIC filter tables are small). */
const MAX_GROUP_JOINS = 256;
const REOPEN_RETRY_MS = 1000;

function describeOpenError(error: unknown, ifname: string): UserError {
  const code = (error as { code?: string }).code;
  if (code === 'EPERM' || code === 'EACCES') {
    return new UserError(`cannot open a packet socket on ${ifname}: permission denied (needs CAP_NET_RAW and CAP_NET_ADMIN)`, ExitCode.Environment);
  }
  return new UserError(`cannot open a packet socket on ${ifname}: ${(error as Error).message}`, ExitCode.Environment);
}

/** The running responder: wires the host watcher, the packet link and the pure core together. */
export class Daemon {
  readonly counters = new ResponderCounters();
  private readonly watcher = new HostWatcher();
  private readonly link: PacketLink;
  private readonly configurator: HostConfigurator;
  private readonly out = new OutputBatch(RECEIVE_BATCH);
  private readonly context: DecisionContext;
  private targets: TargetSet;
  private uplink: LinkInfo | undefined;
  private answerable = new Map<string, boolean>();
  private reopenTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: DaemonOptions,
    private readonly log: Logger,
  ) {
    this.targets = new TargetSet(options.targets);
    this.link = new PacketLink((data, count, meta) => this.onFrames(data, count, meta), (e) => this.onLinkError(e));
    this.configurator = new HostConfigurator(this.watcher, log.child({ module: 'host' }));
    const daemon = this;
    this.context = {
      get targets() { return daemon.targets; },
      uplink: options.interface,
      get uplinkMac() { return daemon.uplink?.mac ?? new Uint8Array(6); },
      get uplinkLinkLocal() { return daemon.uplink === undefined ? undefined : daemon.watcher.linkLocalOf(daemon.uplink.ifindex); },
      get linkUp() { return daemon.link.isOpen; },
      via: options.via,
      source: options.source,
      router: options.router,
      override: options.override,
      isOwnAddress: (address) => this.watcher.isOwnAddress(address),
      routeOf: (target) => this.watcher.routeOf(target),
    };
  }

  /** Start: learn the host, configure it if asked, open the uplink. Throws UserError on bad environment. */
  async start(): Promise<void> {
    try {
      await this.watcher.start(this.targets.targets);
    } catch (error) {
      throw new UserError(`cannot read the host's links and routes over rtnetlink: ${(error as Error).message}`, ExitCode.Environment);
    }
    const uplink = this.watcher.linkByName(this.options.interface);
    if (uplink === undefined) throw new UserError(`interface ${this.options.interface} not found`, ExitCode.Environment);
    if (this.options.via !== undefined && this.watcher.linkByName(this.options.via) === undefined) {
      this.log.warn({ via: this.options.via }, 'via interface missing, waiting for it');
    }
    if (this.options.configureHost) await this.configureHost();
    this.watcher.on('link', (link: LinkInfo, previous: LinkInfo | undefined, removed: boolean) => this.onLink(link, previous, removed));
    this.watcher.on('route', () => this.reviewTargets());
    if (uplink.up) this.openLink(uplink, true);
    else this.log.warn({ interface: uplink.name }, 'link down, waiting for it');
    this.uplink = uplink;
    this.log.info(
      {
        interface: uplink.name,
        mac: uplink.mac === undefined ? undefined : formatMac(uplink.mac),
        targets: this.targets.targets.map((t) => t.text),
        via: this.options.via ?? null,
        mode: this.options.via === undefined ? 'not-via-uplink' : `via ${this.options.via}`,
        source: this.options.source,
        router: this.options.router,
        override: this.options.override,
      },
      'started',
    );
    const first = this.targets.targets[0];
    if (first !== undefined) warmUpResponder(this.context, first.address);
    for (const problem of checkSysctls(uplink.name)) this.log.warn({ problem: problem.problem, fix: problem.fix }, problem.message);
    this.reviewTargets();
  }

  /** Stop: close sockets, undo `--configure-host` routes. Bounded in time by the caller. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    this.link.close();
    await this.configurator.undo().catch(() => undefined);
    this.watcher.stop();
    this.log.info(
      { received: this.counters.received, advertised: this.counters.advertised, ignored: this.nonZeroIgnored() },
      'stopped',
    );
  }

  private nonZeroIgnored(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.counters.ignored).filter(([, n]) => n > 0));
  }

  private async configureHost(): Promise<void> {
    try {
      this.configurator.fixSysctls(this.options.interface);
      await this.configurator.ensureRoutes(this.targets.targets, this.options.via);
    } catch (error) {
      throw new UserError(`--configure-host failed: ${(error as Error).message} (needs CAP_NET_ADMIN)`, ExitCode.Environment);
    }
  }

  /** Socket parameters for the current target set: filter and multicast memberships. */
  private binding(uplink: LinkInfo): LinkBinding {
    const singles = this.targets.targets.filter((t) => t.prefixLength === 128);
    const useGroups = singles.length <= MAX_GROUP_JOINS;
    const groups = useGroups ? [...new Set(singles.map((t) => formatIpv6(solicitedNodeAddress(t.address))))] : [];
    return {
      ifname: uplink.name,
      ifindex: uplink.ifindex,
      filter: solicitationFilter(),
      groups,
      groupMacs: groups.map((g) => multicastMac(parseIpv6(g))),
      allMulticast: this.targets.hasPrefixes || !useGroups,
    };
  }

  /**
   * Swap in a new target list atomically (Docker changes, SIGHUP reload): the next frame is
   * decided against the new set; memberships and routes follow.
   */
  replaceTargets(targets: readonly Target[]): void {
    const before = new Map(this.targets.targets.map((t) => [t.text, t]));
    this.targets = new TargetSet(targets);
    const after = new Set(this.targets.targets.map((t) => t.text));
    for (const target of this.targets.targets) if (!before.has(target.text)) this.log.info({ target: target.text, origin: target.origin }, 'target added');
    for (const [text, target] of before) {
      if (after.has(text)) continue;
      this.answerable.delete(text);
      this.log.info({ target: text, origin: target.origin }, 'target removed');
    }
    this.watcher.setTargets(this.targets.targets);
    if (this.uplink !== undefined && this.link.isOpen) this.link.update(this.binding(this.uplink));
    if (this.options.configureHost) void this.configurator.ensureRoutes(this.targets.targets, this.options.via).catch(() => undefined);
  }

  /** The targets in force now. */
  get currentTargets(): readonly Target[] {
    return this.targets.targets;
  }

  private openLink(uplink: LinkInfo, first: boolean): void {
    try {
      this.link.open(this.binding(uplink));
    } catch (error) {
      if (first) throw describeOpenError(error, uplink.name);
      this.log.warn({ interface: uplink.name, error: (error as Error).message }, 'reopen failed, retrying');
      this.scheduleReopen();
      return;
    }
    if (!first) this.log.info({ interface: uplink.name, ifindex: uplink.ifindex, mac: uplink.mac && formatMac(uplink.mac) }, 'link up, answering again');
  }

  private scheduleReopen(): void {
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      const uplink = this.watcher.linkByName(this.options.interface);
      if (!this.stopped && uplink?.up === true && !this.link.isOpen) this.openLink(uplink, false);
    }, REOPEN_RETRY_MS);
  }

  private onLink(link: LinkInfo, previous: LinkInfo | undefined, removed: boolean): void {
    if (this.stopped) return;
    if (link.name !== this.options.interface) {
      if (this.options.configureHost && link.up) void this.configurator.ensureRoutes(this.targets.targets, this.options.via).catch(() => undefined);
      return;
    }
    const changed = previous === undefined || previous.ifindex !== link.ifindex || !sameMac(previous.mac, link.mac);
    this.uplink = removed ? undefined : link;
    if (removed || !link.up) {
      if (this.link.isOpen) {
        this.link.close();
        this.log.info({ interface: link.name, removed }, removed ? 'link removed, waiting for it' : 'link down');
      }
      return;
    }
    if (!this.link.isOpen || changed) this.openLink(link, false);
  }

  private onLinkError(error: NativeError): void {
    // ENETDOWN and friends: close now; the rtnetlink 'up' event (or the retry) reopens. Never spin.
    this.link.close();
    this.log.warn({ interface: this.options.interface, code: error.code }, 'link error, socket closed');
    this.scheduleReopen();
  }

  private reviewTargets(): void {
    for (const target of this.targets.targets) {
      const reason = routeReason(target, this.context);
      const ok = reason === undefined;
      if (this.answerable.get(target.text) === ok) continue;
      this.answerable.set(target.text, ok);
      const route: RouteInfo = this.watcher.routeOf(target);
      const fields = { target: target.text, route: route.kind === 'interface' ? route.ifname : route.kind };
      if (ok) this.log.info(fields, 'route gained, answering');
      else this.log.warn({ ...fields, reason }, 'route lost, not answering');
    }
  }

  private onFrames(data: Buffer, count: number, meta: Uint32Array): void {
    const observe = this.log.isLevelEnabled('debug') ? this.observer() : undefined;
    const queued = processBatch(data, count, meta, this.context, this.out, this.counters, observe);
    if (queued > 0) {
      try {
        const sent = this.link.sendBatch(this.out.bytes, this.out.lengths, this.out.count);
        this.counters.advertised += sent;
        if (observe !== undefined) this.log.debug({ latencyUs: receiveToSendMicros(meta) }, 'SENT');
        this.counters.sendFailures += this.out.count - sent;
      } catch (error) {
        this.counters.sendFailures += this.out.count;
        this.log.debug({ code: (error as NativeError).code }, 'SEND-FAILED');
      }
    }
    this.out.reset();
  }

  private observer(): DecisionObserver {
    return (ns, decision) => {
      const who = ns === undefined ? undefined : `who-has ${formatIpv6(ns.target)} tell ${formatIpv6(ns.source)}`;
      if (decision.action === 'ignore') this.log.debug({ ns: who, reason: decision.reason }, 'IGNORE');
      else this.log.debug({ ns: who, target: decision.target.text, to: formatIpv6(decision.frame.ipv6Destination), solicited: decision.frame.advertisement.solicited }, 'RESPOND');
    };
  }
}

/** Microseconds from the kernel's receive timestamp of the batch's first frame to now. */
function receiveToSendMicros(meta: Uint32Array): number {
  const t = now();
  return Math.round(((t.sec - meta[2]!) * 1e9 + (t.nsec - meta[3]!)) / 1000);
}

function sameMac(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.every((byte, i) => byte === b[i]);
}
