import { randomBytes } from 'node:crypto';
import { run } from './exec';
import { addNamespace, deleteNamespace, deleteNamespaceSync, ipv6Addresses, linkDetails, writeSysctls } from './netns';
import { neighbourEntry } from './neighbours';
import { sendDatagrams } from './resolution';
import { waitUntil } from './wait';

/** The mission's addressing plan: a LAN /64 with a Docker bridge /125 carved out of it. */
export const SCENARIO_ADDRESSES = {
  lan: '2001:db8::1',
  hostUplink: '2001:db8::2',
  lanPrefixLength: 64,
  bridge: '2001:db8::a:71a1',
  container: '2001:db8::a:71a5',
  containerSubnet: '2001:db8::a:71a0/125',
  bridgePrefixLength: 125,
} as const;

/** Options for {@link createScenario}. */
export interface ScenarioOptions {
  /** Namespace name prefix, 1..15 of [A-Za-z0-9_-]; default unique to the run ("ndp" + 8 hex digits). */
  readonly prefix?: string;
  /** Extra LAN addresses 2001:db8::1:N/64 (N = 1..lanSources, hex) for multi-source benchmarks; default 0. */
  readonly lanSources?: number;
  /** Bound on waiting for link-local addresses and the bridge; default 10 000 ms. */
  readonly readyTimeoutMs?: number;
}

/** A built scenario: LAN peer, Docker host and container, each in its own namespace. */
export interface Scenario {
  readonly prefix: string;
  readonly namespaces: { readonly lan: string; readonly host: string; readonly container: string };
  readonly lan: { readonly ns: string; readonly ifname: 'lan0'; readonly address: string; readonly mac: string };
  readonly host: {
    readonly ns: string;
    readonly uplink: 'eth0';
    readonly uplinkMac: string;
    readonly uplinkIfindex: number;
    readonly uplinkAddress: string;
    readonly bridge: 'br0';
    readonly linkLocal: string;
  };
  readonly container: { readonly ns: string; readonly address: string; readonly subnet: string; readonly gateway: string };
  readonly lanSources: readonly string[];
  /** Delete the namespaces (and with them every link); idempotent, never throws. */
  destroy(): Promise<void>;
}

type Namespaces = Scenario['namespaces'];

const live = new Set<Scenario>();
/** Namespaces of scenarios still being built, so an interrupt during creation cleans them too. */
const building = new Set<string>();

let exitHookInstalled = false;

/** On exit, delete namespaces a crashed or careless caller left behind (only a leak reaches this). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    const names = [...building, ...[...live].flatMap((scenario) => Object.values(scenario.namespaces))];
    for (const name of names) deleteNamespaceSync(name);
  });
}

/** A namespace prefix unique to this run: "ndp", 4 random hex digits, 4 hex digits of the pid. */
export function defaultPrefix(): string {
  const pid = (process.pid & 0xffff).toString(16).padStart(4, '0');
  for (;;) {
    const prefix = `ndp${randomBytes(2).toString('hex')}${pid}`;
    const inUse = building.has(`${prefix}-host`) || [...live].some((scenario) => scenario.prefix === prefix);
    if (!inUse) return prefix;
  }
}

