import { runInNamespace } from '../../src/lab/exec';
import type { Scenario } from '../../src/lab/topology';

/** A new veth pair `ifname` (host) / lan0 (LAN) with `mac` on the host side, addressed and up, as a network manager would. */
export async function plugUplink(lab: Scenario, ifname: string, mac: string): Promise<void> {
  const host = (...args: string[]): Promise<unknown> => runInNamespace(lab.host.ns, 'ip', args);
  const lan = (...args: string[]): Promise<unknown> => runInNamespace(lab.lan.ns, 'ip', args);
  await host('link', 'add', ifname, 'address', mac, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', lab.lan.ns);
  await host('-6', 'addr', 'add', `${lab.host.uplinkAddress}/64`, 'dev', ifname, 'nodad');
  await lan('-6', 'addr', 'add', `${lab.lan.address}/64`, 'dev', 'lan0', 'nodad');
  await lan('link', 'set', 'lan0', 'up');
  await host('link', 'set', ifname, 'up');
}

/** The link-layer address the LAN kernel has cached for `address`, if any. */
export async function lanNeighbourMac(lab: Scenario, address: string): Promise<string | undefined> {
  const { stdout } = await runInNamespace(lab.lan.ns, 'ip', ['-6', 'neigh', 'show', address, 'dev', 'lan0']);
  return /lladdr ([0-9a-f:]{17})/.exec(stdout)?.[1];
}
