import { readFileSync } from 'node:fs';
import { checkExitCode, evaluateHost, formatReport, type HostFacts, type ProxyEntryFacts, type UplinkFacts } from '../core/host-checks';
import type { RouteInfo } from '../model/target';
import type { Target } from '../model/target';
import { ExitCode, UserError } from '../model/errors';
import { parseConfigText } from '../config/file';
import { checkInterfaceName, parseFastPathMode } from '../config/run-options';
import { effectiveCapabilities } from '../io/capabilities';
import { parseTarget } from '../core/parse-target';
import { HostWatcher } from '../io/host-watcher';
import { readIpv6Conf } from '../io/sysctl';
import { formatIpv6 } from '../wire/address';
import type { FastPathMode } from '../model/settings';
import { probeFastPath } from './fast-path';

/** Raw options of `ndp-responder check` as commander hands them over. */
export interface RawCheckOptions {
  interface?: string;
  target?: string[];
  via?: string;
  config?: string;
  fastPath?: string;
}

/** What `check` looks at, validated. */
export interface CheckRequest {
  readonly interface: string | undefined;
  readonly targets: readonly Target[];
  readonly via: string | undefined;
  readonly fastPath: FastPathMode;
}

/** `interface`, `via` and `targets` of a `--config` file (the loader `run` uses); flags given on the command line win. */
function withConfigFile(raw: RawCheckOptions): RawCheckOptions {
  if (raw.config === undefined) return raw;
  let text: string;
  try {
    text = readFileSync(raw.config, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read --config ${raw.config}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, ExitCode.Usage);
  }
  const file = parseConfigText(text, raw.config);
  return {
    interface: raw.interface ?? (file.interface as string | undefined),
    target: raw.target ?? (file.target as string[] | undefined),
    via: raw.via ?? (file.via as string | undefined),
    fastPath: raw.fastPath ?? (file.fastPath as string | undefined),
  };
}

/** Validate `check` options (and the `--config` file) at the boundary (UserError, exit 2). */
export function parseCheckOptions(raw: RawCheckOptions): CheckRequest {
  const options = withConfigFile(raw);
  return {
    fastPath: parseFastPathMode(options.fastPath),
    interface: options.interface === undefined ? undefined : checkInterfaceName('--interface', options.interface),
    targets: (options.target ?? []).map((t) => parseTarget(t)),
    via: options.via === undefined ? undefined : checkInterfaceName('--via', options.via),
  };
}

function uplinkFacts(watcher: HostWatcher, name: string): UplinkFacts {
  const link = watcher.linkByName(name);
  const sysctls = { acceptRa: readIpv6Conf(name, 'accept_ra'), proxyNdp: readIpv6Conf(name, 'proxy_ndp') };
  if (link === undefined) return { name, exists: false, up: false, ...sysctls };
  return { name, exists: true, up: link.up, ifindex: link.ifindex, mac: link.mac, ...sysctls };
}

/** Kernel proxy_ndp entries, with the proxy_ndp sysctl of each entry's interface. */
async function proxyEntries(watcher: HostWatcher): Promise<ProxyEntryFacts[]> {
  const entries = await watcher.kernelProxyEntries();
  return entries.map(({ address, ifname }) => ({ address, addressText: formatIpv6(address), ifname, deviceProxyNdp: readIpv6Conf(ifname, 'proxy_ndp') }));
}

/** Read the host once: sysctls, links, routes of the targets, proxy entries, capabilities. */
export async function gatherHostFacts(request: CheckRequest): Promise<HostFacts> {
  const watcher = new HostWatcher();
  const capabilities = effectiveCapabilities();
  try {
    await watcher.start(request.targets);
    const routes = new Map<string, RouteInfo>(request.targets.map((t) => [t.text, watcher.routeOf(t)]));
    return {
      forwarding: readIpv6Conf('all', 'forwarding'),
      proxyNdpAll: readIpv6Conf('all', 'proxy_ndp'),
      uplink: request.interface === undefined ? undefined : uplinkFacts(watcher, request.interface),
      via: request.via,
      viaExists: request.via !== undefined && watcher.linkByName(request.via) !== undefined,
      targets: request.targets,
      routes,
      proxyEntries: await proxyEntries(watcher),
      capabilities,
      fastPath: { mode: request.fastPath, available: probeFastPath(watcher.linkByName(request.interface ?? '')?.ifindex, capabilities) },
    };
  } catch (error) {
    throw new UserError(`cannot read the host's links and routes over rtnetlink: ${(error as Error).message}`, ExitCode.Environment);
  } finally {
    watcher.stop();
  }
}

/** `ndp-responder check`: print the report and return the exit code (1 when something would stop the responder). */
export async function runCheck(raw: RawCheckOptions, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const request = parseCheckOptions(raw);
  const results = evaluateHost(await gatherHostFacts(request));
  write(formatReport(results));
  return checkExitCode(results);
}