/** Build the scenario in fresh namespaces and wait until the container answers the host (needs `ip`, `sysctl` and node only). */
export async function createScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const prefix = options.prefix ?? defaultPrefix();
  const lanSourceCount = options.lanSources ?? 0;
  if (!/^[A-Za-z0-9_-]{1,15}$/.test(prefix)) throw new Error(`scenario prefix ${JSON.stringify(prefix)} must be 1..15 of [A-Za-z0-9_-]`);
  if (!Number.isInteger(lanSourceCount) || lanSourceCount < 0 || lanSourceCount > 0xffff) {
    throw new Error(`lanSources must be an integer 0..65535, got ${lanSourceCount}`);
  }
  const ns: Namespaces = { lan: `${prefix}-lan`, host: `${prefix}-host`, container: `${prefix}-ctr` };
  installExitHook();
  const created: string[] = [];
  try {
    // allSettled, not all: the rollback below must see every namespace that did get created.
    const setups = await Promise.allSettled(
      [ns.lan, ns.host, ns.container].map(async (name) => {
        await addNamespace(name);
        created.push(name);
        building.add(name); // only after `ip netns add` worked: never clean up a namespace someone else made
        await prepareNamespace(name);
      }),
    );
    for (const setup of setups) if (setup.status === 'rejected') throw setup.reason;
    await buildLinks(ns);
    const lanSources = await addLanSources(ns.lan, lanSourceCount);
    await waitReady(ns, options.readyTimeoutMs ?? 10_000);
    return await assemble(prefix, ns, lanSources);
  } catch (error) {
    await Promise.all(created.map((name) => deleteNamespace(name).catch(() => undefined)));
    throw error;
  } finally {
    for (const name of [ns.lan, ns.host, ns.container]) building.delete(name);
  }
}

/**
 * Loopback up and DAD off, so addresses are usable the moment they are added. Static addresses
 * survive link down/up (keep_addr_on_down), so link-flap tests do not tear the topology apart.
 */
async function prepareNamespace(name: string): Promise<void> {
  await run('ip', ['-n', name, 'link', 'set', 'dev', 'lo', 'up']);
  await writeSysctls(name, {
    'net.ipv6.conf.all.accept_dad': 0,
    'net.ipv6.conf.default.accept_dad': 0,
    'net.ipv6.conf.all.keep_addr_on_down': 1,
  });
}

