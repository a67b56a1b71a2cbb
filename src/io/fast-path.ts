/**
 * Loads the generated Neighbour Solicitation program with its maps, and
 * attaches it to an uplink. The maps and the program live while this object
 * (or an attached link) holds their fds; close() or the process's death frees
 * them. Reports facts (counters), decides nothing.
 */
import { bindMaps } from '../wire/ebpf/assembler';
import {
  FastPathCounter,
  PASS_REASONS,
  TargetAction,
  encodeFastPathConfig,
  encodeTargetKey,
  fastPathMaps,
  passSlot,
  type FastPathConfig,
  type FastPathMapName,
  type FastPathMapSizes,
  type PassReason,
} from '../wire/ebpf/fast-path-layout';
import { ProgramType } from '../wire/ebpf/kernel-abi';
import { solicitationProgram, type FastPathHook } from '../wire/ebpf/solicitation-program';
import { createMap, loadProgram, programInfo, sumPerCpu, type BpfMap, type BpfProgram, type ProgramInfo } from './bpf';
import { attachTcx, attachXdp, type BpfLink, type TcxPosition, type XdpMode } from './bpf-link';

/** How to load the fast path. */
export interface FastPathOptions extends FastPathConfig, FastPathMapSizes {
  readonly hook: FastPathHook;
  /** Answer in the kernel (XDP_TX / redirect); false: count matches and pass every frame. */
  readonly answer: boolean;
}

/** Counter totals over all CPUs: the fixed ones, and the frames passed to the socket by reason. */
export type FastPathCounters = Record<keyof typeof FastPathCounter, bigint> & { readonly passed: Readonly<Record<PassReason, bigint>> };

/** All zeros (the socket path). */
export function noFastPathCounters(): FastPathCounters {
  const passed = Object.fromEntries(PASS_REASONS.map((reason) => [reason, 0n])) as Record<PassReason, bigint>;
  return { matched: 0n, answered: 0n, deferred: 0n, limited: 0n, passed };
}

/** The loaded program and its maps. */
export class FastPath {
  private constructor(
    readonly hook: FastPathHook,
    readonly program: BpfProgram,
    private readonly maps: Readonly<Record<FastPathMapName, BpfMap>>,
    /** Slots of the generated program. */
    readonly instructionCount: number,
  ) {}

  /** Creates the maps, generates and loads the program (the verifier's log is in a refusal's message). */
  static load(options: FastPathOptions): FastPath {
    const specs = fastPathMaps(options);
    const created: BpfMap[] = [];
    try {
      const maps = Object.fromEntries(
        (Object.keys(specs) as FastPathMapName[]).map((name) => {
          const map = createMap({ ...specs[name], name: `ndp_${name}` });
          created.push(map);
          return [name, map];
        }),
      ) as Record<FastPathMapName, BpfMap>;
      maps.config.update(new Uint8Array(4), encodeFastPathConfig(options));
      const assembled = solicitationProgram({ hook: options.hook, answer: options.answer });
      const instructions = bindMaps(assembled, Object.fromEntries(Object.entries(maps).map(([name, map]) => [name, map.fd])));
      const type = options.hook === 'xdp' ? ProgramType.XDP : ProgramType.SCHED_CLS;
      const program = loadProgram({ type, instructions, name: `ndp_ns_${options.hook}` });
      return new FastPath(options.hook, program, maps, assembled.instructions.length);
    } catch (error) {
      created.forEach((map) => map.close());
      throw error;
    }
  }

  /**
   * Answer (or count) solicitations for this 16-byte address, or every address in the prefix;
   * `answer` false makes an exception inside a served prefix (a longer prefix wins).
   */
  addTarget(address: Uint8Array, prefixLength = 128, answer = true): void {
    const value = new Uint8Array(4);
    value[0] = answer ? TargetAction.ANSWER : TargetAction.PASS;
    this.maps.targets.update(encodeTargetKey(address, prefixLength), value);
  }

  /** Stop matching this address or prefix; false when it was not there. */
  removeTarget(address: Uint8Array, prefixLength = 128): boolean {
    return this.maps.targets.delete(encodeTargetKey(address, prefixLength));
  }

  /** The entries currently in the map. */
  targets(): { address: Uint8Array; prefixLength: number }[] {
    return this.maps.targets.keys().map((key) => ({ address: key.slice(4), prefixLength: new DataView(key.buffer, key.byteOffset).getUint32(0, true) }));
  }

  /** Replaces the MAC, flags, source and limits the NA carries; takes effect for the next frame. */
  configure(config: FastPathConfig): void {
    this.maps.config.update(new Uint8Array(4), encodeFastPathConfig(config));
  }

  /** Forgets every per-flow and per-source bucket (they come back full), and fills the global one. */
  resetLimits(): void {
    for (const map of [this.maps.flows, this.maps.sources]) for (const key of map.keys()) map.delete(key);
    this.maps.global.update(new Uint8Array(4), new Uint8Array(8));
  }

  /** Totals of every counter over all CPUs. */
  counters(): FastPathCounters {
    const read = (slot: number): bigint => {
      const value = this.maps.counters.lookup(Uint8Array.of(slot, 0, 0, 0));
      return value === undefined ? 0n : sumPerCpu(value);
    };
    const totals = noFastPathCounters() as { -readonly [K in keyof FastPathCounters]: FastPathCounters[K] };
    for (const [name, slot] of Object.entries(FastPathCounter) as [keyof typeof FastPathCounter, number][]) totals[name] = read(slot);
    totals.passed = Object.fromEntries(PASS_REASONS.map((reason) => [reason, read(passSlot(reason))])) as Record<PassReason, bigint>;
    return totals;
  }

  /** id, sizes and verifier statistics of the loaded program. */
  info(): ProgramInfo {
    return programInfo(this.program);
  }

  /**
   * Attaches to `ifindex` with a link. XDP never replaces another program. tcx joins the chain,
   * first by default: the program hands every frame it does not answer to the next one (TCX_NEXT).
   */
  attach(ifindex: number, options: { xdpMode?: XdpMode; tcxPosition?: TcxPosition } = {}): BpfLink {
    return this.hook === 'xdp'
      ? attachXdp(this.program, ifindex, options.xdpMode ?? 'auto')
      : attachTcx(this.program, ifindex, { direction: 'ingress', position: options.tcxPosition ?? 'first' });
  }

  /** Closes the program and map fds. Links attached earlier keep the program alive until they close. */
  close(): void {
    this.program.close();
    Object.values(this.maps).forEach((map) => map.close());
  }
}
