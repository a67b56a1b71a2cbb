import type { Target } from '../model/target';
import type { Logger } from '../io/log';
import { DockerClient, type DockerApi, type DockerEndpoint, type EventStream } from './docker-api';
import { dockerTargets, isRelevantEvent, listingKey, type DockerListing, type DockerSelection, type DockerTarget } from './docker-targets';

/** Options of {@link DockerSource}. */
export interface DockerSourceOptions {
  readonly api: DockerApi;
  readonly selection: DockerSelection;
  readonly log: Logger;
  /** Called with the complete Docker target list after the first listing and whenever it changes. */
  readonly onTargets: (targets: readonly Target[]) => void;
  /** Events arriving within this window share one listing; default 50 ms. */
  readonly debounceMs?: number;
  /** Reconnect delay: starts at `initial`, doubles per failure up to `max`; default 250 ms to 5 s. */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
}

const DEFAULT_BACKOFF = { initial: 250, max: 5000 } as const;

/**
 * Follows the Docker Engine: lists networks and containers on every (re)connect and after relevant
 * events, and emits the target list when it changes. Survives dockerd restarts: while the Engine is
 * away the last list stays in force (with live-restore the containers keep running), and the next
 * connection reconciles.
 */
export class DockerSource {
  private stream: EventStream | undefined;
  private current: readonly DockerTarget[] = [];
  /** Undefined until the first listing, which is always emitted (even empty: it may replace older Docker targets). */
  private key: string | undefined;
  private problemsKey = '';
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoff: number;
  private connected = false;
  private outageLogged = false;
  private reconciling = false;
  private reconcileAgain = false;
  private stopped = false;

  constructor(private readonly options: DockerSourceOptions) {
    this.backoff = this.backoffRange.initial;
  }

  /** Connect to the Engine (in the background; failures are retried, never thrown). */
  start(): void {
    this.connect();
  }

  /** Close the event stream and cancel timers. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconcileTimer);
    clearTimeout(this.reconnectTimer);
    this.stream?.close();
    this.stream = undefined;
  }

  /** The Docker targets in force now. */
  get targets(): readonly Target[] {
    return this.current.map((t) => t.target);
  }

  private get backoffRange(): { initial: number; max: number } {
    return this.options.backoffMs ?? DEFAULT_BACKOFF;
  }

  private connect(): void {
    if (this.stopped) return;
    // The stream opens before the listing, so no event between the two is lost.
    this.stream = this.options.api.followEvents({
      onOpen: () => this.onOpen(),
      onEvent: (event) => {
        if (isRelevantEvent(event)) this.scheduleReconcile();
      },
      onEnd: (error) => this.onDisconnect(error),
    });
  }

  private onOpen(): void {
    this.backoff = this.backoffRange.initial;
    this.connected = true;
    this.outageLogged = false;
    this.options.log.info({}, 'docker connected');
    void this.reconcile();
  }

  private onDisconnect(error: Error): void {
    this.stream = undefined;
    if (this.stopped) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.backoffRange.max);
    // One warning per outage; the retries themselves only at debug, so a stopped dockerd does not flood the log.
    const level = this.outageLogged ? 'debug' : 'warn';
    this.options.log[level]({ error: error.message, retryMs: delay, keeping: this.current.length }, this.connected ? 'docker connection lost, reconnecting' : 'docker unreachable, retrying');
    this.outageLogged = true;
    this.connected = false;
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = undefined;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private scheduleReconcile(): void {
    // Not reset by later events: the first change is applied at most one window after it happened.
    if (this.reconcileTimer !== undefined) return;
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = undefined;
      void this.reconcile();
    }, this.options.debounceMs ?? 50);
  }

  /** List networks and containers and apply the result; one at a time, a request made meanwhile runs after. */
  private async reconcile(): Promise<void> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    try {
      do {
        this.reconcileAgain = false;
        const [networks, containers] = await Promise.all([this.options.api.listNetworks(), this.options.api.listContainers()]);
        if (this.stopped) return;
        this.apply(dockerTargets(networks, containers, this.options.selection));
      } while (this.reconcileAgain && !this.stopped);
    } catch (error) {
      if (this.stopped || !this.connected) return;
      // The listing failed while the stream looked alive: start over, which lists again once connected.
      const stream = this.stream;
      this.stream = undefined;
      stream?.close();
      this.onDisconnect(error as Error);
    } finally {
      this.reconciling = false;
    }
  }

  private apply(listing: DockerListing): void {
    this.reportProblems(listing);
    const key = listingKey(listing.targets);
    if (key === this.key) return;
    const log = this.options.log;
    const entry = (t: DockerTarget): string => `${t.target.origin}=${t.target.text}`;
    const before = new Set(this.current.map(entry));
    const after = new Set(listing.targets.map(entry));
    for (const t of this.current) if (!after.has(entry(t))) log.info(fields(t), 'container removed');
    for (const t of listing.targets) if (!before.has(entry(t))) log.info(fields(t), 'container added');
    this.current = listing.targets;
    this.key = key;
    this.options.onTargets(this.targets);
  }

  /** Warn about missing or unusable networks and rejected addresses, once per distinct set. */
  private reportProblems(listing: DockerListing): void {
    const key = JSON.stringify([listing.missingNetworks, listing.unusableNetworks, listing.rejectedAddresses]);
    if (key === this.problemsKey) return;
    this.problemsKey = key;
    const log = this.options.log;
    for (const network of listing.missingNetworks) log.warn({ network }, 'docker network not found, waiting for it');
    for (const { network, reason } of listing.unusableNetworks) log.warn({ network, reason }, 'docker network unusable');
    for (const r of listing.rejectedAddresses) log.warn({ origin: r.origin, address: r.address, reason: r.reason }, 'container address ignored');
  }
}

function fields(t: DockerTarget): Record<string, string> {
  return { container: t.container, network: t.network, address: t.address, via: t.bridge };
}

/** Start following the Engine at `endpoint`; each change replaces the daemon's targets with static + Docker ones. */
export function followDocker(
  options: { readonly selection: DockerSelection; readonly endpoint: DockerEndpoint },
  staticTargets: readonly Target[],
  replaceTargets: (targets: readonly Target[]) => void,
  log: Logger,
): DockerSource {
  log.info({ endpoint: options.endpoint.url, networks: options.selection.networks, allIpv6Bridges: options.selection.all }, 'following docker');
  const source = new DockerSource({
    api: new DockerClient(options.endpoint),
    selection: options.selection,
    log,
    onTargets: (docker) => replaceTargets([...staticTargets, ...docker]),
  });
  source.start();
  return source;
}
