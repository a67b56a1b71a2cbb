/**
 * The in-kernel fast path in the daemon (`--fast-path`): loads the generated NS program,
 * attaches it to the uplink (tcx ingress, else generic XDP; docs/ebpf-fast-path.md "XDP vs
 * tcx on veth": both answer on veth without help from the peer, native XDP does not), keeps
 * its `targets` map equal to the addresses answerable now, re-attaches when the uplink is
 * recreated, and detaches at exit. The packet socket stays open in every mode: whatever the
 * kernel does not answer (prefix targets, DAD probes, other shapes, a failed §7.1.1 row)
 * reaches it unchanged. The answer limits hold on both paths: the kernel keeps its own buckets
 * (per flow, per source, global, with the socket path's rates) and drops what they refuse.
 * `auto`, the default, falls back to the socket path with one info line wherever the program
 * cannot be loaded or attached; `bpf` exits 3 there instead.
 */
import { FastPath, noFastPathCounters, type FastPathCounters } from '../io/fast-path';
import type { LinkInfo } from '../io/host-watcher';
import type { Logger } from '../io/log';
import { queryTcx, type BpfLink } from '../io/bpf-link';
import { effectiveCapabilities } from '../io/capabilities';
import { FAST_PATH_CAPABILITIES, capabilityList, fastPathPrivilegeReason } from '../core/privileges';
import { ExitCode, UserError } from '../model/errors';
import type { FastPathKind, FastPathMode } from '../model/settings';
import type { FastPathConfig, FastPathMapSizes } from '../wire/ebpf/fast-path-layout';

const NO_MAC = new Uint8Array(6);

function hex(address: Uint8Array): string {
  return Buffer.from(address).toString('hex');
}

/**
 * One line for a refused load or attach. A refusal for want of rights names what is missing
 * (core/privileges.ts); with the capabilities in place it can only be a seccomp filter or a
 * security module refusing bpf(2), and says so.
 */
function failure(error: unknown, capabilities: bigint = effectiveCapabilities()): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message;
  if (code !== 'EPERM' && code !== 'EACCES') return message;
  const missing = fastPathPrivilegeReason(capabilities);
  if (missing !== undefined) return `${message}: ${missing}`;
  return `${message} although ${capabilityList(FAST_PATH_CAPABILITIES)} are effective: a seccomp filter, a security module or a user namespace refuses bpf(2)`;
}

/**
 * What `run --fast-path bpf` would attach on `ifindex`, without attaching: the capabilities are
 * there (core/privileges.ts), the tc program loads (verifier, seccomp) and the device answers a
 * tcx query (Linux 6.6+); else the XDP program loads (generic XDP). Or why not.
 */
export function probeFastPath(ifindex: number | undefined, capabilities: bigint): { kind: Exclude<FastPathKind, 'socket'> } | { reason: string } {
  const missing = fastPathPrivilegeReason(capabilities);
  if (missing !== undefined) return { reason: missing };
  const config = { mac: NO_MAC, router: false, override: true };
  try {
    FastPath.load({ hook: 'tc', answer: true, ...config }).close();
  } catch (error) {
    return { reason: `cannot load the program: ${failure(error, capabilities)}` };
  }
  if (ifindex === undefined) return { kind: 'bpf-tcx' };
  try {
    queryTcx(ifindex);
    return { kind: 'bpf-tcx' };
  } catch {
    try {
      FastPath.load({ hook: 'xdp', answer: true, ...config }).close();
      return { kind: 'bpf-xdp-generic' };
    } catch (error) {
      return { reason: `no tcx, and the XDP program does not load: ${failure(error, capabilities)}` };
    }
  }
}

/** One entry of the kernel's `targets` map. */
export interface KernelTarget {
  readonly address: Uint8Array;
  readonly prefixLength: number;
  /** False: an exception inside a served prefix (e.g. the host's own address), left to userspace. */
  readonly answer: boolean;
}

/** The loaded program, its link to the uplink, and the map of answered addresses. */
export class DaemonFastPath {
  private program: FastPath | undefined;
  private link: BpfLink | undefined;
  private attachedTo: number | undefined;
  /** The entries in the kernel's `targets` map, by address/prefix length. */
  private wanted = new Map<string, KernelTarget>();
  /** Answerable entries the map could not take at the last sync (full): the socket path answers them. */
  private overflow = 0;
  /** The MAC the NA carries: the uplink's, kept for a reconfigure that does not know it. */
  private mac: Uint8Array = NO_MAC;
  /** The path in use. */
  kind: FastPathKind = 'socket';

  constructor(
    private readonly mode: FastPathMode,
    private readonly log: Logger,
    /** Bounds of the limit maps (the socket path's table sizes), fixed at load. */
    private readonly sizes: FastPathMapSizes = {},
  ) {}

  /**
   * Loads and, if the uplink is there, attaches. Without the capabilities (core/privileges.ts)
   * nothing is tried. `bpf`: a refusal is a UserError (exit 3); `auto`: falls back to the socket
   * path with one info line saying why.
   */
  start(uplink: LinkInfo | undefined, config: Omit<FastPathConfig, 'mac'>): void {
    if (this.mode === 'socket') return;
    const missing = fastPathPrivilegeReason(effectiveCapabilities());
    if (missing !== undefined) {
      if (this.mode === 'bpf') throw new UserError(`cannot use the in-kernel fast path: ${missing}`, ExitCode.Environment);
      this.log.info({ fastPath: 'socket', reason: missing }, 'fast path unavailable, answering from the socket');
      return;
    }
    try {
      this.program = this.loadAndAttach(uplink, config);
    } catch (error) {
      this.stop();
      if (this.mode === 'bpf') throw new UserError(`cannot use the in-kernel fast path: ${failure(error)}`, ExitCode.Environment);
      this.log.info({ fastPath: 'socket', reason: failure(error) }, 'fast path unavailable, answering from the socket');
      return;
    }
    this.log.info({ fastPath: this.kind, ifindex: this.attachedTo ?? null }, 'answering in the kernel for single-address targets');
  }

