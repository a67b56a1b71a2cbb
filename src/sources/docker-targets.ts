import type { Target } from '../model/target';
import { parseTarget } from '../core/parse-target';

/** Which Docker networks to follow: named ones (`--docker-network`), or every IPv6 bridge (`--docker`). */
export interface DockerSelection {
  readonly networks: readonly string[];
  readonly all: boolean;
}

/** A selected network, reduced to what targets need. */
export interface SelectedNetwork {
  readonly id: string;
  readonly name: string;
  /** The Linux bridge its containers hang off: the targets' `via`. */
  readonly bridge: string;
}

/** One container address to answer for, with the names logs need. */
export interface DockerTarget {
  readonly target: Target;
  readonly network: string;
  readonly container: string;
  readonly address: string;
  readonly bridge: string;
}

/** The outcome of one reconciliation: targets, plus problems worth a warning. */
export interface DockerListing {
  readonly targets: readonly DockerTarget[];
  /** Named networks the Engine does not know (yet). */
  readonly missingNetworks: readonly string[];
  /** Named networks that cannot carry targets, with why ("not a bridge network", ...). */
  readonly unusableNetworks: readonly { readonly network: string; readonly reason: string }[];
  /** Addresses the Engine reported that cannot be proxied (link-local, malformed), with why. */
  readonly rejectedAddresses: readonly { readonly origin: string; readonly address: string; readonly reason: string }[];
}

/** Docker names the default network's bridge docker0 and leaves the option off older records. */
const DEFAULT_BRIDGE = { network: 'bridge', ifname: 'docker0' } as const;
const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The Linux bridge of a network record from `GET /networks`. */
export function bridgeOf(network: unknown): string {
  const n = record(network);
  const named = text(record(n.Options)[BRIDGE_NAME_OPTION]);
  if (named !== '') return named;
  if (text(n.Name) === DEFAULT_BRIDGE.network) return DEFAULT_BRIDGE.ifname;
  return `br-${text(n.Id).slice(0, 12)}`;
}

/** Pick the networks to follow out of `GET /networks`, keyed by network ID. */
export function selectNetworks(networks: unknown, selection: DockerSelection): {
  selected: Map<string, SelectedNetwork>;
  missing: string[];
  unusable: { network: string; reason: string }[];
} {
  const selected = new Map<string, SelectedNetwork>();
  const unusable: { network: string; reason: string }[] = [];
  const found = new Set<string>();
  for (const item of list(networks)) {
    const n = record(item);
    const name = text(n.Name);
    const id = text(n.Id);
    const isBridge = text(n.Driver) === 'bridge';
    const ipv6 = n.EnableIPv6 === true;
    const named = selection.networks.includes(name) || selection.networks.includes(id);
    if (named) found.add(selection.networks.includes(name) ? name : id);
    if (!named && !(selection.all && isBridge && ipv6)) continue;
    if (!isBridge) {
      // macvlan/ipvlan containers sit on the LAN themselves and answer their own solicitations.
      unusable.push({ network: name, reason: `driver ${text(n.Driver) || 'unknown'} is not a bridge network` });
      continue;
    }
    if (!ipv6) unusable.push({ network: name, reason: 'IPv6 is not enabled on it (docker network create --ipv6)' });
    selected.set(id, { id, name, bridge: bridgeOf(n) });
  }
  const missing = selection.networks.filter((name) => !found.has(name));
  return { selected, missing, unusable };
}

/** A container's IPv6 address on one endpoint: the assigned one, else the one it asked for. */
function endpointAddress(endpoint: Json): string {
  const assigned = text(endpoint.GlobalIPv6Address);
  if (assigned !== '') return assigned;
  return text(record(endpoint.IPAMConfig).IPv6Address);
}

/** Compute the targets from `GET /networks` and `GET /containers/json` replies (pure). */
export function dockerTargets(networks: unknown, containers: unknown, selection: DockerSelection): DockerListing {
  const { selected, missing, unusable } = selectNetworks(networks, selection);
  const byName = new Map([...selected.values()].map((n) => [n.name, n]));
  const targets: DockerTarget[] = [];
  const rejected: { origin: string; address: string; reason: string }[] = [];
  for (const item of list(containers)) {
    const c = record(item);
    const container = text(list(c.Names)[0]).replace(/^\//, '') || text(c.Id).slice(0, 12);
    for (const [key, value] of Object.entries(record(record(c.NetworkSettings).Networks))) {
      const endpoint = record(value);
      const network = selected.get(text(endpoint.NetworkID)) ?? byName.get(key);
      const address = endpointAddress(endpoint);
      if (network === undefined || address === '') continue;
      const origin = `docker:${network.name}/${container}`;
      try {
        const target = parseTarget(address, origin, network.bridge);
        targets.push({ target, network: network.name, container, address: target.text, bridge: network.bridge });
      } catch (error) {
        rejected.push({ origin, address, reason: (error as Error).message });
      }
    }
  }
  targets.sort((a, b) => a.target.origin!.localeCompare(b.target.origin!) || a.address.localeCompare(b.address));
  return { targets, missingNetworks: missing, unusableNetworks: unusable, rejectedAddresses: rejected };
}

/** Event actions after which the listing may have changed. */
const RELEVANT_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  network: ['connect', 'disconnect', 'destroy'],
  container: ['start', 'die', 'destroy'],
};

/** True when an Engine event can change the target list (network connect/disconnect, container start/die/destroy). */
export function isRelevantEvent(event: unknown): boolean {
  const e = record(event);
  // Engines before API 1.22 only sent `status`; ours send Type/Action.
  const action = text(e.Action) || text(e.status);
  return RELEVANT_ACTIONS[text(e.Type)]?.includes(action) === true;
}

/** Key identifying a target list, to tell whether a reconciliation changed anything. */
export function listingKey(targets: readonly DockerTarget[]): string {
  return targets.map((t) => `${t.target.origin}=${t.target.text}%${t.bridge}`).join(',');
}
