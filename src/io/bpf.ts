/**
 * Typed bpf(2) for generated programs: maps, program load with the verifier's
 * log in the error, test runs, and object info. Attaching lives in
 * bpf-link.ts. Every object owns one fd; close() releases it, and a process
 * that dies releases all of them (the kernel frees what no fd holds).
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { MapUpdate } from '../wire/ebpf/kernel-abi';
import { nativeBpf, type BpfProgLoadOptions } from './native';

/** An fd-owning bpf object (map, program or link). */
export class BpfObject {
  #fd: number;

  /** Takes ownership of `fd`. */
  constructor(fd: number) {
    this.#fd = fd;
  }

  /** The descriptor; throws once closed. */
  get fd(): number {
    if (this.#fd < 0) throw Object.assign(new Error('bpf object is closed'), { code: 'EBADF' });
    return this.#fd;
  }

  /** True until close(). */
  get open(): boolean {
    return this.#fd >= 0;
  }

  /** Releases the fd; idempotent. For a link this detaches (unless another fd still holds it). */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    nativeBpf().bpfClose(fd);
  }
}

/** How to create a map. */
export interface MapOptions {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly name?: string;
}

/** Update semantics: 'any' creates or replaces, 'create' fails with EEXIST, 'replace' with ENOENT. */
export type UpdateMode = 'any' | 'create' | 'replace';
const UPDATE_FLAGS: Readonly<Record<UpdateMode, number>> = { any: MapUpdate.ANY, create: MapUpdate.NOEXIST, replace: MapUpdate.EXIST };

/** A BPF map with fixed-size keys and values. */
export class BpfMap extends BpfObject {
  /** Wraps `fd`, a map created with `options`. */
  constructor(
    fd: number,
    readonly options: MapOptions,
  ) {
    super(fd);
  }

  /** Stores `value` under `key`. */
  update(key: Uint8Array, value: Uint8Array, mode: UpdateMode = 'any'): void {
    this.checkKey(key);
    if (value.length !== this.valueBytes) throw new RangeError(`value must be ${this.valueBytes} bytes, got ${value.length}`);
    nativeBpf().bpfMapUpdate(this.fd, key, value, UPDATE_FLAGS[mode]);
  }

  /** The value under `key`, or undefined. Per-CPU maps return every CPU's value back to back. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    const value = new Uint8Array(this.valueBytes);
    return nativeBpf().bpfMapLookup(this.fd, key, value) ? value : undefined;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: Uint8Array): boolean {
    this.checkKey(key);
    return nativeBpf().bpfMapDelete(this.fd, key);
  }

  /** Every key, in the kernel's order (a snapshot walk: concurrent changes may skip or repeat keys). */
  keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let key: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.options.keySize);
      if (!nativeBpf().bpfMapNextKey(this.fd, key, next)) return out;
      out.push(next);
      key = next;
    }
  }

  /** Bytes of one lookup: valueSize, or valueSize rounded up to 8 times the possible CPUs for per-CPU maps. */
  get valueBytes(): number {
    return isPerCpu(this.options.type) ? Math.ceil(this.options.valueSize / 8) * 8 * possibleCpus() : this.options.valueSize;
  }

  private checkKey(key: Uint8Array): void {
    if (key.length !== this.options.keySize) throw new RangeError(`key must be ${this.options.keySize} bytes, got ${key.length}`);
  }
}

/** Creates a map; throws a native error (code EPERM without CAP_BPF, E2BIG, EINVAL...). */
export function createMap(options: MapOptions): BpfMap {
  return new BpfMap(nativeBpf().bpfMapCreate({ ...options }), options);
}

const PERCPU_TYPES = new Set([5, 6, 10]); // PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH
function isPerCpu(type: number): boolean {
  return PERCPU_TYPES.has(type);
}

let cpus: number | undefined;
/** Possible CPUs (/sys/devices/system/cpu/possible, e.g. "0-7"): the slots of a per-CPU value. */
export function possibleCpus(): number {
  if (cpus !== undefined) return cpus;
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  cpus = Math.max(...text.split(',').map((range) => Number(range.split('-').pop()))) + 1;
  return cpus;
}

/** Sums a per-CPU array of u64 values (as a lookup returns it) across CPUs. */
export function sumPerCpu(value: Uint8Array): bigint {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  let sum = 0n;
  for (let offset = 0; offset + 8 <= value.length; offset += 8) sum += view.getBigUint64(offset, true);
  return sum;
}

