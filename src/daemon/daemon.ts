/**
 * The running responder: composes the host watcher, the uplink, target reconciliation, the
 * hot loop and the services (conflict monitor, announcer, host configuration).
 */
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DaemonOptions } from '../config/run-options';
import { RateLimitGate } from '../core/answer-gate';
import { routeReason, type DecisionContext } from '../core/decide';
import { FLOW_KEY_SEED_WORDS } from '../core/flow-key';
import { isEthernetMac } from '../core/host-checks';
import { kernelTargetFilter, multicastPlan } from '../core/target-filter';
import { networkAddress } from '../core/target-set';
import { HostConfigurator } from '../io/host-config';
import { HostWatcher, type LinkInfo } from '../io/host-watcher';
import type { Logger } from '../io/log';
import type { LinkBinding } from '../io/packet-link';
import { readIpv6Conf } from '../io/sysctl';
import type { ResponderCounters } from '../model/counters';
import { ExitCode, UserError } from '../model/errors';
import type { Target } from '../model/target';
import { equalBytes, formatMac, isLinkLocal, parseIpv6 } from '../wire/address';
import { solicitationFilter } from '../wire/bpf';
import type { FastPathConfig } from '../wire/ebpf/fast-path-layout';
import { Announcer } from './announcer';
import { AnswerLoop } from './answer-loop';
import { DaemonFastPath, type KernelTarget } from './fast-path';
import { ConflictMonitor } from './conflict-monitor';
import { TargetReconciler } from './target-reconciler';
import { Uplink } from './uplink';
import { warnKernelProxies, warnSysctls } from './warnings';

/** fe80::/10: never answered, even inside a served prefix (core/decide.ts). */
const LINK_LOCAL_PREFIX = parseIpv6('fe80::');

/** The running responder. */
export class Daemon {
  private readonly watcher = new HostWatcher();
  private readonly uplink: Uplink;
  private readonly configurator: HostConfigurator;
  private readonly announcer: Announcer;
  private readonly context: DecisionContext;
  private readonly targets: TargetReconciler;
  private stopped = false;
  /** Uplink ifindex whose sysctls `--configure-host` last fixed. */
  private sysctlsFixedFor: number | undefined;
  /** Rate limits and DAD-conflict reports, consulted before each answer. */
  readonly gate: RateLimitGate;
  readonly conflictMonitor: ConflictMonitor;
  /** The hot loop: pipeline, output batch and counters. */
  readonly answers: AnswerLoop;
  /** The in-kernel answer path (`--fast-path`), idle on the socket path. */
  readonly fastPath: DaemonFastPath;

  constructor(
    private options: DaemonOptions,
    private readonly log: Logger,
  ) {
    this.fastPath = new DaemonFastPath(options.fastPath, log.child({ module: 'fast-path' }), { maxFlows: options.rateLimits.maxFlows, maxSources: options.rateLimits.maxSources });
    this.targets = new TargetReconciler(options.targets, this.reconcileHooks(), log);
    this.uplink = new Uplink(options.interface, this.watcher, (data, count, meta) => this.answers.onFrames(data, count, meta), this.uplinkHooks(), log);
    this.configurator = new HostConfigurator(this.watcher, log.child({ module: 'host' }));
    this.announcer = new Announcer(
      {
        uplinkMac: () => (this.uplink.isOpen ? this.uplink.current?.mac : undefined),
        router: async () => (this.uplink.current === undefined ? undefined : this.watcher.defaultRouter(this.uplink.current.ifindex)),
        send: (frame) => this.uplink.send(frame, Uint32Array.of(frame.length), 1) === 1,
      },
      log.child({ module: 'announce' }),
    );
    const daemon = this;
    this.conflictMonitor = new ConflictMonitor({ get targets() { return daemon.targets.current; }, get ownMac() { return daemon.uplink.current?.mac; } }, log.child({ module: 'conflict' }));
    // A secret seed per process: nobody can pick (source, target) pairs that share a neighbour's flow bucket.
    const seed = randomFillSync(new Uint32Array(FLOW_KEY_SEED_WORDS));
    this.gate = new RateLimitGate(options.rateLimits, performance.now(), (target, mac) => this.conflictMonitor.report('dad', target, mac), seed);
    this.context = this.decisionContext();
    this.answers = new AnswerLoop(this.context, this.gate, (bytes, lengths, count) => this.uplink.send(bytes, lengths, count), log.child({ module: 'answer' }));
  }

