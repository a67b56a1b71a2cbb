/**
 * Wiring for operations: the metrics endpoint and SIGHUP reloads, around a running Daemon.
 * Kept apart from daemon.ts so the packet path's module stays small.
 */
import type { Server } from 'node:http';
import { ExitCode, UserError } from '../model/errors';
import type { ListenAddress } from '../model/settings';
import { loadRunConfig, type CommandLine } from '../config/load';
import type { RunConfig } from '../config/run-options';
import type { Target } from '../model/target';
import type { Daemon } from './daemon';
import type { Logger } from '../io/log';
import type { FastPathCounters } from '../io/fast-path';
import { performance } from 'node:perf_hooks';

/** How long one read of the kernel's per-CPU counters serves a scrape. */
const KERNEL_COUNTERS_TTL_MS = 50;

/** Serve `/metrics` for `daemon` on `listen`; exit 3 (environment) when the address cannot be bound. */
export async function startMetrics(daemon: Daemon, listen: ListenAddress, log: Logger): Promise<Server> {
  const { createMetrics, serveMetrics } = await import('../io/metrics-server');
  // The kernel's counters move while a scrape reads its families: one read serves every family
  // of a scrape, so `received` and `sent` of the same scrape agree.
  let kernel: { at: number; counters: FastPathCounters } | undefined;
  const kernelCounters = (): FastPathCounters => {
    const now = performance.now();
    if (kernel === undefined || now - kernel.at > KERNEL_COUNTERS_TTL_MS) kernel = { at: now, counters: daemon.fastPath.counters() };
    return kernel.counters;
  };
  const { registry, latency } = createMetrics({
    counters: daemon.counters,
    get conflicts() { return daemon.conflictMonitor.counts; },
    get linkUp() { return daemon.linkUp; },
    get targetCount() { return daemon.currentTargets.length; },
    get rateLimitedSources() { return daemon.gate.limiter.trackedSources; },
    get rateLimitedFlows() { return daemon.gate.limiter.trackedFlows; },
    get fastPath() { return kernelCounters(); },
  });
  daemon.answers.onAnswered = (seconds) => latency.observe(seconds);
  let server: Server;
  try {
    server = await serveMetrics(registry, listen);
  } catch (error) {
    const where = `${listen.host?.includes(':') === true ? `[${listen.host}]` : (listen.host ?? '')}:${listen.port}`;
    throw new UserError(`cannot serve metrics on ${where}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, ExitCode.Environment);
  }
  // Scrapes must never keep the process alive past SIGTERM.
  server.unref();
  log.info({ listen: server.address() }, 'metrics listening');
  return server;
}

/**
 * On SIGHUP re-read `--config` (flags still win), validate, and apply with `apply`; a broken
 * file is one warning and the running configuration stays. Returns the handler (tests).
 */
export function reloadOnSighup(commandLine: CommandLine, apply: (config: RunConfig) => void, log: Logger): () => void {
  const reload = (): void => {
    let config: RunConfig;
    try {
      config = loadRunConfig(commandLine);
    } catch (error) {
      log.warn({ file: commandLine.configFile ?? null, error: (error as Error).message }, 'reload failed, keeping the running configuration');
      return;
    }
    apply(config);
    log.info({ file: commandLine.configFile ?? null, targets: config.daemon.targets.map((t) => t.text), via: config.daemon.via ?? null }, 'reloaded');
  };
  process.on('SIGHUP', reload);
  return reload;
}

/** `next`'s daemon options with the Docker-discovered targets among `current` kept (while Docker is followed). */
export function withDockerTargets(next: RunConfig, current: readonly Target[]): RunConfig['daemon'] {
  const docker = next.docker === undefined ? [] : current.filter((t) => t.origin?.startsWith('docker:') === true);
  return docker.length === 0 ? next.daemon : { ...next.daemon, targets: [...next.daemon.targets, ...docker] };
}
