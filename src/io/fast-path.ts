/**
 * Loads the generated Neighbour Solicitation program with its maps, and
 * attaches it to an uplink. The maps and the program live while this object
 * (or an attached link) holds their fds; close() or the process's death frees
 * them. Reports facts (counters), decides nothing.
 */
import { bindMaps } from '../wire/ebpf/assembler';
import {
  DEFAULT_MAX_TARGETS,
  FastPathCounter,
  encodeFastPathConfig,
  fastPathMaps,
  type FastPathConfig,
} from '../wire/ebpf/fast-path-layout';
import { ProgramType } from '../wire/ebpf/kernel-abi';
import { solicitationProgram, type FastPathHook } from '../wire/ebpf/solicitation-program';
import { createMap, loadProgram, programInfo, sumPerCpu, type BpfMap, type BpfProgram, type ProgramInfo } from './bpf';
import { attachTcx, attachXdp, type BpfLink, type TcxPosition, type XdpMode } from './bpf-link';

/** How to load the fast path. */
export interface FastPathOptions extends FastPathConfig {
  readonly hook: FastPathHook;
  /** Answer in the kernel (XDP_TX / redirect); false: count matches and pass every frame. */
  readonly answer: boolean;
  readonly maxTargets?: number;
}

/** Counter totals over all CPUs. */
export type FastPathCounters = Record<keyof typeof FastPathCounter, bigint>;

const TARGET_VALUE = new Uint8Array(4); // reserved, 0

/** The loaded program and its maps. */
export class FastPath {
  private constructor(
    readonly hook: FastPathHook,
    readonly program: BpfProgram,
    private readonly maps: Readonly<Record<'targets' | 'config' | 'counters', BpfMap>>,
    /** Slots of the generated program. */
    readonly instructionCount: number,
  ) {}

  /** Creates the maps, generates and loads the program (the verifier's log is in a refusal's message). */
  static load(options: FastPathOptions): FastPath {
    const specs = fastPathMaps(options.maxTargets ?? DEFAULT_MAX_TARGETS);
    const created: BpfMap[] = [];
    try {
      const make = (name: keyof typeof specs): BpfMap => {
        const map = createMap({ ...specs[name], name: `ndp_${name}` });
        created.push(map);
        return map;
      };
      const maps = { targets: make('targets'), config: make('config'), counters: make('counters') };
      maps.config.update(new Uint8Array(4), encodeFastPathConfig(options));
      const assembled = solicitationProgram({ hook: options.hook, answer: options.answer });
      const instructions = bindMaps(assembled, { targets: maps.targets.fd, config: maps.config.fd, counters: maps.counters.fd });
      const type = options.hook === 'xdp' ? ProgramType.XDP : ProgramType.SCHED_CLS;
      const program = loadProgram({ type, instructions, name: `ndp_ns_${options.hook}` });
      return new FastPath(options.hook, program, maps, assembled.instructions.length);
    } catch (error) {
      created.forEach((map) => map.close());
      throw error;
    }
  }

  /** Answer (or count) solicitations for this 16-byte address. */
  addTarget(address: Uint8Array): void {
    this.maps.targets.update(address, TARGET_VALUE);
  }

  /** Stop matching this address; false when it was not there. */
  removeTarget(address: Uint8Array): boolean {
    return this.maps.targets.delete(address);
  }

  /** The addresses currently in the map. */
  targets(): Uint8Array[] {
    return this.maps.targets.keys();
  }

  /** Replaces the MAC and flags the NA carries; takes effect for the next frame. */
  configure(config: FastPathConfig): void {
    this.maps.config.update(new Uint8Array(4), encodeFastPathConfig(config));
  }

  /** Totals of every counter over all CPUs. */
  counters(): FastPathCounters {
    const totals = {} as FastPathCounters;
    for (const [name, slot] of Object.entries(FastPathCounter) as [keyof typeof FastPathCounter, number][]) {
      const value = this.maps.counters.lookup(Uint8Array.of(slot, 0, 0, 0));
      totals[name] = value === undefined ? 0n : sumPerCpu(value);
    }
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
