import { performance } from 'node:perf_hooks';
import { RateLimitGate } from '../core/answer-gate';
import type { DecisionContext } from '../core/decide';
import type { RouteInfo } from '../model/target';
import { DEFAULT_RATE_LIMITS } from '../core/rate-limit';
import { routeReason } from '../core/decide';
import type { ResponderCounters } from '../model/counters';
import { AnswerLoop } from './answer-loop';
import { kernelTargetFilter, multicastPlan } from '../core/target-filter';
import { TargetSet } from '../core/target-set';
import { type Target } from '../model/target';
import type { DaemonOptions } from '../config/run-options';
import { ExitCode, UserError } from '../model/errors';
import { ConflictMonitor } from './conflict-monitor';
import { HostConfigurator } from '../io/host-config';
import { sysctlFailures } from '../core/host-checks';
import { readIpv6Conf } from '../io/sysctl';
import { Announcer } from './announcer';
import { HostWatcher, type LinkInfo } from '../io/host-watcher';
import type { NativeError } from '../io/native';
import { PacketLink, type LinkBinding } from '../io/packet-link';
import type { Logger } from '../io/log';
import { formatIpv6, formatMac } from '../wire/address';
import { solicitationFilter } from '../wire/bpf';

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
  private readonly watcher = new HostWatcher();
  private readonly link: PacketLink;
  private readonly configurator: HostConfigurator;
  private readonly announcer: Announcer;
  private readonly context: DecisionContext;
  private targets: TargetSet;
  private uplink: LinkInfo | undefined;
  private answerable = new Map<string, boolean>();
  private reopenTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Uplink ifindex whose sysctls `--configure-host` last fixed. */
  private sysctlsFixedFor: number | undefined;
  /** Rate limits and DAD-conflict reports, consulted by processBatch before each answer. */
  readonly gate: RateLimitGate;
  readonly conflictMonitor: ConflictMonitor;
  /** The hot loop: pipeline, output batch and counters. */
  readonly answers: AnswerLoop;

  constructor(
    private options: DaemonOptions,
    private readonly log: Logger,
  ) {
    this.targets = new TargetSet(options.targets);
    this.link = new PacketLink((data, count, meta) => this.answers.onFrames(data, count, meta), (e) => this.onLinkError(e));
    this.configurator = new HostConfigurator(this.watcher, log.child({ module: 'host' }));
    this.announcer = new Announcer(
      {
        uplinkMac: () => (this.link.isOpen ? this.uplink?.mac : undefined),
        router: async () => (this.uplink === undefined ? undefined : this.watcher.defaultRouter(this.uplink.ifindex)),
        send: (frame) => this.link.sendBatch(frame, Uint32Array.of(frame.length), 1) === 1,
      },
      log.child({ module: 'announce' }),
    );
    const daemon = this;
    this.conflictMonitor = new ConflictMonitor({ get targets() { return daemon.targets; }, get ownMac() { return daemon.uplink?.mac; } }, log.child({ module: 'conflict' }));
    this.gate = new RateLimitGate(options.rateLimits ?? DEFAULT_RATE_LIMITS, performance.now(), (target, mac) => this.conflictMonitor.report('dad', target, mac));
    this.context = {
      get targets() { return daemon.targets; },
      uplink: options.interface,
      get uplinkMac() { return daemon.uplink?.mac ?? new Uint8Array(6); },
      get uplinkLinkLocal() { return daemon.uplink === undefined ? undefined : daemon.watcher.linkLocalOf(daemon.uplink.ifindex); },
      get linkUp() { return daemon.link.isOpen; },
      // Getters: a SIGHUP reload swaps `options` whole, between two batches.
      get via() { return daemon.options.via; },
      get source() { return daemon.options.source; },
      get router() { return daemon.options.router; },
      get override() { return daemon.options.override; },
      answerGate: this.gate,
      isOwnAddress: (address) => this.watcher.isOwnAddress(address),
      routeOf: (target) => this.watcher.routeOf(target),
    };
    this.answers = new AnswerLoop(this.context, this.gate, (bytes, lengths, count) => this.link.sendBatch(bytes, lengths, count), log.child({ module: 'answer' }));
  }

  /** Start: learn the host, configure it if asked, open the uplink. Throws UserError on bad environment. */
  async start(): Promise<void> {
    try {
      await this.watcher.start(this.targets.targets);
    } catch (error) {
      throw new UserError(`cannot read the host's links and routes over rtnetlink: ${(error as Error).message}`, ExitCode.Environment);
    }
    const uplink = this.watcher.linkByName(this.options.interface);
    if (uplink === undefined && this.options.waitForInterface !== true) {
      throw new UserError(`interface ${this.options.interface} not found (or start with --wait-for-interface)`, ExitCode.Environment);
    }
    if (this.options.via !== undefined && this.watcher.linkByName(this.options.via) === undefined) {
      this.log.warn({ via: this.options.via }, 'via interface missing, waiting for it');
    }
    if (this.options.configureHost) await this.configureHost();
    this.watcher.on('link', (link: LinkInfo, previous: LinkInfo | undefined, removed: boolean) => this.onLink(link, previous, removed));
    this.watcher.on('route', () => this.reviewTargets());
    // No polling while waiting: onLink opens the socket when rtnetlink announces the uplink.
    if (uplink === undefined) this.log.warn({ interface: this.options.interface }, 'waiting for interface');
    else if (uplink.up) this.openLink(uplink, true);
    else this.log.warn({ interface: uplink.name }, 'link down, waiting for it');
    this.uplink = uplink;
    this.log.info(
      {
        interface: this.options.interface,
        mac: uplink?.mac === undefined ? undefined : formatMac(uplink.mac),
        targets: this.targets.targets.map((t) => t.text),
        via: this.options.via ?? null,
        mode: this.options.via === undefined ? 'not-via-uplink' : `via ${this.options.via}`,
        source: this.options.source,
        router: this.options.router,
        override: this.options.override,
      },
      'started',
    );
    this.answers.warmUp(this.targets.targets[0]?.address, this.options.rateLimits);
    void this.warnKernelProxies();
    if (this.options.announce === true) for (const target of this.targets.targets) this.announcer.announce(target);
    this.warnSysctls();
    this.reviewTargets();
  }

  /** Stop: close sockets, undo `--configure-host` routes. Bounded in time by the caller. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    this.announcer.stop();
    this.link.close();
    this.conflictMonitor.close();
    await this.configurator.undo().catch(() => undefined);
    this.watcher.stop();
    this.log.info(
      { received: this.answers.counters.received, advertised: this.answers.counters.advertised, ignored: this.nonZeroIgnored() },
      'stopped',
    );
  }

  private nonZeroIgnored(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.answers.counters.ignored).filter(([, n]) => n > 0));
  }

  private async configureHost(): Promise<void> {
    try {
      this.configurator.fixSysctls(this.options.interface);
      this.sysctlsFixedFor = this.watcher.linkByName(this.options.interface)?.ifindex;
      await this.configurator.ensureRoutes(this.targets.targets, this.options.via);
    } catch (error) {
      throw new UserError(`--configure-host failed: ${(error as Error).message} (needs CAP_NET_ADMIN)`, ExitCode.Environment);
    }
  }

  /** Socket parameters for the current target set: filter and multicast memberships. */
  private binding(uplink: LinkInfo): LinkBinding {
    return {
      ifname: uplink.name,
      ifindex: uplink.ifindex,
      filter: solicitationFilter(kernelTargetFilter(this.targets.targets)),
      ...multicastPlan(this.targets.targets),
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
    for (const target of this.targets.targets) {
      if (before.has(target.text)) continue;
      this.log.info({ target: target.text, origin: target.origin }, 'target added');
      if (this.options.announce === true) this.announcer.announce(target);
    }
    for (const [text, target] of before) {
      if (after.has(text)) continue;
      this.announcer.cancel(text);
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

  /**
   * SIGHUP: swap in validated options between two batches. Targets, via, source, router,
   * override and rate limits change live; the uplink and `--configure-host` need a restart.
   */
  reconfigure(next: DaemonOptions): void {
    const fixed = (['interface', 'configureHost', 'waitForInterface'] as const).filter((k) => next[k] !== this.options[k]);
    if (fixed.length > 0) this.log.warn({ keys: fixed }, 'reload cannot change these without a restart, kept');
    this.options = { ...next, interface: this.options.interface, configureHost: this.options.configureHost, waitForInterface: this.options.waitForInterface };
    this.gate.limiter.configure(next.rateLimits ?? DEFAULT_RATE_LIMITS, performance.now());
    this.replaceTargets(next.targets);
    // A new via can make a kept target (un)answerable: say so, as on a route change.
    this.reviewTargets();
  }

  /** Received, answered and ignored frames (logs, metrics). */
  get counters(): ResponderCounters {
    return this.answers.counters;
  }

  /** Whether the uplink socket is open (metrics). */
  get linkUp(): boolean {
    return this.link.isOpen;
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
    this.conflictMonitor.sync(uplink.ifindex);
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
      this.conflictMonitor.sync(undefined);
      if (this.link.isOpen) {
        this.link.close();
        this.log.info({ interface: link.name, removed }, removed ? 'link removed, waiting for it' : 'link down');
      }
      return;
    }
    // A recreated uplink starts with the kernel's default accept_ra=1 again.
    if (this.options.configureHost && this.sysctlsFixedFor !== link.ifindex) this.refixSysctls(link);
    if (!this.link.isOpen || changed) this.openLink(link, false);
  }

  /** Start-up warnings for the sysctls the scenario needs; the rules are `check`'s own. */
  private warnSysctls(): void {
    const uplink = this.options.interface;
    const failures = sysctlFailures(readIpv6Conf('all', 'forwarding'), uplink, readIpv6Conf(uplink, 'accept_ra'));
    for (const failure of failures) {
      const problem = failure.check === 'forwarding' ? 'forwarding-off' : 'accept-ra-1';
      this.log.warn({ problem, fix: failure.fixes.join('; ') }, failure.message);
    }
  }

  /** NDP-NOTES: kernel proxy entries for our targets make the kernel answer too, late. */
  private async warnKernelProxies(): Promise<void> {
    const entries = await this.watcher.kernelProxyEntries().catch(() => []);
    for (const { address, ifname } of entries) {
      if (this.targets.match(address) === undefined) continue;
      const target = formatIpv6(address);
      this.log.warn({ target, interface: ifname, fix: `ip -6 neigh del proxy ${target} dev ${ifname}` }, 'kernel proxy entry for a target: the kernel answers too, up to 0.8 s late');
    }
  }

  private refixSysctls(link: LinkInfo): void {
    // The per-interface IPv6 sysctls appear a moment after the link itself.
    if (readIpv6Conf(link.name, 'accept_ra') === undefined) return;
    try {
      this.configurator.fixSysctls(link.name);
      this.sysctlsFixedFor = link.ifindex;
    } catch (error) {
      this.log.warn({ interface: link.name, error: (error as Error).message }, 'cannot configure host');
    }
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

}


function sameMac(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.every((byte, i) => byte === b[i]);
}
