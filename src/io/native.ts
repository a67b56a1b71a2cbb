/**
 * Typed loader for the `ndp_native` addon (native/): AF_PACKET and NETLINK_ROUTE
 * sockets, if_nametoindex and CLOCK_REALTIME. The addon only makes system calls;
 * every byte it hands over is parsed in JavaScript.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExitCode, UserError } from '../model/errors';
import { BPF_MAXINSNS, encodeSockFilter, type BpfInstruction } from '../wire/bpf-assembler';

/** One classic BPF instruction, as in struct sock_filter (k may be given as a signed 32-bit value). */
export type { BpfInstruction };

/** A failed system call. `code` is the errno name ('ENETDOWN'), `errno` the positive Linux value. */
export interface NativeError {
  code: string;
  errno: number;
  syscall: string;
  message: string;
}

/** How to open a packet socket on one interface. */
export interface PacketSocketOptions {
  /** Interface to bind (must be > 0: ifindex 0 would mean every interface). */
  ifindex: number;
  /** Attached with SO_ATTACH_FILTER before bind, so no unfiltered frame is ever queued. */
  filter: readonly BpfInstruction[];
  /** Max frames drained per wake-up with one recvmmsg (default 64, 1..1024). */
  batch?: number;
  /** Receive slot per frame (default 16384, 64..262144); longer frames are cut and flagged. */
  slotSize?: number;
  /** Default true. False: a send-only socket with protocol 0 (no receive queue) and no polling. */
  receive?: boolean;
  /** PACKET_QDISC_BYPASS (benchmark sender). */
  qdiscBypass?: boolean;
  /**
   * Hand the same Buffer (batch × slotSize bytes, frames packed from 0) and meta array to every
   * onFrames call instead of fresh ones: a wake-up then allocates nothing. The handler must not
   * keep either past the call.
   */
  reuseBuffer?: boolean;
  /** Frames packed back to back in a fresh Buffer; meta holds META_WORDS u32 per frame. */
  onFrames?: (data: Buffer, count: number, meta: Uint32Array) => void;
  /** Socket error (e.g. ENETDOWN when the link goes down): polling has stopped; close and reopen. */
  onError?: (err: NativeError) => void;
}

/** An open AF_PACKET socket bound to one interface. */
export interface PacketSocket {
  /** Sends one whole Ethernet frame; throws a NativeError-shaped Error (EAGAIN included). */
  send(frame: Uint8Array): void;
  /**
   * Sends `count` frames packed back to back with sendmmsg. Returns how many went out: fewer
   * on EAGAIN, or on a hard error after some were sent (the next call then throws it).
   */
  sendBatch(frames: Uint8Array, lengths: Uint32Array, count: number): number;
  /** PACKET_ADD_MEMBERSHIP: one multicast MAC, or every multicast frame (reverted on close). */
  addMembership(kind: 'multicast', mac: Uint8Array): void;
  addMembership(kind: 'allmulti'): void;
  /** PACKET_DROP_MEMBERSHIP; dropping one never added is a no-op (the kernel returns 0). */
  dropMembership(kind: 'multicast', mac: Uint8Array): void;
  dropMembership(kind: 'allmulti'): void;
  /** Replaces the filter atomically (SO_ATTACH_FILTER again). */
  setFilter(filter: readonly BpfInstruction[]): void;
  /** PACKET_STATISTICS since the last call (the kernel resets them); `packets` includes `drops`. */
  statistics(): { packets: number; drops: number };
  /** The descriptor, or -1 once closed. */
  readonly fd: number;
  /** Stops polling and closes the descriptor; idempotent. */
  close(): void;
}

/** How to open a NETLINK_ROUTE socket. */
export interface NetlinkSocketOptions {
  /** nl_groups bitmask, e.g. RTMGRP_LINK | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE. */
  groups: number;
  /** Called once per datagram from the kernel (datagrams from other ports are dropped). */
  onMessages: (datagram: Buffer) => void;
  /** ENOBUFS (overrun) and EMSGSIZE keep polling, so JS should re-dump; other errors stop it. */
  onError?: (err: NativeError) => void;
  /** SO_RCVBUFFORCE size in bytes (default 4 MiB; plain SO_RCVBUF without CAP_NET_ADMIN). */
  receiveBuffer?: number;
}