/** How to load a program. */
export interface ProgramOptions {
  readonly type: number;
  /** Encoded instructions with map fds bound (see bindMaps). */
  readonly instructions: Uint8Array;
  /** Default 'Dual MIT/GPL': the project's license, GPL-compatible so GPL-only helpers and kfuncs stay usable. */
  readonly license?: string;
  readonly name?: string;
  readonly expectedAttachType?: number;
}

/** A program the verifier refused: the errno plus its log, which says which instruction and why. */
export interface VerifierError extends Error {
  code: string;
  errno: number;
  syscall: string;
  /** The verifier's log (level 1), '' when it wrote none. */
  log: string;
}

/** Bytes of verifier log kept for a refused program: plenty for programs of a few hundred slots. */
const LOG_BYTES = 4 << 20;

/** A loaded program. */
export class BpfProgram extends BpfObject {}

/**
 * Loads a program. A refused program is loaded again with the verifier log on, and the error's
 * message ends with that log (also in `.log`).
 */
export function loadProgram(options: ProgramOptions): BpfProgram {
  if (endianness() !== 'LE') throw new Error('eBPF programs are generated for little-endian hosts only');
  const request: BpfProgLoadOptions = {
    type: options.type,
    instructions: options.instructions,
    license: options.license ?? 'Dual MIT/GPL',
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.expectedAttachType === undefined ? {} : { expectedAttachType: options.expectedAttachType }),
  };
  try {
    return new BpfProgram(nativeBpf().bpfProgLoad(request));
  } catch {
    const log = new Uint8Array(LOG_BYTES);
    try {
      return new BpfProgram(nativeBpf().bpfProgLoad({ ...request, log, logLevel: 1 }));
    } catch (error) {
      const text = Buffer.from(log.subarray(0, Math.max(0, log.indexOf(0)))).toString('utf8').trimEnd();
      const refused = error as VerifierError;
      refused.log = text;
      if (text !== '') refused.message = `${refused.message}; verifier log:\n${text}`;
      throw refused;
    }
  }
}

/** One BPF_PROG_TEST_RUN. */
export interface TestRunResult {
  /** The program's return value (XDP action, tc verdict). */
  readonly retval: number;
  /** Mean nanoseconds per run, as the kernel measured it over `repeat` runs. */
  readonly durationNs: number;
  /** The frame after the program (rewrites included). */
  readonly data: Uint8Array;
}

/** Runs `program` on `frame` `repeat` times in the kernel (no device involved). */
export function testRun(program: BpfProgram, frame: Uint8Array, repeat = 1, outputBytes = frame.length + 256): TestRunResult {
  const dataOut = new Uint8Array(outputBytes);
  const result = nativeBpf().bpfProgTestRun(program.fd, { dataIn: frame, dataOut, repeat });
  return { retval: result.retval | 0, durationNs: result.duration, data: dataOut.subarray(0, result.dataSizeOut) };
}

/** What the kernel reports about a loaded program (struct bpf_prog_info). */
export interface ProgramInfo {
  readonly id: number;
  readonly type: number;
  readonly name: string;
  /** Instructions after the verifier's rewrites. */
  readonly translatedInstructions: number;
  /** Bytes of JIT-compiled machine code (0 without the JIT). */
  readonly jitedBytes: number;
  /** Instructions the verifier processed across all paths (Linux 5.16+). */
  readonly verifiedInstructions: number;
  /** Time and runs, counted only while kernel.bpf_stats_enabled=1. */
  readonly runTimeNs: bigint;
  readonly runCount: bigint;
}

/** BPF_OBJ_GET_INFO_BY_FD for a program. */
export function programInfo(program: BpfProgram): ProgramInfo {
  const info = new Uint8Array(232);
  nativeBpf().bpfObjGetInfo(program.fd, info);
  const view = new DataView(info.buffer);
  const nameBytes = info.subarray(64, 80);
  return {
    type: view.getUint32(0, true),
    id: view.getUint32(4, true),
    jitedBytes: view.getUint32(16, true),
    translatedInstructions: view.getUint32(20, true) / 8,
    name: Buffer.from(nameBytes.subarray(0, Math.max(0, nameBytes.indexOf(0)))).toString('utf8'),
    runTimeNs: view.getBigUint64(192, true),
    runCount: view.getBigUint64(200, true),
    verifiedInstructions: view.getUint32(216, true),
  };
}
