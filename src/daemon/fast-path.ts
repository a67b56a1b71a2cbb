/**
 * The in-kernel fast path in the daemon (`--fast-path`): loads the generated NS program,
 * attaches it to the uplink (tcx ingress, else generic XDP; docs/ebpf-fast-path.md "XDP vs
 * tcx on veth": both answer on veth without help from the peer, native XDP does not), keeps
 * its `targets` map equal to the addresses answerable now, re-attaches when the uplink is
 * recreated, and detaches at exit. The packet socket stays open in every mode: whatever the
 * kernel does not answer (prefix targets, DAD probes, other shapes, a failed §7.1.1 row)
 * reaches it unchanged. `auto`, the default, falls back to the socket path with one info line
 * wherever the program cannot be loaded or attached; `bpf` exits 3 there instead.
 */
import { FastPath, type FastPathCounters } from '../io/fast-path';
import type { LinkInfo } from '../io/host-watcher';
import type { Logger } from '../io/log';
import { queryTcx, type BpfLink } from '../io/bpf-link';
import { ExitCode, UserError } from '../model/errors';
import type { FastPathKind, FastPathMode } from '../model/settings';
import type { FastPathConfig } from '../wire/ebpf/fast-path-layout';

const NO_MAC = new Uint8Array(6);

function hex(address: Uint8Array): string {
  return Buffer.from(address).toString('hex');
}

function failure(error: unknown): string {
  const code = (error as { code?: string }).code;
  const rights = code === 'EPERM' || code === 'EACCES' ? ' (needs CAP_BPF and CAP_NET_ADMIN)' : '';
  return `${(error as Error).message}${rights}`;
}

/**
 * What `run --fast-path bpf` would attach on `ifindex`, without attaching: the tc program loads
 * (privileges, verifier) and the device answers a tcx query (Linux 6.6+); else the XDP program
 * loads (generic XDP). Or why not.
 */
export function probeFastPath(ifindex: number | undefined): { kind: Exclude<FastPathKind, 'socket'> } | { reason: string } {
  const config = { mac: NO_MAC, router: false, override: true };
  try {
    FastPath.load({ hook: 'tc', answer: true, ...config }).close();
  } catch (error) {
    return { reason: `cannot load the program: ${failure(error)}` };
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
      return { reason: `no tcx, and the XDP program does not load: ${failure(error)}` };
    }
  }
}

/** The loaded program, its link to the uplink, and the map of answered addresses. */
export class DaemonFastPath {
  private program: FastPath | undefined;
  private link: BpfLink | undefined;
  private attachedTo: number | undefined;
  /** The addresses in the kernel's `targets` map. */
  private wanted = new Map<string, Uint8Array>();
  /** Answerable addresses the map could not take at the last sync (full): the socket path answers them. */
  private overflow = 0;
  /** The path in use. */
  kind: FastPathKind = 'socket';

  constructor(
    private readonly mode: FastPathMode,
    private readonly log: Logger,
  ) {}

  /**
   * Loads and, if the uplink is there, attaches. `bpf`: a refusal is a UserError (exit 3);
   * `auto`: falls back to the socket path with one info line saying why.
   */
  start(uplink: LinkInfo | undefined, config: Omit<FastPathConfig, 'mac'>): void {
    if (this.mode === 'socket') return;
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
    const tc = FastPath.load({ hook: 'tc', answer: true, mac, ...config });
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
      const xdp = FastPath.load({ hook: 'xdp', answer: true, mac, ...config });
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
    if (link.mac !== undefined) this.program.configure({ mac: link.mac, ...config });
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

  /** New NA flags (reload). */
  configure(mac: Uint8Array | undefined, config: Omit<FastPathConfig, 'mac'>): void {
    if (this.program !== undefined && mac !== undefined) this.program.configure({ mac, ...config });
  }

  /**
   * Make the `targets` map hold `addresses` (16 bytes each), the ones answerable now, as far as
   * it can: an address the map refuses (full: more single-address targets than it holds) is
   * left to the socket path, which answers whatever the kernel passes on. One info line when
   * that starts; the next sync tries again.
   */
  sync(addresses: readonly Uint8Array[]): void {
    const program = this.program;
    if (program === undefined) return;
    const next = new Map(addresses.map((a) => [hex(a), a]));
    for (const [key, address] of this.wanted) {
      if (next.has(key)) continue;
      program.removeTarget(address);
      this.wanted.delete(key);
    }
    let refused = 0;
    let firstError: unknown;
    for (const [key, address] of next) {
      if (this.wanted.has(key)) continue;
      try {
        program.addTarget(address);
        this.wanted.set(key, address);
      } catch (error) {
        refused += 1;
        firstError ??= error;
      }
    }
    if (refused > 0 && this.overflow === 0) {
      this.log.info({ inKernel: this.wanted.size, fromSocket: refused, error: failure(firstError) }, 'fast path map full, answering the rest from the socket');
    }
    this.overflow = refused;
  }

  /** Per-CPU counter totals (zeros on the socket path). */
  counters(): FastPathCounters {
    return this.program?.counters() ?? { matched: 0n, answered: 0n, deferred: 0n };
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