/** An open NETLINK_ROUTE socket. */
export interface NetlinkSocket {
  /** Sends one request to the kernel; throws a NativeError-shaped Error. */
  send(message: Uint8Array): void;
  /** Stops polling and closes the descriptor; idempotent. */
  close(): void;
  /** The descriptor, or -1 once closed. */
  readonly fd: number;
  /** The kernel-assigned port id (nl_pid) of this socket. */
  readonly portId: number;
}

/**
 * meta[i * META_WORDS + n]: 0 captured length, 1 flags (bit 0: cut to the slot size; such a
 * frame fails the IPv6 payload-length check and is counted `malformed`), 2 tsSec, 3 tsNsec.
 */
export const META_WORDS = 4;
const PACKET_MR_MULTICAST = 0;
const PACKET_MR_ALLMULTI = 2;

interface NativePacketHandle {
  send(frame: Uint8Array): void;
  sendBatch(frames: Uint8Array, lengths: Uint32Array, count: number): number;
  membership(add: boolean, type: number, mac?: Uint8Array): void;
  setFilter(program: Uint8Array): void;
  statistics(): { packets: number; drops: number };
  close(): void;
  readonly fd: number;
}

type NativePacketOptions = Omit<PacketSocketOptions, 'filter'> & { filter: Uint8Array | undefined };

interface NativeBinding {
  PacketSocket: new (options: NativePacketOptions) => NativePacketHandle;
  NetlinkSocket: new (options: NetlinkSocketOptions) => NetlinkSocket;
  interfaceIndex(name: string): number;
  now(): { sec: number; nsec: number };
  enableTxTimestamps(fd: number): void;
  setReceiveBuffer(fd: number, bytes: number): void;
  readTxTimestamps(fd: number, out: Uint32Array): number;
  bpfMapCreate(options: BpfMapCreateOptions): number;
  bpfMapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: number): void;
  bpfMapLookup(fd: number, key: Uint8Array, valueOut: Uint8Array): boolean;
  bpfMapDelete(fd: number, key: Uint8Array): boolean;
  bpfMapNextKey(fd: number, key: Uint8Array | null, nextKeyOut: Uint8Array): boolean;
  bpfProgLoad(options: BpfProgLoadOptions): number;
  bpfProgTestRun(fd: number, options: BpfTestRunOptions): BpfTestRunResult;
  bpfLinkCreate(options: BpfLinkCreateOptions): number;
  bpfObjGetInfo(fd: number, infoOut: Uint8Array): number;
  bpfProgQuery(ifindex: number, attachType: number, progIdsOut?: Uint32Array, linkIdsOut?: Uint32Array): { count: number; revision: number };
  bpfGetNextId(kind: BpfObjectKind, startId: number): number;
  bpfGetFdById(kind: BpfObjectKind, id: number): number;
  bpfClose(fd: number): void;
}

let cached: NativeBinding | undefined;

/** The nearest directory at or above `from` holding a package.json. */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/**
 * Loads the addon on first use, so modules importing types work without a build: a local build
 * (`npm run build:native`, into build/) first, else the prebuilt binary committed for this
 * platform (prebuilds/<platform>-<arch>/). No install script compiles anything; where neither
 * exists or loads, one line says what to run.
 */
function binding(): NativeBinding {
  if (cached !== undefined) return cached;
  const root = packageRoot(__dirname);
  const target = `${process.platform}-${process.arch}`;
  const file = 'ndp_native.node';
  const candidates = [join(root, 'build', 'Release', file), join(root, 'build', 'Debug', file), join(root, 'prebuilds', target, file)];
  const path = candidates.find((candidate) => existsSync(candidate));
  const fix = `build it with "npm run build:native" in ${root} (needs python3, make and g++)`;
  if (path === undefined) {
    const prebuilt = existsSync(join(root, 'prebuilds')) ? readdirSync(join(root, 'prebuilds')).join(', ') : 'none';
    throw new UserError(`no native addon for ${target} (prebuilt for: ${prebuilt}): ${fix}`, ExitCode.Environment);
  }
  try {
    cached = require(path) as NativeBinding;
  } catch (error) {
    const reason = String((error as Error)?.message ?? error).split('\n')[0]!.replace(`${path}: `, '');
    throw new UserError(`cannot load the native addon ${path} (${reason}): ${fix}`, ExitCode.Environment);
  }
  return cached;
}

