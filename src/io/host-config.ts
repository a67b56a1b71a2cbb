import type { Target } from '../model/target';
import type { Logger } from './log';
import { encodeRouteChangeRequest, RouteProtocol } from '../wire/rtnetlink';
import type { HostWatcher } from './host-watcher';
import { NetlinkRequestError } from './rtnetlink-client';
import { readIpv6Conf, writeIpv6Conf } from './sysctl';

/**
 * `--configure-host`: turns forwarding on, accept_ra 1→2 on the uplink, and adds missing
 * `TARGET dev VIA` routes. Only the routes are undone at exit; sysctls stay as set.
 */
export class HostConfigurator {
  private readonly added: { target: Target; ifindex: number }[] = [];

  constructor(
    private readonly watcher: HostWatcher,
    private readonly log: Logger,
  ) {}

  /** Fix the sysctls; logs each change. */
  fixSysctls(uplink: string): void {
    if (readIpv6Conf('all', 'forwarding') !== 1) {
      writeIpv6Conf('all', 'forwarding', 1);
      this.log.info({ sysctl: 'net.ipv6.conf.all.forwarding', value: 1 }, 'host configured');
    }
    if (readIpv6Conf(uplink, 'accept_ra') === 1) {
      writeIpv6Conf(uplink, 'accept_ra', 2);
      this.log.info({ sysctl: `net.ipv6.conf.${uplink}.accept_ra`, value: 2 }, 'host configured');
    }
  }

  /** Add a route out of `via` for every target whose route does not already leave there. */
  async ensureRoutes(targets: readonly Target[], globalVia: string | undefined): Promise<void> {
    for (const target of targets) {
      const via = target.via ?? globalVia;
      if (via === undefined) continue;
      const link = this.watcher.linkByName(via);
      const route = this.watcher.routeOf(target);
      if (link === undefined || (route.kind === 'interface' && route.ifname === via)) continue;
      if (this.added.some((a) => a.target.text === target.text && a.ifindex === link.ifindex)) continue;
      if (!(await this.change('add', target, link.ifindex))) continue;
      this.added.push({ target, ifindex: link.ifindex });
      this.log.info({ route: `${target.text} dev ${via}` }, 'route added');
    }
    await this.watcher.refreshRoutes();
  }

  /** Remove the routes this process added. Errors (route already gone) are ignored. */
  async undo(): Promise<void> {
    for (const { target, ifindex } of this.added.splice(0)) {
      try {
        await this.change('delete', target, ifindex);
        this.log.info({ route: target.text }, 'route removed');
      } catch {
        // gone already (e.g. the bridge was deleted)
      }
    }
  }

  /** Returns false when the route already existed (then it is not ours to remove). */
  private async change(op: 'add' | 'delete', target: Target, ifindex: number): Promise<boolean> {
    const client = this.watcher.netlink;
    const seq = client.nextSequence();
    const request = encodeRouteChangeRequest(seq, {
      op,
      destination: target.address,
      prefixLength: target.prefixLength,
      outputInterface: ifindex,
      protocol: RouteProtocol.Static,
    });
    try {
      await client.request(seq, request, 'ack');
      return true;
    } catch (error) {
      if (op === 'add' && error instanceof NetlinkRequestError && error.code === 'EEXIST') return false;
      throw error;
    }
  }
}