  /** What the core decides with: getters, because a SIGHUP reload swaps `options` whole between batches. */
  private decisionContext(): DecisionContext {
    const daemon = this;
    return {
      get targets() { return daemon.targets.current; },
      uplink: this.options.interface,
      get uplinkMac() { return daemon.uplink.current?.mac ?? new Uint8Array(6); },
      get uplinkLinkLocal() { const link = daemon.uplink.current; return link === undefined ? undefined : daemon.watcher.linkLocalOf(link.ifindex); },
      get linkUp() { return daemon.uplink.isOpen; },
      get via() { return daemon.options.via; },
      get source() { return daemon.options.source; },
      get router() { return daemon.options.router; },
      get override() { return daemon.options.override; },
      answerGate: this.gate,
      isOwnAddress: (address) => this.watcher.isOwnAddress(address),
      routeOf: (target) => this.watcher.routeOf(target),
    };
  }

  private reconcileHooks(): ConstructorParameters<typeof TargetReconciler>[1] {
    return {
      added: (target) => { if (this.options.announce === true) this.announcer.announce(target); },
      removed: (target) => this.announcer.cancel(target.text),
      swapped: (targets) => {
        this.watcher.setTargets(targets);
        this.uplink.rebind();
        if (this.options.configureHost) void this.configurator.ensureRoutes(targets, this.options.via).catch(() => undefined);
        this.syncFastPath();
      },
      routeReason: (target) => routeReason(target, this.context),
      routeOf: (target) => this.watcher.routeOf(target),
      reviewed: () => this.syncFastPath(),
    };
  }

  private uplinkHooks(): ConstructorParameters<typeof Uplink>[3] {
    return {
      binding: (link) => this.binding(link),
      opened: (link) => {
        this.conflictMonitor.sync(link.ifindex);
        this.fastPath.opened(link, this.kernelConfig(link));
      },
      closed: () => {
        this.conflictMonitor.sync(undefined);
        this.fastPath.closed();
      },
      // A recreated uplink starts with the kernel's default accept_ra=1 again.
      up: (link) => { if (this.options.configureHost && this.sysctlsFixedFor !== link.ifindex) this.refixSysctls(link); },
    };
  }

  /** Start: learn the host, configure it if asked, open the uplink. Throws UserError on bad environment. */
  async start(): Promise<void> {
    try {
      await this.watcher.start(this.targets.current.targets);
    } catch (error) {
      throw new UserError(`cannot read the host's links and routes over rtnetlink: ${(error as Error).message}`, ExitCode.Environment);
    }
    const uplink = this.watcher.linkByName(this.options.interface);
    if (uplink === undefined && this.options.waitForInterface !== true) {
      throw new UserError(`interface ${this.options.interface} not found`, ExitCode.Environment);
    }
    if (uplink !== undefined && !isEthernetMac(uplink.mac)) {
      throw new UserError(`interface ${uplink.name} has no Ethernet MAC address: Neighbour Advertisements need one to point at`, ExitCode.Environment);
    }
    if (this.options.via !== undefined && this.watcher.linkByName(this.options.via) === undefined) {
      this.log.warn({ via: this.options.via }, 'via interface missing, waiting for it');
    }
    if (this.options.configureHost) await this.configureHost();
    this.watcher.on('link', (link: LinkInfo) => this.onOtherLink(link));
    this.watcher.on('route', () => this.targets.review());
    this.watcher.on('address', () => this.syncFastPath());
    this.fastPath.start(uplink?.up === true ? uplink : undefined, this.kernelConfig(uplink));
    this.uplink.start(uplink);
    this.logStarted(uplink);
    this.answers.warmUp(this.targets.current.targets[0]?.address, this.options.rateLimits);
    void warnKernelProxies(this.watcher, this.targets.current, this.log);
    if (this.options.announce === true) for (const target of this.targets.current.targets) this.announcer.announce(target);
    warnSysctls(this.options.interface, this.log);
    this.targets.review();
  }

  /**
   * What the kernel's NA carries and the limits it applies, as the socket path would: R and O
   * (S is the kernel path's own: it answers unicast sources only), the source (the uplink's
   * link-local address under `--source link-local` when known, else the target, as
   * core/pipeline.ts does), and the answer limits.
   */
  private kernelConfig(link: LinkInfo | undefined = this.uplink.current): Omit<FastPathConfig, 'mac'> {
    const o = this.options;
    const source = o.source === 'link-local' && link !== undefined ? this.watcher.linkLocalOf(link.ifindex) : undefined;
    return { router: o.router, override: o.override, ...(source === undefined ? {} : { source }), limits: o.rateLimits };
  }

