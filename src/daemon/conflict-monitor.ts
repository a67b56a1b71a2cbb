import { performance } from 'node:perf_hooks';
import { advertisementConflict } from '../core/conflict';
import { CONFLICT_KINDS, type ConflictKind } from '../model/counters';
import { AnswerRateLimiter, NO_FLOW_LIMIT } from '../core/rate-limit';
import type { TargetSet } from '../core/target-set';
import type { Logger } from '../io/log';
import { formatIpv6, formatMac } from '../wire/address';
import { advertisementFilter } from '../wire/bpf';
import { META_WORDS, openPacketSocket, type PacketSocket } from '../io/native';

/** What the monitor needs from the daemon, read when a frame arrives. */
export interface ConflictContext {
  readonly targets: TargetSet;
  readonly ownMac: Uint8Array | undefined;
}

/**
 * Conflict warnings are bounded: one per target per 10 s and 20 a minute overall, so a
 * hostile flood of NAs costs counters, not a disk full of logs.
 */
const LOG_LIMITS = { ...NO_FLOW_LIMIT, perSource: { perSecond: 0.1, burst: 1 }, global: { perSecond: 1 / 3, burst: 20 }, maxSources: 1024 };

/**
 * Watches the uplink for other nodes claiming our targets: its own packet socket with the
 * Neighbour Advertisement filter (so the NS hot path stays untouched), plus DAD probes the
 * responder reports. Counts per kind and logs `conflict` (bounded).
 */
export class ConflictMonitor {
  readonly counts: Record<ConflictKind, number> = Object.fromEntries(CONFLICT_KINDS.map((k) => [k, 0])) as Record<ConflictKind, number>;
  private socket: PacketSocket | undefined;
  private ifindex: number | undefined;
  private readonly logLimiter = new AnswerRateLimiter(LOG_LIMITS, performance.now());

  constructor(
    private readonly context: ConflictContext,
    private readonly log: Logger,
  ) {}

  /** Follow the uplink: open on `ifindex`, reopen when it changes, close on undefined. */
  sync(ifindex: number | undefined): void {
    if (ifindex === this.ifindex && (ifindex === undefined || this.socket !== undefined)) return;
    this.close();
    if (ifindex === undefined) return;
    try {
      this.socket = openPacketSocket({
        ifindex,
        filter: advertisementFilter(),
        batch: 16,
        slotSize: 2048,
        onFrames: (data, count, meta) => this.onFrames(data, count, meta),
        // ENETDOWN and friends: the daemon's own socket sees the same and drives the reopen.
        onError: () => this.close(),
      });
      this.ifindex = ifindex;
    } catch (error) {
      this.log.warn({ error: (error as Error).message }, 'conflict monitor unavailable');
    }
  }

  /** Close the socket; idempotent. */
  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.ifindex = undefined;
  }

  /** Count and log one conflict. */
  report(kind: ConflictKind, address: Uint8Array, ethernetSource: Uint8Array, linkLayerAddress?: Uint8Array): void {
    this.counts[kind]++;
    const target = formatIpv6(address);
    if (!this.logLimiter.admit(`${kind} ${target}`, performance.now())) return;
    const fields: Record<string, unknown> = { kind, target, from: formatMac(ethernetSource), total: this.counts[kind] };
    if (linkLayerAddress !== undefined) fields.claims = formatMac(linkLayerAddress);
    this.log.warn(fields, 'conflict');
  }

  private onFrames(data: Buffer, count: number, meta: Uint32Array): void {
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = meta[i * META_WORDS]!;
      const found = advertisementConflict(data, offset, length, this.context.ownMac, this.context.targets);
      offset += length;
      if (found !== undefined) this.report('advertisement', found.address, found.ethernetSource, found.linkLayerAddress);
    }
  }
}