/** Create the veths and the bridge, address them and bring them up. */
async function buildLinks(ns: Namespaces): Promise<void> {
  const a = SCENARIO_ADDRESSES;
  const ip = (name: string, ...args: string[]): Promise<unknown> => run('ip', ['-n', name, ...args]);
  await ip(ns.host, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', ns.lan);
  await ip(ns.host, 'link', 'add', 'vctr', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.container);
  // STP off and no forward delay: the port forwards as soon as it is up (Docker's bridges also run without STP).
  await ip(ns.host, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
  await ip(ns.host, 'link', 'set', 'dev', 'vctr', 'master', 'br0');
  await writeSysctls(ns.host, {
    'net.ipv6.conf.all.forwarding': 1,
    'net.ipv6.conf.all.proxy_ndp': 0,
    'net.ipv6.conf.eth0.proxy_ndp': 0,
  });
  await ip(ns.lan, 'addr', 'add', `${a.lan}/${a.lanPrefixLength}`, 'dev', 'lan0', 'nodad');
  await ip(ns.host, 'addr', 'add', `${a.hostUplink}/${a.lanPrefixLength}`, 'dev', 'eth0', 'nodad');
  await ip(ns.host, 'addr', 'add', `${a.bridge}/${a.bridgePrefixLength}`, 'dev', 'br0', 'nodad');
  await ip(ns.container, 'addr', 'add', `${a.container}/${a.bridgePrefixLength}`, 'dev', 'eth0', 'nodad');
  for (const [name, ifname] of [[ns.lan, 'lan0'], [ns.host, 'eth0'], [ns.host, 'vctr'], [ns.host, 'br0'], [ns.container, 'eth0']] as const) {
    await ip(name, 'link', 'set', 'dev', ifname, 'up');
  }
  await ip(ns.container, '-6', 'route', 'add', 'default', 'via', a.bridge, 'dev', 'eth0');
}

/** Add 2001:db8::1:N/64 for N = 1..count to lan0 in one `ip -batch`, returning the addresses. */
async function addLanSources(lanNs: string, count: number): Promise<string[]> {
  const addresses = Array.from({ length: count }, (_, i) => `2001:db8::1:${(i + 1).toString(16)}`);
  if (count === 0) return addresses;
  const batch = addresses.map((address) => `addr add ${address}/64 dev lan0 nodad preferred_lft 0\n`).join('');
  await run('ip', ['-n', lanNs, '-batch', '-'], { input: batch, timeoutMs: 10_000 + count * 10 });
  return addresses;
}

/** Neighbour states of an entry that has been resolved (STALE and the rest: resolved, not confirmed lately). */
const RESOLVED = ['REACHABLE', 'STALE', 'DELAY', 'PROBE'];

/**
 * Wait for the uplink's link-local address, the bridge port, and the container answering the
 * host's Neighbour Solicitation: a datagram from the host makes its kernel resolve the container,
 * and each time that fails (3 NS unanswered) another one retries. Only `ip` and node, no ping.
 */
async function waitReady(ns: Namespaces, timeoutMs: number): Promise<void> {
  await waitUntil(async () => (await ipv6Addresses(ns.host, 'eth0', 'link'))[0], { timeoutMs, description: `link-local address on ${ns.host} eth0` });
  await waitUntil(async () => (await ipv6Addresses(ns.lan, 'lan0', 'link'))[0], { timeoutMs, description: `link-local address on ${ns.lan} lan0` });
  await waitUntil(async () => (await linkDetails(ns.host, 'vctr')).bridgePortState === 'forwarding', {
    timeoutMs,
    description: `bridge port vctr forwarding in ${ns.host}`,
  });
  const container = SCENARIO_ADDRESSES.container;
  const resolved = async (): Promise<boolean> => {
    const entry = await neighbourEntry(ns.host, container, 'br0');
    if (entry !== undefined && RESOLVED.includes(entry.state)) return true;
    if (entry === undefined || entry.state === 'FAILED') await sendDatagrams(ns.host, [container], 9, 64);
    return false;
  };
  await waitUntil(resolved, { timeoutMs, intervalMs: 20, description: `container ${container} answering ${ns.host}'s Neighbour Solicitation on br0` });
}

/** Read MACs and indexes, and assemble the registered Scenario. */
async function assemble(prefix: string, ns: Namespaces, lanSources: string[]): Promise<Scenario> {
  const a = SCENARIO_ADDRESSES;
  const [lanLink, uplink, [linkLocal]] = await Promise.all([
    linkDetails(ns.lan, 'lan0'),
    linkDetails(ns.host, 'eth0'),
    ipv6Addresses(ns.host, 'eth0', 'link'),
  ]);
  if (linkLocal === undefined) throw new Error(`no link-local address on ${ns.host} eth0`);
  let destroyed: Promise<void> | undefined;
  const scenario: Scenario = {
    prefix,
    namespaces: ns,
    lan: { ns: ns.lan, ifname: 'lan0', address: a.lan, mac: lanLink.mac },
    host: { ns: ns.host, uplink: 'eth0', uplinkMac: uplink.mac, uplinkIfindex: uplink.ifindex, uplinkAddress: a.hostUplink, bridge: 'br0', linkLocal },
    container: { ns: ns.container, address: a.container, subnet: a.containerSubnet, gateway: a.bridge },
    lanSources,
    destroy: () => {
      destroyed ??= destroyNamespaces(ns).finally(() => live.delete(scenario));
      return destroyed;
    },
  };
  live.add(scenario);
  return scenario;
}

/** Delete the three namespaces, swallowing every error. */
async function destroyNamespaces(ns: Namespaces): Promise<void> {
  await Promise.all([ns.lan, ns.host, ns.container].map((name) => deleteNamespace(name).catch(() => undefined)));
}

/** Destroy every scenario this process created and has not destroyed yet (for SIGINT handlers). */
export async function destroyAllScenarios(): Promise<void> {
  const half = [...building].map((name) => deleteNamespace(name).catch(() => undefined));
  await Promise.all([...live].map((scenario) => scenario.destroy()).concat(half));
}

/** Scenarios created by this process and not destroyed yet. */
export function liveScenarios(): readonly Scenario[] {
  return [...live];
}
