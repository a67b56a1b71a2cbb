/**
 * Test peer: sends one empty UDP datagram to each IPv6 address read from standard input (one
 * per line), all at once, so the kernel of the namespace it runs in resolves every address
 * together, as a router does after a reboot or a cache flush. Run inside a namespace:
 * `ip netns exec NS node dist/src/lab/send-datagrams.js PORT HOP_LIMIT < addresses`.
 * Prints one JSON line: {"sent": N, "errors": {"CODE": N}}. At most 65 536 addresses.
 */
import { createSocket, type Socket } from 'node:dgram';

const MAX_ADDRESSES = 65_536;
const PER_SOCKET = 64;

/** A UDP socket bound to any port, sending with `hopLimit`. */
async function openSocket(hopLimit: number): Promise<Socket> {
  const socket = createSocket('udp6');
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  socket.setTTL(hopLimit); // IPV6_UNICAST_HOPS on a udp6 socket
  return socket;
}

async function readAddresses(): Promise<string[]> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
}

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const hopLimit = Number(process.argv[3]);
  if (!(Number.isInteger(port) && port > 0 && port < 65_536) || !(Number.isInteger(hopLimit) && hopLimit >= 1 && hopLimit <= 255)) {
    process.stderr.write('usage: send-datagrams PORT HOP_LIMIT < addresses\n');
    process.exit(2);
  }
  const addresses = await readAddresses();
  if (addresses.length > MAX_ADDRESSES) {
    process.stderr.write(`send-datagrams: ${addresses.length} addresses, at most ${MAX_ADDRESSES}\n`);
    process.exit(2);
  }
  // A datagram waiting for its neighbour to resolve is charged to its socket's send buffer
  // (about 200 kB, some 150 datagrams): one socket per batch, or the later sends would wait.
  const sockets = await Promise.all(Array.from({ length: Math.ceil(addresses.length / PER_SOCKET) }, () => openSocket(hopLimit)));
  const errors: Record<string, number> = {};
  let sent = 0;
  await Promise.all(
    addresses.map(
      (address, i) =>
        new Promise<void>((resolve) =>
          sockets[Math.floor(i / PER_SOCKET)]!.send(Buffer.alloc(0), port, address, (error) => {
            if (error === null || error === undefined) {
              sent++;
            } else {
              const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
              errors[code] = (errors[code] ?? 0) + 1;
            }
            resolve();
          }),
        ),
    ),
  );
  for (const socket of sockets) socket.close();
  process.stdout.write(`${JSON.stringify({ sent, errors })}\n`);
}

void main();
