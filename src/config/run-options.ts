import type { RateLimitSettings } from '../core/rate-limit';
import type { SourceMode, Target } from '../model/target';
import { DEFAULT_FAST_PATH, FAST_PATH_MODES, LOG_LEVELS, type FastPathMode, type LogFormat, type LogLevel } from '../model/settings';
import { parseDockerOptions, wantsDocker, type DockerOptions, type RawDockerOptions } from './docker-options';
import { UserError } from '../model/errors';
import type { ListenAddress } from '../model/settings';
import { parseOperationsOptions, type RawOperationsOptions } from './operations';
import { isInterfaceName } from './schema';
import { parseTarget } from '../core/parse-target';

/** Validated options of `ndp-responder run`. */
export interface DaemonOptions {
  readonly interface: string;
  readonly targets: readonly Target[];
  readonly via: string | undefined;
  readonly configureHost: boolean;
  readonly source: SourceMode;
  readonly router: boolean;
  readonly override: boolean;
  /** `--wait-for-interface`: a missing uplink is waited for (rtnetlink event) instead of exit 3. */
  readonly waitForInterface?: boolean;
  /** `--announce`: warm the router's cache for each new single-address target. */
  readonly announce?: boolean;
  /** Answer rate limits (DEFAULT_RATE_LIMITS unless flags or the file set them). */
  readonly rateLimits: RateLimitSettings;
  /** `--fast-path`: answer in the kernel (bpf), when possible (auto), or only from the socket. */
  readonly fastPath: FastPathMode;
}

/** Raw option values as commander hands them over for `run`. */
export interface RawRunOptions extends RawDockerOptions, RawOperationsOptions {
  interface?: string;
  target?: string[];
  via?: string;
  configureHost?: boolean;
  waitForInterface?: boolean;
  source?: string;
  router?: boolean;
  announce?: boolean;
  override?: boolean;
  logLevel?: string;
  logFormat?: string;
  fastPath?: string;
}

/** Everything `run` needs, validated. */
export interface RunConfig {
  readonly daemon: DaemonOptions;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat | undefined;
  /** Docker flags, when any is given. */
  readonly docker: DockerOptions | undefined;
  /** `--metrics-listen`, when given. */
  readonly metricsListen: ListenAddress | undefined;
}

/** `--fast-path` (or the file's `fast-path`), DEFAULT_FAST_PATH when absent; UserError (exit 2) otherwise. Shared by `run` and `check`. */
export function parseFastPathMode(value: string | undefined): FastPathMode {
  const mode = value ?? DEFAULT_FAST_PATH;
  if (!(FAST_PATH_MODES as readonly string[]).includes(mode)) {
    throw new UserError(`invalid --fast-path "${mode}": expected one of ${FAST_PATH_MODES.join(', ')}`);
  }
  return mode as FastPathMode;
}

/** `name` when it is a valid interface name; else UserError (exit 2) naming `flag`. Shared by `run` and `check`. */
export function checkInterfaceName(flag: string, name: string): string {
  if (!isInterfaceName(name)) throw new UserError(`invalid ${flag} "${name}": not an interface name`);
  return name;
}

/** Validate `run` options at the boundary; throws UserError (exit 2) with one clear line. */
export function parseRunOptions(raw: RawRunOptions): RunConfig {
  if (raw.interface === undefined) throw new UserError('missing --interface: the LAN uplink to answer on (e.g. --interface eth0)');
  const ifname = checkInterfaceName('--interface', raw.interface);
  const via = raw.via === undefined ? undefined : checkInterfaceName('--via', raw.via);
  if (via === ifname) throw new UserError(`--via ${via} is the uplink itself: answering would black-hole the targets`);
  const targets = (raw.target ?? []).map((t) => parseTarget(t));
  if (targets.length === 0 && !wantsDocker(raw)) {
    throw new UserError('no target: give at least one --target ADDRESS or --target PREFIX, or --docker-network NAME / --docker');
  }
  const docker = parseDockerOptions(raw);
  const operations = parseOperationsOptions(raw);
  const source = raw.source ?? 'target';
  if (source !== 'target' && source !== 'link-local') throw new UserError(`invalid --source "${source}": expected target or link-local`);
  const logLevel = raw.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UserError(`invalid --log-level "${logLevel}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const logFormat = raw.logFormat;
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty') {
    throw new UserError(`invalid --log-format "${logFormat}": expected json or pretty`);
  }
  const fastPath = parseFastPathMode(raw.fastPath);
  return {
    daemon: {
      interface: ifname,
      targets,
      via,
      configureHost: raw.configureHost === true,
      waitForInterface: raw.waitForInterface === true,
      source,
      router: raw.router === true,
      announce: raw.announce === true,
      override: raw.override !== false,
      rateLimits: operations.rateLimits,
      fastPath,
    },
    logLevel: logLevel as LogLevel,
    logFormat,
    docker,
    metricsListen: operations.metricsListen,
  };
}
