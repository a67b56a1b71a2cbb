/**
 * Child process for native.test.ts. The test runs it inside a namespace it created
 * (`ip netns exec NS node native-peer.js ROLE JSON-ARGS`); it reports JSON lines on
 * stdout and takes one-word commands on stdin. Never run it in the host namespace.
 */
import { endianness } from 'node:os';
import { createInterface } from 'node:readline';
import {
  interfaceIndex,
  isNativeError,
  now,
  openNetlinkSocket,
  openPacketSocket,
  type BpfInstruction,
  type PacketSocket,
} from '../../src/io/native';

/** Accepts IPv6 frames whose byte 54 (ICMPv6 type, no extension headers) is 135 (NS). */
const NS_ONLY_FILTER: BpfInstruction[] = [
  [0x28, 0, 0, 12], // ldh [12]                 ethertype
  [0x15, 0, 3, 0x86dd], // jeq #0x86dd, next, drop
  [0x30, 0, 0, 54], // ldb [54]                 ICMPv6 type
  [0x15, 0, 1, 135], // jeq #135, accept, drop
  [0x06, 0, 0, 0x40000], // ret #262144         accept the whole frame
  [0x06, 0, 0, 0], // ret #0                    drop
];

const SOLICITED_NODE_MAC = Uint8Array.of(0x33, 0x33, 0xff, 0x00, 0x00, 0x01);

type Args = Record<string, unknown>;
type Commands = Record<string, () => void>;

