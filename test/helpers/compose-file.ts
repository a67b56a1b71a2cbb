import { parse } from 'yaml';

/** One service of a compose file as docker CLI steps: what to build, and the `docker run` arguments. */
export interface ComposeService {
  readonly name: string;
  readonly image: string;
  /** Build context (relative to the compose file), when the service has `build:`. */
  readonly build?: string;
  /** Arguments after `docker`: run -d --name NAME ... IMAGE COMMAND... */
  readonly run: readonly string[];
}

/** A compose file turned into `docker network create` and `docker run` argument lists. */
export interface ComposePlan {
  readonly networks: readonly (readonly string[])[];
  readonly services: readonly ComposeService[];
}

type Node = Record<string, unknown>;

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error} (unset or empty is an error). */
function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind: string | undefined, arg: string | undefined) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (kind === '-') return arg ?? '';
    if (kind === '?') throw new Error(`${name}: ${arg}`);
    return '';
  });
}

/** Refuse keys this translation does not implement, so the test never silently drops one. */
function only(node: Node, where: string, keys: readonly string[]): void {
  const unknown = Object.keys(node).filter((key) => !keys.includes(key));
  if (unknown.length > 0) throw new Error(`${where}: the compose translation does not implement ${unknown.join(', ')}`);
}

function networkArgs(key: string, network: Node): string[] {
  only(network, `networks.${key}`, ['name', 'enable_ipv6', 'driver', 'driver_opts', 'ipam']);
  const args = ['network', 'create', '--driver', String(network.driver ?? 'bridge')];
  if (network.enable_ipv6 === true) args.push('--ipv6');
  for (const [option, value] of Object.entries((network.driver_opts ?? {}) as Node)) args.push('-o', `${option}=${String(value)}`);
  for (const pool of ((network.ipam as Node | undefined)?.config ?? []) as Node[]) {
    if (pool.subnet !== undefined) args.push('--subnet', String(pool.subnet));
    if (pool.gateway !== undefined) args.push('--gateway', String(pool.gateway));
  }
  return [...args, String(network.name ?? key)];
}

function serviceRun(name: string, service: Node, networkNames: ReadonlyMap<string, string>): string[] {
  only(service, `services.${name}`, ['image', 'build', 'network_mode', 'read_only', 'networks', 'cap_drop', 'cap_add', 'group_add', 'volumes', 'command', 'restart']);
  const args = ['run', '-d', '--name', name];
  if (service.network_mode !== undefined) args.push('--network', String(service.network_mode));
  if (service.read_only === true) args.push('--read-only');
  for (const [key, settings] of Object.entries((service.networks ?? {}) as Node)) {
    args.push('--network', networkNames.get(key) ?? key);
    const address = (settings as Node | null)?.ipv6_address;
    if (address !== undefined) args.push('--ip6', String(address));
  }
  for (const cap of (service.cap_drop ?? []) as string[]) args.push('--cap-drop', cap);
  for (const cap of (service.cap_add ?? []) as string[]) args.push('--cap-add', cap);
  for (const group of (service.group_add ?? []) as string[]) args.push('--group-add', String(group));
  for (const volume of (service.volumes ?? []) as string[]) args.push('-v', volume);
  if (service.restart !== undefined) args.push('--restart', String(service.restart));
  return [...args, String(service.image ?? name), ...((service.command ?? []) as string[]).map(String)];
}

/**
 * Turn docker-compose.yml into the docker CLI calls `docker compose up` would make, for the keys
 * this project's file uses (anything else throws). There is no compose in Debian bookworm's
 * docker.io, and the test wants the file itself, not a copy of its settings, to drive the run.
 */
export function composePlan(text: string, env: Readonly<Record<string, string>>): ComposePlan {
  const file = parse(interpolate(text, env)) as { networks?: Record<string, Node>; services?: Record<string, Node> };
  only(file as Node, 'top level', ['networks', 'services']);
  const networkNames = new Map(Object.entries(file.networks ?? {}).map(([key, n]) => [key, String(n.name ?? key)]));
  return {
    networks: Object.entries(file.networks ?? {}).map(([key, network]) => networkArgs(key, network)),
    services: Object.entries(file.services ?? {}).map(([name, service]) => ({
      name,
      image: String(service.image ?? name),
      ...(service.build === undefined ? {} : { build: String(service.build) }),
      run: serviceRun(name, service, networkNames),
    })),
  };
}