/** Range-checks every field at the boundary to the kernel, then lays out struct sock_filter[]. */
function packFilter(program: readonly BpfInstruction[]): Uint8Array {
  if (program.length === 0 || program.length > BPF_MAXINSNS) {
    throw new RangeError(`filter must hold 1..${BPF_MAXINSNS} instructions, got ${program.length}`);
  }
  program.forEach(([code, jt, jf, k], pc) => {
    const valid =
      isIntegerIn(code, 0, 0xffff) && isIntegerIn(jt, 0, 0xff) && isIntegerIn(jf, 0, 0xff) && isIntegerIn(k, -0x80000000, 0xffffffff);
    if (!valid) throw new RangeError(`filter instruction ${pc} is not a valid sock_filter: [${code}, ${jt}, ${jf}, ${k}]`);
  });
  return encodeSockFilter(program);
}

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function membershipArguments(kind: 'multicast' | 'allmulti', mac: Uint8Array | undefined): [number, Uint8Array?] {
  if (kind === 'allmulti') return [PACKET_MR_ALLMULTI];
  if (kind !== 'multicast') throw new TypeError(`membership kind must be 'multicast' or 'allmulti', got ${String(kind)}`);
  if (!(mac instanceof Uint8Array) || mac.length !== 6) throw new TypeError('multicast membership needs a 6-byte MAC');
  return [PACKET_MR_MULTICAST, mac];
}

/** PacketSocket over the addon's handle; translates kinds and filters, nothing more. */
class NativePacketSocket implements PacketSocket {
  constructor(private readonly handle: NativePacketHandle) {}

  get fd(): number {
    return this.handle.fd;
  }

  send(frame: Uint8Array): void {
    this.handle.send(frame);
  }

  sendBatch(frames: Uint8Array, lengths: Uint32Array, count: number): number {
    return this.handle.sendBatch(frames, lengths, count);
  }

  addMembership(kind: 'multicast' | 'allmulti', mac?: Uint8Array): void {
    this.handle.membership(true, ...membershipArguments(kind, mac));
  }

  dropMembership(kind: 'multicast' | 'allmulti', mac?: Uint8Array): void {
    this.handle.membership(false, ...membershipArguments(kind, mac));
  }

  setFilter(filter: readonly BpfInstruction[]): void {
    this.handle.setFilter(packFilter(filter));
  }

  statistics(): { packets: number; drops: number } {
    return this.handle.statistics();
  }

  close(): void {
    this.handle.close();
  }
}

/** NetlinkSocket over the addon's handle, hiding its callback slots. */
class NativeNetlinkSocket implements NetlinkSocket {
  constructor(private readonly handle: NetlinkSocket) {}

  get fd(): number {
    return this.handle.fd;
  }

  get portId(): number {
    return this.handle.portId;
  }

  send(message: Uint8Array): void {
    this.handle.send(message);
  }

  close(): void {
    this.handle.close();
  }
}

/**
 * Opens an AF_PACKET socket bound to `options.ifindex`. Throws an Error with .code
 * ('EPERM', 'ENODEV', ...) and .syscall when the kernel refuses.
 */
export function openPacketSocket(options: PacketSocketOptions): PacketSocket {
  const sendOnly = options.receive === false;
  const filter = sendOnly && options.filter.length === 0 ? undefined : packFilter(options.filter);
  const handle = new (binding().PacketSocket)({ ...options, filter });
  return new NativePacketSocket(handle);
}

/** Opens a NETLINK_ROUTE socket bound to the multicast `groups`; polling starts at once. */
export function openNetlinkSocket(options: NetlinkSocketOptions): NetlinkSocket {
  return new NativeNetlinkSocket(new (binding().NetlinkSocket)({ ...options }));
}

