import { parseDockerHost, type DockerEndpoint } from '../sources/docker-api';
import type { DockerSelection } from '../sources/docker-targets';
import { UserError } from '../model/errors';

/** Raw Docker flags of `run`, as commander hands them over. */
export interface RawDockerOptions {
  dockerNetwork?: string[];
  docker?: boolean;
  dockerHost?: string;
}

/** Validated Docker options: which networks to follow, and where the Engine listens. */
export interface DockerOptions {
  readonly selection: DockerSelection;
  readonly endpoint: DockerEndpoint;
}

/** Docker's own rule for network names (IDs match it too). */
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** True when any Docker flag is given (then `--target` becomes optional). */
export function wantsDocker(raw: RawDockerOptions): boolean {
  return raw.docker === true || (raw.dockerNetwork?.length ?? 0) > 0;
}

/**
 * Validate the Docker flags; undefined when none is given. The endpoint is `--docker-host`, else
 * `DOCKER_HOST`, else the default socket; only `unix://` endpoints are supported.
 */
export function parseDockerOptions(raw: RawDockerOptions, env: NodeJS.ProcessEnv = process.env): DockerOptions | undefined {
  if (!wantsDocker(raw)) {
    if (raw.dockerHost !== undefined) throw new UserError('--docker-host needs --docker or --docker-network NAME');
    return undefined;
  }
  const networks = [...new Set(raw.dockerNetwork ?? [])];
  for (const name of networks) {
    if (!NETWORK_NAME.test(name)) throw new UserError(`invalid --docker-network "${name}": not a Docker network name`);
  }
  const endpoint = raw.dockerHost !== undefined ? parseDockerHost(raw.dockerHost, '--docker-host') : parseDockerHost(env.DOCKER_HOST, 'DOCKER_HOST');
  return { selection: { networks, all: raw.docker === true }, endpoint };
}
