import { execFileSync } from 'node:child_process';
import { run, runInNamespace } from './exec';
import { sleep } from './wait';

/** Create network namespace `name` (`ip netns add`). */
export async function addNamespace(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
}

/** Names of the namespaces `ip netns list` knows. */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'netns', 'list']);
  if (stdout.trim() === '') return []; // older iproute2 prints nothing when there are none
  const rows = JSON.parse(stdout) as { name?: unknown }[];
  return rows.flatMap((row) => (typeof row.name === 'string' ? [row.name] : []));
}

/** Process ids running inside namespace `name`. */
export async function namespacePids(name: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', name]);
  return stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** True while process `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Send `signal` to each pid that still exists, ignoring ones that are already gone. */
function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already exited
    }
  }
}

/**
 * Stop the processes left inside a lab namespace: SIGTERM, then SIGKILL after `graceMs`.
 * A namespace with live processes outlives `ip netns del`, and its links with it.
 */
export async function stopNamespaceProcesses(name: string, graceMs = 1000): Promise<void> {
  const pids = await namespacePids(name).catch(() => [] as number[]);
  if (pids.length === 0) return;
  signalAll(pids, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(20);
  signalAll(pids.filter(alive), 'SIGKILL');
}

/** Delete namespace `name` after stopping its processes; a missing namespace is not an error. */
export async function deleteNamespace(name: string): Promise<void> {
  await stopNamespaceProcesses(name);
  try {
    await run('ip', ['netns', 'del', name]);
  } catch (error) {
    if ((await listNamespaces().catch(() => [name])).includes(name)) throw error;
  }
}

/** Last-resort synchronous cleanup for process exit: SIGKILL the namespace's processes and delete it. Never throws. */
export function deleteNamespaceSync(name: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8', timeout: 2000 });
    signalAll(pids.split('\n').map(Number).filter((pid) => Number.isInteger(pid) && pid > 0), 'SIGKILL');
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 2000 });
  } catch {
    // already gone, or nothing more can be done while exiting
  }
}

/** Read sysctl `key` in namespace `ns`; when `value` is given, write it first. Returns the value now in force. */
export async function sysctl(ns: string, key: string, value?: string | number): Promise<string> {
  if (value !== undefined) await runInNamespace(ns, 'sysctl', ['-q', '-w', `${key}=${value}`]);
  const { stdout } = await runInNamespace(ns, 'sysctl', ['-n', key]);
  return stdout.trim();
}

/** Write several sysctls in namespace `ns` with one `sysctl -w` run (setup paths, where read-back is not needed). */
export async function writeSysctls(ns: string, settings: Readonly<Record<string, string | number>>): Promise<void> {
  const pairs = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  if (pairs.length > 0) await runInNamespace(ns, 'sysctl', ['-q', '-w', ...pairs]);
}

/** Bring link `ifname` in namespace `ns` up or down. */
export async function setLink(ns: string, ifname: string, state: 'up' | 'down'): Promise<void> {
  await run('ip', ['-n', ns, 'link', 'set', 'dev', ifname, state]);
}

/** What the lab needs to know about one link. */
export interface LinkDetails {
  readonly ifindex: number;
  readonly mac: string;
  readonly operstate: string;
  readonly flags: readonly string[];
  /** STP state of a bridge port ("forwarding", "learning", ...), if the link is enslaved to a bridge. */
  readonly bridgePortState?: string;
}

interface IpLinkJson {
  ifindex?: number;
  address?: string;
  operstate?: string;
  flags?: string[];
  linkinfo?: { info_slave_kind?: string; info_slave_data?: { state?: string } };
}

/** Index, MAC, state and bridge-port state of `ifname` in `ns` (`ip -j -d link show`). */
export async function linkDetails(ns: string, ifname: string): Promise<LinkDetails> {
  const { stdout } = await run('ip', ['-n', ns, '-j', '-d', 'link', 'show', 'dev', ifname]);
  const [link] = JSON.parse(stdout) as IpLinkJson[];
  if (link?.ifindex === undefined || link.address === undefined) {
    throw new Error(`ip link show ${ifname} in ${ns}: no index or address in ${stdout.trim()}`);
  }
  const slave = link.linkinfo?.info_slave_kind === 'bridge' ? link.linkinfo.info_slave_data?.state : undefined;
  return {
    ifindex: link.ifindex,
    mac: link.address.toLowerCase(),
    operstate: link.operstate ?? 'UNKNOWN',
    flags: link.flags ?? [],
    ...(slave === undefined ? {} : { bridgePortState: slave }),
  };
}

interface IpAddrJson {
  addr_info?: { family?: string; local?: string; scope?: string; tentative?: boolean; dadfailed?: boolean }[];
}

/** IPv6 addresses of `ifname` in `ns` with the given scope that are usable (not tentative, not DAD-failed). */
export async function ipv6Addresses(ns: string, ifname: string, scope: 'link' | 'global'): Promise<string[]> {
  const { stdout } = await run('ip', ['-n', ns, '-j', '-6', 'addr', 'show', 'dev', ifname, 'scope', scope]);
  const [link] = JSON.parse(stdout) as IpAddrJson[];
  // Entries filtered out by `scope` appear as empty objects.
  return (link?.addr_info ?? []).flatMap((a) =>
    a.family === 'inet6' && a.local !== undefined && a.tentative !== true && a.dadfailed !== true ? [a.local] : [],
  );
}