/** if_nametoindex in this process's network namespace; 0 when there is no such interface. */
export function interfaceIndex(name: string): number {
  return binding().interfaceIndex(name);
}

/** CLOCK_REALTIME, the clock of the kernel receive timestamps in onFrames meta. */
export function now(): { sec: number; nsec: number } {
  return binding().now();
}

/**
 * SO_TIMESTAMPING software send timestamps, numbered per frame from 0 (OPT_ID), for a
 * send-only socket (`receive: false`): on a polled socket the reports would raise POLLERR,
 * which stops polling. Read them with {@link readTxTimestamps}.
 */
export function enableTxTimestamps(socket: PacketSocket): void {
  binding().enableTxTimestamps(socket.fd);
}

/** Enlarges the socket's receive queue (and error queue) to `bytes` (SO_RCVBUFFORCE, else SO_RCVBUF). */
export function setReceiveBuffer(socket: PacketSocket, bytes: number): void {
  binding().setReceiveBuffer(socket.fd, bytes);
}

/** Drains send timestamps into `out` as (frame index, sec, nsec) triples; returns how many. */
export function readTxTimestamps(socket: PacketSocket, out: Uint32Array): number {
  return binding().readTxTimestamps(socket.fd, out);
}

/** True for the Errors the addon throws or reports (they carry code, errno and syscall). */
export function isNativeError(value: unknown): value is Error & NativeError {
  return (
    value instanceof Error &&
    typeof (value as Partial<NativeError>).code === 'string' &&
    typeof (value as Partial<NativeError>).errno === 'number' &&
    typeof (value as Partial<NativeError>).syscall === 'string'
  );
}

/** BPF_MAP_CREATE parameters (the kernel's enum bpf_map_type values and map flags). */
export interface BpfMapCreateOptions {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  /** Shown by bpftool; cut to 15 bytes. */
  name?: string;
}

/** BPF_PROG_LOAD parameters. `log` is a JS-owned buffer the verifier writes its log into. */
export interface BpfProgLoadOptions {
  type: number;
  /** struct bpf_insn[] as bytes, 8 per slot. */
  instructions: Uint8Array;
  license: string;
  name?: string;
  expectedAttachType?: number;
  /** BPF_F_* program flags. */
  flags?: number;
  /** 1 (default when `log` is given) for the verifier's trace, 2 for more, 4 for statistics only. */
  logLevel?: number;
  log?: Uint8Array;
}

/** BPF_PROG_TEST_RUN input: one frame (or ctx) run `repeat` times. */
export interface BpfTestRunOptions {
  dataIn: Uint8Array;
  dataOut?: Uint8Array;
  repeat?: number;
  flags?: number;
  ctxIn?: Uint8Array;
  ctxOut?: Uint8Array;
}

/** BPF_PROG_TEST_RUN output: the program's return value and the mean run time in ns. */
export interface BpfTestRunResult {
  retval: number;
  duration: number;
  dataSizeOut: number;
  ctxSizeOut: number;
}

/** BPF_LINK_CREATE parameters; relativeFd and expectedRevision are the tcx (mprog) fields. */
export interface BpfLinkCreateOptions {
  progFd: number;
  ifindex: number;
  attachType: number;
  flags?: number;
  relativeFd?: number;
  expectedRevision?: number;
}

/** Object kinds for id enumeration: 0 program, 1 map, 2 link. */
export type BpfObjectKind = 0 | 1 | 2;

/** The addon's raw bpf(2) functions, for src/io/bpf.ts; they throw Errors with code, errno, syscall 'bpf' and command. */
export type NativeBpf = Pick<
  NativeBinding,
  | 'bpfMapCreate'
  | 'bpfMapUpdate'
  | 'bpfMapLookup'
  | 'bpfMapDelete'
  | 'bpfMapNextKey'
  | 'bpfProgLoad'
  | 'bpfProgTestRun'
  | 'bpfLinkCreate'
  | 'bpfObjGetInfo'
  | 'bpfProgQuery'
  | 'bpfGetNextId'
  | 'bpfGetFdById'
  | 'bpfClose'
>;

/** The addon's bpf(2) functions (loading the addon on first use). */
export function nativeBpf(): NativeBpf {
  return binding();
}