  private loadAndAttach(uplink: LinkInfo | undefined, config: Omit<FastPathConfig, 'mac'>): FastPath {
    const mac = uplink?.mac ?? NO_MAC;
    this.mac = mac;
    const tc = FastPath.load({ hook: 'tc', answer: true, mac, ...config, ...this.sizes });
    if (uplink === undefined) {
      this.kind = 'bpf-tcx';
      return tc;
    }
    try {
      this.link = tc.attach(uplink.ifindex);
      this.kind = 'bpf-tcx';
      this.attachedTo = uplink.ifindex;
      return tc;
    } catch (error) {
      tc.close();
      // No tcx (Linux < 6.6): generic XDP answers on any device, veth included.
      const xdp = FastPath.load({ hook: 'xdp', answer: true, mac, ...config, ...this.sizes });
      try {
        this.link = xdp.attach(uplink.ifindex, { xdpMode: 'generic' });
      } catch (xdpError) {
        xdp.close();
        throw new Error(`${(error as Error).message}; generic XDP: ${(xdpError as Error).message}`);
      }
      this.kind = 'bpf-xdp-generic';
      this.attachedTo = uplink.ifindex;
      return xdp;
    }
  }

  /** The uplink's socket opened (start or after a flap): attach to its ifindex, with its MAC. */
  opened(link: LinkInfo, config: Omit<FastPathConfig, 'mac'>): void {
    if (this.program === undefined) return;
    if (link.mac !== undefined) this.mac = link.mac;
    this.program.configure({ mac: this.mac, ...config });
    if (this.attachedTo === link.ifindex && this.link?.open === true) return;
    this.detach();
    try {
      this.link = this.program.attach(link.ifindex, this.program.hook === 'xdp' ? { xdpMode: 'generic' } : {});
      this.attachedTo = link.ifindex;
      this.log.info({ fastPath: this.kind, ifindex: link.ifindex }, 'fast path attached');
    } catch (error) {
      this.log.warn({ ifindex: link.ifindex, error: failure(error) }, 'fast path attach failed, answering from the socket');
    }
  }

  /** The uplink went down or away: drop the link (a recreated device gets a new one). */
  closed(): void {
    this.detach();
  }

  /** New NA flags, source or limits (reload, a new link-local address); the MAC stays the uplink's. */
  configure(config: Omit<FastPathConfig, 'mac'>): void {
    this.program?.configure({ mac: this.mac, ...config });
  }

  /** Every kernel bucket restarts full, as the socket path's do on a reload. */
  resetLimits(): void {
    this.program?.resetLimits();
  }

  /**
   * Make the `targets` map hold `entries` as far as it can: the addresses and prefixes
   * answerable now, and the exceptions inside them (`answer` false) that only the socket path
   * may decide on. Exceptions go in first, and a prefix only when every exception did: an
   * entry the map refuses (full) is left to the socket path, which answers whatever the kernel
   * passes on. One info line when that starts; the next sync tries again.
   */
  sync(entries: readonly KernelTarget[]): void {
    const program = this.program;
    if (program === undefined) return;
    const next = new Map(entries.map((e) => [`${hex(e.address)}/${e.prefixLength}`, e]));
    for (const [key, e] of this.wanted) {
      if (next.get(key)?.answer === e.answer) continue;
      program.removeTarget(e.address, e.prefixLength);
      this.wanted.delete(key);
    }
    let refused = 0;
    let firstError: unknown;
    let exceptionRefused = false;
    const exceptionsFirst = [...next].sort(([, a], [, b]) => Number(a.answer) - Number(b.answer));
    for (const [key, e] of exceptionsFirst) {
      if (this.wanted.has(key)) continue;
      if (e.answer && e.prefixLength < 128 && exceptionRefused) {
        refused += 1;
        continue;
      }
      try {
        program.addTarget(e.address, e.prefixLength, e.answer);
        this.wanted.set(key, e);
      } catch (error) {
        refused += 1;
        firstError ??= error;
        if (!e.answer) exceptionRefused = true;
      }
    }
    if (refused > 0 && this.overflow === 0) {
      this.log.info({ inKernel: this.wanted.size, fromSocket: refused, error: failure(firstError) }, 'fast path map full, answering the rest from the socket');
    }
    this.overflow = refused;
  }

  /** Whether the program is attached to the uplink now (false while it waits for one). */
  get attached(): boolean {
    return this.link?.open === true;
  }

  /** Per-CPU counter totals (zeros on the socket path). */
  counters(): FastPathCounters {
    return this.program?.counters() ?? noFastPathCounters();
  }

  /** Detach and free the program and maps (exit). */
  stop(): void {
    this.detach();
    this.program?.close();
    this.program = undefined;
  }

  private detach(): void {
    if (this.link?.open === true) this.link.close();
    this.link = undefined;
    this.attachedTo = undefined;
  }
}
