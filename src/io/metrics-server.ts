import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CONFLICT_KINDS, type ConflictKind } from '../model/counters';
import { IGNORE_REASONS } from '../model/reasons';
import type { ResponderCounters } from '../model/counters';
import type { ListenAddress } from '../model/settings';
import { PASS_REASONS } from '../wire/ebpf/fast-path-layout';
import type { FastPathCounters } from './fast-path';

/** What the metrics read at scrape time; the daemon implements it. Nothing is counted twice. */
export interface MetricsSource {
  readonly counters: ResponderCounters;
  readonly conflicts: Readonly<Record<ConflictKind, number>>;
  readonly linkUp: boolean;
  readonly targetCount: number;
  readonly rateLimitedSources: number;
  readonly rateLimitedFlows: number;
  /** The in-kernel path's per-CPU counter totals (zeros on the socket path). */
  readonly fastPath?: FastPathCounters;
}

/** Values of the `path` label: the packet socket in userspace, and the in-kernel eBPF program. */
export const ANSWER_PATHS = ['socket', 'bpf'] as const;

/** Prefix of every family we export. */
export const METRIC_PREFIX = 'ndp_responder_';

/**
 * Receive-to-send latency buckets in seconds: 10 µs to 100 ms. A healthy answer takes tens of
 * microseconds; the top buckets catch GC pauses and an overloaded host.
 */
export const LATENCY_BUCKETS = [10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3];

/** A counter whose value is copied from `read()` when scraped. */
function counterFrom(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name: METRIC_PREFIX + name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge whose value is read when scraped. */
function gaugeFrom(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({ name: METRIC_PREFIX + name, help, registers: [registry], collect() { this.set(read()); } });
}

/** A labelled counter copied from a record keyed by a closed list (every label present, zeros included). */
function labelledCounterFrom(registry: Registry, name: string, help: string, label: string, keys: readonly string[], read: () => Readonly<Record<string, number>>): void {
  new Counter({
    name: METRIC_PREFIX + name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      const values = read();
      this.reset();
      for (const key of keys) this.inc({ [label]: key }, values[key] ?? 0);
    },
  });
}

/** The registry with every ndp_responder_* family, and the latency histogram the daemon feeds. */
export function createMetrics(source: MetricsSource): { registry: Registry; latency: Histogram } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  // The kernel's frames join the socket path's families under path="bpf". A frame the kernel
  // passes to the socket is counted there only (and in fast_path_passed_total), never twice.
  labelledCounterFrom(registry, 'solicitations_received_total', 'Neighbour Solicitations received on the uplink (after the kernel filter); path="bpf": answered or limited in the kernel', 'path', ANSWER_PATHS, () => {
    const kernel = source.fastPath;
    return { socket: source.counters.received, bpf: kernel === undefined ? 0 : Number(kernel.answered + kernel.limited) };
  });
  labelledCounterFrom(registry, 'advertisements_sent_total', 'Neighbour Advertisements sent', 'path', ANSWER_PATHS, () => ({ socket: source.counters.advertised, bpf: Number(source.fastPath?.answered ?? 0n) }));
  counterFrom(registry, 'send_failures_total', 'Advertisements the kernel refused to send (socket path)', () => source.counters.sendFailures);
  new Counter({
    name: `${METRIC_PREFIX}solicitations_ignored_total`,
    help: 'Solicitations dropped (invalid) or ignored (not ours, rate limited), by reason; path="bpf" counts the kernel\'s rate-limited drops',
    labelNames: ['reason', 'path'],
    registers: [registry],
    collect() {
      const limited = Number(source.fastPath?.limited ?? 0n);
      this.reset();
      for (const reason of IGNORE_REASONS) {
        this.inc({ reason, path: 'socket' }, source.counters.ignored[reason] ?? 0);
        this.inc({ reason, path: 'bpf' }, reason === 'rate-limited' ? limited : 0);
      }
    },
  });
  labelledCounterFrom(registry, 'conflicts_total', 'Other nodes answering for (advertisement) or probing for (dad) an address we serve', 'kind', CONFLICT_KINDS, () => source.conflicts);
  gaugeFrom(registry, 'link_up', '1 while the uplink socket is open and answering, else 0', () => (source.linkUp ? 1 : 0));
  gaugeFrom(registry, 'targets', 'Configured targets (addresses and prefixes)', () => source.targetCount);
  gaugeFrom(registry, 'rate_limit_sources', 'Solicitation sources tracked by the per-source rate limit (bounded; socket path)', () => source.rateLimitedSources);
  gaugeFrom(registry, 'rate_limit_flows', 'Solicitation (source, target) flows tracked by the per-flow rate limit (bounded; socket path)', () => source.rateLimitedFlows);
  counterFrom(registry, 'fast_path_answered_total', 'Neighbour Solicitations answered in the kernel (eBPF fast path); also advertisements_sent_total{path="bpf"}', () => Number(source.fastPath?.answered ?? 0n));
  labelledCounterFrom(
    registry,
    'fast_path_passed_total',
    'Solicitations for a kernel-path target passed to the socket path, by reason (shape, dad-probe, or the RFC 4861 §7.1.1 row that failed)',
    'reason',
    PASS_REASONS,
    () => Object.fromEntries(PASS_REASONS.map((reason) => [reason, Number(source.fastPath?.passed[reason] ?? 0n)])),
  );
  const latency = new Histogram({
    name: `${METRIC_PREFIX}receive_to_send_seconds`,
    help: 'From the kernel receive timestamp of the oldest solicitation in a batch to its answers being sent',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return { registry, latency };
}

/** Serve `registry` as Prometheus text at GET /metrics; resolves once listening, rejects on EADDRINUSE etc. */
export function serveMetrics(registry: Registry, listen: ListenAddress): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