  /**
   * The kernel answers exactly the targets the last review found answerable (the route allows
   * it: core/decide.ts routeReason), addresses and prefixes alike, never a link-local one. Inside
   * a served prefix the host's own addresses and the link-local range are exceptions the kernel
   * leaves to the socket path, which ignores them with their reason. Its config follows the
   * uplink's link-local address too (`--source link-local`).
   */
  private syncFastPath(): void {
    if (this.fastPath.kind === 'socket') return;
    this.fastPath.configure(this.kernelConfig());
    const served = this.targets.answerable().filter((t) => !isLinkLocal(t.address, 0) && !(t.prefixLength === 128 && this.watcher.isOwnAddress(t.address)));
    const entries: KernelTarget[] = served.map((t) => ({ address: t.address, prefixLength: t.prefixLength, answer: true }));
    const prefixes = served.filter((t) => t.prefixLength < 128);
    if (prefixes.length > 0) {
      for (const own of this.watcher.ownAddresses()) {
        if (prefixes.some((p) => equalBytes(networkAddress(own, p.prefixLength), 0, p.address, 0, 16))) entries.push({ address: own, prefixLength: 128, answer: false });
      }
      entries.push({ address: LINK_LOCAL_PREFIX, prefixLength: 10, answer: false });
    }
    this.fastPath.sync(entries);
  }

  private logStarted(uplink: LinkInfo | undefined): void {
    const o = this.options;
    this.log.info(
      {
        interface: o.interface,
        mac: uplink?.mac === undefined ? undefined : formatMac(uplink.mac),
        targets: this.targets.current.targets.map((t) => t.text),
        via: o.via ?? null,
        mode: o.via === undefined ? 'not-via-uplink' : `via ${o.via}`,
        source: o.source,
        router: o.router,
        override: o.override,
        fastPath: this.fastPath.kind,
        fastPathAttached: this.fastPath.attached,
      },
      'started',
    );
  }

  /** Stop: close sockets, undo `--configure-host` routes. Bounded in time by the caller. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.announcer.stop();
    this.uplink.stop();
    // The kernel's counters go with its maps: read them before they are freed.
    const fastPathAnswered = Number(this.fastPath.counters().answered);
    this.fastPath.stop();
    this.conflictMonitor.close();
    await this.configurator.undo().catch(() => undefined);
    this.watcher.stop();
    const { received, advertised, ignored } = this.counters;
    this.log.info({ received, advertised, fastPathAnswered, ignored: Object.fromEntries(Object.entries(ignored).filter(([, n]) => n > 0)) }, 'stopped');
  }

  private async configureHost(): Promise<void> {
    try {
      this.configurator.fixSysctls(this.options.interface);
      this.sysctlsFixedFor = this.watcher.linkByName(this.options.interface)?.ifindex;
      await this.configurator.ensureRoutes(this.targets.current.targets, this.options.via);
    } catch (error) {
      throw new UserError(`--configure-host failed: ${(error as Error).message} (needs CAP_NET_ADMIN)`, ExitCode.Environment);
    }
  }

  /** Socket parameters for the current target set: filter and multicast memberships. */
  private binding(uplink: LinkInfo): LinkBinding {
    const targets = this.targets.current.targets;
    return {
      ifname: uplink.name,
      ifindex: uplink.ifindex,
      filter: solicitationFilter(kernelTargetFilter(targets)),
      ...multicastPlan(targets),
    };
  }

  /** Swap in a new target list atomically (Docker changes, SIGHUP reload). */
  replaceTargets(targets: readonly Target[]): void {
    this.targets.replace(targets);
  }

  /** The targets in force now. */
  get currentTargets(): readonly Target[] {
    return this.targets.current.targets;
  }

  /**
   * SIGHUP: swap in validated options between two batches. Targets, via, source, router,
   * override and rate limits change live; the uplink and `--configure-host` need a restart.
   */
  reconfigure(next: DaemonOptions): void {
    const fixed = (['interface', 'configureHost', 'waitForInterface', 'fastPath'] as const).filter((k) => next[k] !== this.options[k]);
    if (fixed.length > 0) this.log.warn({ keys: fixed }, 'reload cannot change these without a restart, kept');
    this.options = {
      ...next,
      interface: this.options.interface,
      configureHost: this.options.configureHost,
      waitForInterface: this.options.waitForInterface,
      fastPath: this.options.fastPath,
    };
    this.gate.limiter.configure(next.rateLimits, performance.now());
    // The kernel's buckets refill too; its config (rates, flags, source) follows at the review below.
    this.fastPath.resetLimits();
    this.targets.replace(next.targets);
    // A new via can make a kept target (un)answerable: say so, as on a route change.
    this.targets.review();
  }

  /** Received, answered and ignored frames (logs, metrics). */
  get counters(): ResponderCounters {
    return this.answers.counters;
  }

  /** Whether the uplink socket is open (metrics). */
  get linkUp(): boolean {
    return this.uplink.isOpen;
  }

  /** A bridge that (re)appears may need its `--configure-host` route again. */
  private onOtherLink(link: LinkInfo): void {
    if (this.stopped || link.name === this.options.interface || !this.options.configureHost || !link.up) return;
    void this.configurator.ensureRoutes(this.targets.current.targets, this.options.via).catch(() => undefined);
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
}
