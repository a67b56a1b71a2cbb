/**
 * `ndp-responder run`: preflight, the daemon, and what surrounds it: signals, SIGHUP reloads,
 * the Docker source and the metrics endpoint.
 */
import { loadRunConfig, type CommandLine } from '../config/load';
import type { RunConfig } from '../config/run-options';
import { missingPrivilege } from '../core/privileges';
import { effectiveCapabilities } from '../io/capabilities';
import { createLogger, defaultLogFormat, type Logger } from '../io/log';
import { ExitCode, UserError } from '../model/errors';
import { Daemon } from './daemon';
import { reloadOnSighup, startMetrics, withDockerTargets } from './operations';

/** The daemon must be gone this long after SIGTERM, routes removed or not. */
const STOP_DEADLINE_MS = 800;

/** Follows the Docker source of the configuration in force; restarted on reload. */
class DockerFollower {
  private source: { stop(): void } | undefined;
  stopped = false;

  constructor(
    private readonly daemon: Daemon,
    private readonly log: Logger,
  ) {}

  async follow(config: RunConfig): Promise<void> {
    this.source?.stop();
    this.source = undefined;
    if (config.docker === undefined || this.stopped) return;
    const { followDocker } = await import('../sources/docker-source');
    this.source = followDocker(config.docker, config.daemon.targets, (targets) => this.daemon.replaceTargets(targets), this.log);
  }

  stop(): void {
    this.stopped = true;
    this.source?.stop();
  }
}

/** Run until SIGTERM/SIGINT; throws UserError for bad flags or environment. */
export async function runDaemon(commandLine: CommandLine): Promise<void> {
  const config = loadRunConfig(commandLine);
  const missing = missingPrivilege(effectiveCapabilities(), config.daemon.configureHost, config.daemon.fastPath);
  if (missing !== undefined) throw new UserError(missing, ExitCode.Environment);
  const log = createLogger(config.logLevel, config.logFormat ?? defaultLogFormat());
  const daemon = new Daemon(config.daemon, log.child({ module: 'daemon' }));
  const docker = new DockerFollower(daemon, log.child({ module: 'docker' }));
  let started = false;
  const stop = (signal: string): void => {
    if (docker.stopped) return;
    log.info({ signal }, 'stopping');
    const deadline = setTimeout(() => process.exit(ExitCode.Ok), STOP_DEADLINE_MS);
    docker.stop();
    void daemon.stop().finally(() => {
      clearTimeout(deadline);
      process.exit(ExitCode.Ok);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  reloadOnSighup(commandLine, (next) => {
    if (!started || docker.stopped) return;
    log.level = next.logLevel;
    // Docker targets stay until the restarted Docker source lists them again.
    daemon.reconfigure(withDockerTargets(next, daemon.currentTargets));
    void docker.follow(next);
  }, log.child({ module: 'config' }));
  if (config.metricsListen !== undefined) await startMetrics(daemon, config.metricsListen, log.child({ module: 'metrics' }));
  await daemon.start();
  started = true;
  await docker.follow(config);
}
