/** Start-up warnings: host settings that would make the responder's answers useless. */
import { sysctlFailures } from '../core/host-checks';
import type { TargetSet } from '../core/target-set';
import type { HostWatcher } from '../io/host-watcher';
import type { Logger } from '../io/log';
import { readIpv6Conf } from '../io/sysctl';
import { formatIpv6 } from '../wire/address';

/** Warn about forwarding and accept_ra; the rules are `check`'s own (core/host-checks). */
export function warnSysctls(uplink: string, log: Logger): void {
  const failures = sysctlFailures(readIpv6Conf('all', 'forwarding'), uplink, readIpv6Conf(uplink, 'accept_ra'));
  for (const failure of failures) {
    const problem = failure.check === 'forwarding' ? 'forwarding-off' : 'accept-ra-1';
    log.warn({ problem, fix: failure.fixes.join('; ') }, failure.message);
  }
}

/** Kernel proxy entries for our targets make the kernel answer too, late (docs/design.md "Kernel proxy_ndp"). */
export async function warnKernelProxies(watcher: HostWatcher, targets: TargetSet, log: Logger): Promise<void> {
  const entries = await watcher.kernelProxyEntries().catch(() => []);
  for (const { address, ifname } of entries) {
    if (targets.match(address) === undefined) continue;
    const target = formatIpv6(address);
    log.warn({ target, interface: ifname, fix: `ip -6 neigh del proxy ${target} dev ${ifname}` }, 'kernel proxy entry for a target: the kernel answers too, up to 0.8 s late');
  }
}
