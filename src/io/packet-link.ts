import { createSocket, type Socket } from 'node:dgram';
import { openPacketSocket, setReceiveBuffer, type BpfInstruction, type NativeError, type PacketSocket } from './native';

/**
 * Receives one batch of frames: packed bytes plus [length, flags, tsSec, tsNsec] per frame.
 * Both arrays are reused for the next batch: the handler must not keep them.
 */
export type FrameHandler = (data: Uint8Array, count: number, meta: Uint32Array) => void;

/** Receive queue: ~20 ms of a 100k NS/s burst, so a pause of the JS thread (GC) drops nothing. */
const RECEIVE_BUFFER_BYTES = 4 << 20;

/** Where and how to listen: the interface and the multicast memberships its targets need. */
export interface LinkBinding {
  readonly ifname: string;
  readonly ifindex: number;
  readonly filter: readonly BpfInstruction[];
  /** Solicited-node groups to join (address text, e.g. "ff02::1:ff0a:71a5"). */
  readonly groups: readonly string[];
  /** Solicited-node multicast MACs of the same groups. */
  readonly groupMacs: readonly Uint8Array[];
  /** Prefix targets need every multicast frame: PACKET_MR_ALLMULTI, reverted by the kernel on close. */
  readonly allMulticast: boolean;
}

/**
 * The uplink as a thin adapter: an AF_PACKET socket for NS in and NA out, plus an
 * IPv6 UDP socket whose only job is IPV6_JOIN_GROUP so MLD reports keep snooping
 * switches forwarding the solicited-node groups. It never decides anything.
 */
export class PacketLink {
  private socket: PacketSocket | undefined;
  private mld: Socket | undefined;
  private binding: LinkBinding | undefined;
  /** The addon's reused Buffer, and a plain Uint8Array over it. */
  private received: Buffer | undefined;
  private view: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly onFrames: FrameHandler,
    private readonly onError: (error: NativeError) => void,
  ) {}

  /** True while a socket is open. */
  get isOpen(): boolean {
    return this.socket !== undefined;
  }

  /** Open on `binding`, closing any previous socket first. Throws (with .code) when the kernel refuses. */
  open(binding: LinkBinding): void {
    this.close();
    const socket = openPacketSocket({
      ifindex: binding.ifindex,
      filter: binding.filter,
      reuseBuffer: true,
      onFrames: (data, count, meta) => this.deliver(data, count, meta),
      onError: (error) => this.onError(error),
    });
    try {
      setReceiveBuffer(socket, RECEIVE_BUFFER_BYTES);
      for (const mac of binding.groupMacs) socket.addMembership('multicast', mac);
      if (binding.allMulticast) socket.addMembership('allmulti');
    } catch (error) {
      socket.close();
      throw error;
    }
    this.socket = socket;
    this.binding = binding;
    this.joinGroups(binding);
  }

  /**
   * Hands frames on as a plain Uint8Array: the same object every time (made once per reused
   * Buffer), so the hot path's code, optimised on Uint8Arrays at warm-up, never sees another
   * map and is never deoptimised by the first real frame.
   */
  private deliver(data: Buffer, count: number, meta: Uint32Array): void {
    if (data !== this.received) {
      this.received = data;
      this.view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    this.onFrames(this.view, count, meta);
  }

  /** Move the open socket to `next`'s filter and memberships without reopening it. */
  update(next: LinkBinding): void {
    const socket = this.socket;
    const current = this.binding;
    if (socket === undefined || current === undefined) return;
    const macKey = (mac: Uint8Array): string => Buffer.from(mac).toString('hex');
    const had = new Map(current.groupMacs.map((m) => [macKey(m), m]));
    const wanted = new Map(next.groupMacs.map((m) => [macKey(m), m]));
    for (const [key, mac] of wanted) if (!had.has(key)) socket.addMembership('multicast', mac);
    for (const [key, mac] of had) if (!wanted.has(key)) socket.dropMembership('multicast', mac);
    if (next.allMulticast && !current.allMulticast) socket.addMembership('allmulti');
    if (!next.allMulticast && current.allMulticast) socket.dropMembership('allmulti');
    socket.setFilter(next.filter);
    this.binding = next;
    this.closeMld();
    this.joinGroups(next);
  }

  /** Send batched frames packed back to back; returns how many the kernel took. */
  sendBatch(frames: Uint8Array, lengths: Uint32Array, count: number): number {
    if (this.socket === undefined || count === 0) return 0;
    return this.socket.sendBatch(frames, lengths, count);
  }

  /** Swap the BPF program live (e.g. when targets change). */
  setFilter(filter: readonly BpfInstruction[]): void {
    this.socket?.setFilter(filter);
  }

  /** Close everything; idempotent. */
  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.binding = undefined;
    this.closeMld();
  }

  private closeMld(): void {
    if (this.mld !== undefined) {
      const mld = this.mld;
      this.mld = undefined;
      try {
        mld.close();
      } catch {
        // already closed
      }
    }
  }

  private joinGroups(binding: LinkBinding): void {
    if (binding.groups.length === 0) return;
    // MLD is best effort: the packet membership already opens the NIC filter; this adds the
    // reports switches need. Failures are ignored (e.g. too many groups: ALLMULTI covers it).
    const mld = createSocket({ type: 'udp6', reuseAddr: true });
    mld.on('error', () => undefined);
    mld.bind(0, '::', () => {
      for (const group of binding.groups) {
        try {
          mld.addMembership(group, `::%${binding.ifname}`);
        } catch {
          // ignore: see above
        }
      }
    });
    this.mld = mld;
  }
}
