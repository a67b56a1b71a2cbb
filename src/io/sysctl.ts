import { readFileSync, writeFileSync } from 'node:fs';

/** Path of an IPv6 per-interface sysctl ("all", "default" or an interface name). */
function confPath(ifname: string, key: string): string {
  return `/proc/sys/net/ipv6/conf/${ifname}/${key}`;
}

/** Read `net.ipv6.conf.IF.KEY` as a number; undefined when the interface or key does not exist. */
export function readIpv6Conf(ifname: string, key: string): number | undefined {
  try {
    const value = Number(readFileSync(confPath(ifname, key), 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Write `net.ipv6.conf.IF.KEY`; throws the fs error (EACCES without CAP_NET_ADMIN / read-only /proc/sys). */
export function writeIpv6Conf(ifname: string, key: string, value: number): void {
  writeFileSync(confPath(ifname, key), `${value}\n`);
}