function emit(event: string, fields: Args = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

function errorFields(error: unknown): Args {
  const e = error as Partial<Error & { code: string; errno: number; syscall: string }>;
  return { name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, message: e.message, native: isNativeError(error) };
}

function ifindexOf(name: unknown): number {
  const index = interfaceIndex(String(name));
  if (index === 0) throw new Error(`no interface ${String(name)}`);
  return index;
}

/** Opens a filtered receiver; reports frames, errors and, after the first error, how idle it stays. */
function receive(args: Args): Commands {
  const ifindex = ifindexOf(args.ifname);
  let errors = 0;
  const open = (): PacketSocket =>
    openPacketSocket({
      ifindex,
      filter: NS_ONLY_FILTER,
      slotSize: args.slotSize as number | undefined,
      onFrames: (data, count, meta) => {
        const frames = [];
        for (let i = 0, offset = 0; i < count; i++) {
          const length = meta[i * 4] ?? 0;
          const hex = data.subarray(offset, offset + length).toString('hex');
          frames.push({ hex, length, flags: meta[i * 4 + 1], tsSec: meta[i * 4 + 2], tsNsec: meta[i * 4 + 3] });
          offset += length;
        }
        emit('frames', { count, bytes: data.length, frames, now: now() });
      },
      onError: (error) => {
        errors += 1;
        emit('error', errorFields(error));
        if (errors === 1) reportIdle(() => errors);
      },
    });
  let socket = open();
  emit('ready', { ifindex, fd: socket.fd, now: now() });
  return {
    stats: () => emit('stats', socket.statistics()),
    reopen: () => {
      socket.close();
      socket = open();
      emit('ready', { ifindex, fd: socket.fd, now: now() });
    },
    close: () => socket.close(),
  };
}

/** Measures CPU time and timer ticks over 500 ms: a socket spinning on POLLERR would show. */
function reportIdle(errors: () => number): void {
  const start = process.cpuUsage();
  let ticks = 0;
  const interval = setInterval(() => (ticks += 1), 10);
  setTimeout(() => {
    clearInterval(interval);
    const used = process.cpuUsage(start);
    emit('idle', { cpuMs: (used.user + used.system) / 1000, ticks, errors: errors() });
  }, 500);
}

/** Sends `frames` one by one, then `batch` with sendBatch, from a send-only socket. */
function send(args: Args): Commands {
  const socket = openPacketSocket({ ifindex: ifindexOf(args.ifname), filter: [], receive: false });
  const single = (args.frames as string[]) ?? [];
  for (const hex of single) socket.send(Buffer.from(hex, 'hex'));
  const batch = ((args.batch as string[]) ?? []).map((hex) => Buffer.from(hex, 'hex'));
  const packed = Buffer.concat(batch);
  const lengths = Uint32Array.from(batch, (frame) => frame.length);
  let sent = 0;
  let offset = 0;
  let calls = 0;
  while (sent < batch.length && calls < 1000) {
    const n = socket.sendBatch(packed.subarray(offset), lengths.subarray(sent), batch.length - sent);
    for (let i = sent; i < sent + n; i++) offset += lengths[i] ?? 0;
    sent += n;
    calls += 1;
  }
  emit('sent', { single: single.length, batch: sent, calls, fd: socket.fd });
  socket.close();
  return {};
}

/** Checks the small surface: lookups, ENODEV, memberships, filters, statistics, close. */
function misc(args: Args): Commands {
  const attempt = (action: () => unknown): unknown => {
    try {
      return { ok: action() ?? true };
    } catch (error) {
      return errorFields(error);
    }
  };
  const ifindex = ifindexOf(args.ifname);
  const result: Args = { ifindex, missingIndex: interfaceIndex('nosuch0'), now: now(), dateNow: Date.now() };
  result.enodev = attempt(() => openPacketSocket({ ifindex: 999_999, filter: NS_ONLY_FILTER }).close());
  result.zeroIfindex = attempt(() => openPacketSocket({ ifindex: 0, filter: NS_ONLY_FILTER }).close());
  result.emptyFilter = attempt(() => openPacketSocket({ ifindex, filter: [] }).close());
  result.badInstruction = attempt(() => openPacketSocket({ ifindex, filter: [[0x06, 0, 0, 2 ** 33]] }).close());
  const socket = openPacketSocket({ ifindex, filter: NS_ONLY_FILTER, batch: 8, slotSize: 2048 });
  result.fdOpen = socket.fd;
  result.membership = [
    attempt(() => socket.addMembership('multicast', SOLICITED_NODE_MAC)),
    attempt(() => socket.dropMembership('multicast', SOLICITED_NODE_MAC)),
    attempt(() => socket.addMembership('allmulti')),
    attempt(() => socket.dropMembership('allmulti')),
  ];
  result.dropMissing = attempt(() => socket.dropMembership('multicast', SOLICITED_NODE_MAC));
  result.shortMac = attempt(() => socket.addMembership('multicast', Uint8Array.of(1, 2)));
  result.setFilter = attempt(() => socket.setFilter([[0x06, 0, 0, 0]]));
  result.statistics = attempt(() => socket.statistics());
  socket.close();
  socket.close();
  result.fdClosed = socket.fd;
  result.sendAfterClose = attempt(() => socket.send(Buffer.alloc(60)));
  const sender = openPacketSocket({ ifindex, filter: [], receive: false, qdiscBypass: true });
  result.sendOnlyFd = sender.fd;
  sender.close();
  emit('misc', result);
  return {};
}

/** Reads nlmsghdr type and seq of every message in a datagram (host byte order). */
function netlinkHeaders(datagram: Buffer): Array<{ type: number; seq: number }> {
  const little = endianness() === 'LE';
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const headers = [];
  for (let offset = 0; offset + 16 <= datagram.length; ) {
    const length = view.getUint32(offset, little);
    headers.push({ type: view.getUint16(offset + 4, little), seq: view.getUint32(offset + 8, little) });
    if (length < 16) break;
    offset += (length + 3) & ~3;
  }
  return headers;
}

/** RTM_GETLINK dump request: nlmsghdr + ifinfomsg, NLM_F_REQUEST | NLM_F_DUMP, seq 1. */
function linkDumpRequest(): Uint8Array {
  const little = endianness() === 'LE';
  const message = new Uint8Array(32);
  const view = new DataView(message.buffer);
  view.setUint32(0, 32, little); // nlmsg_len
  view.setUint16(4, 18, little); // RTM_GETLINK
  view.setUint16(6, 0x301, little); // NLM_F_REQUEST | NLM_F_DUMP
  view.setUint32(8, 1, little); // nlmsg_seq
  return message; // ifinfomsg all zero: AF_UNSPEC, every link
}

/** Opens a NETLINK_ROUTE socket on `groups` and reports message headers. */
function netlink(args: Args): Commands {
  const socket = openNetlinkSocket({
    groups: Number(args.groups),
    onMessages: (datagram) => emit('netlink', { messages: netlinkHeaders(datagram) }),
    onError: (error) => emit('error', errorFields(error)),
  });
  emit('ready', { fd: socket.fd, portId: socket.portId });
  return {
    dump: () => socket.send(linkDumpRequest()),
    close: () => socket.close(),
  };
}

const roles: Record<string, (args: Args) => Commands> = { receive, send, misc, netlink };

function main(): void {
  const [role = '', json = '{}'] = process.argv.slice(2);
  const run = roles[role];
  if (run === undefined) throw new Error(`unknown role ${role}`);
  const commands = run(JSON.parse(json) as Args);
  if (Object.keys(commands).length === 0) return;
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    const command = commands[line.trim()];
    if (command === undefined) emit('unknown', { line });
    else command();
  });
  // End of stdin means the test is done with us: close and let the loop drain.
  input.on('close', () => commands.close?.());
}

main();
