/**
 * Lab peer: a UDP echo over IPv6, so the lab proves reachability with node alone (no ping).
 * Run inside a namespace with `ip netns exec NS node dist/src/lab/udp-echo-peer.js …`:
 * - `serve PORT`: echoes every datagram back to its sender; prints {"listening":PORT} once
 *   bound; stops when its standard input closes, or on SIGTERM or SIGINT.
 * - `ask ADDRESS PORT TIMEOUT_MS`: sends one datagram and waits for its echo; prints
 *   {"reply":true,"rttMs":R} or {"reply":false}. Exit code 0 either way.
 */
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { exitWithParent } from './peer-exit';

const PAYLOAD = Buffer.from('ndp-responder lab echo');

function usage(): never {
  process.stderr.write('usage: udp-echo-peer serve PORT | udp-echo-peer ask ADDRESS PORT TIMEOUT_MS\n');
  process.exit(2);
}

function port(text: string | undefined): number {
  const value = Number(text);
  return Number.isInteger(value) && value > 0 && value < 65_536 ? value : usage();
}

function serve(listenPort: number): void {
  const socket = createSocket({ type: 'udp6', ipv6Only: true });
  socket.on('message', (message, from) => socket.send(message, from.port, from.address));
  socket.on('error', (error) => {
    process.stderr.write(`udp-echo-peer: ${error.message}\n`);
    process.exit(1);
  });
  exitWithParent(() => socket.close());
  socket.bind(listenPort, '::', () => process.stdout.write(`${JSON.stringify({ listening: listenPort })}\n`));
}

function ask(address: string, toPort: number, timeoutMs: number): void {
  const socket = createSocket('udp6');
  let sentAt = 0;
  const done = (result: { reply: boolean; rttMs?: number }): void => {
    clearTimeout(timer);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    socket.close();
  };
  const timer = setTimeout(() => done({ reply: false }), timeoutMs);
  socket.on('message', (message, from) => {
    if (from.address === address && from.port === toPort && message.equals(PAYLOAD)) done({ reply: true, rttMs: Math.round((performance.now() - sentAt) * 1000) / 1000 });
  });
  // A send error (no route, say) is no reply as well; the timer reports it.
  socket.on('error', () => undefined);
  // Bound and connected first, so the time covers the datagram's trip, not the socket's set-up.
  socket.bind(0, () =>
    socket.connect(toPort, address, () => {
      sentAt = performance.now();
      socket.send(PAYLOAD);
    }),
  );
}

function main(): void {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'serve' && args.length === 1) return serve(port(args[0]));
  const timeoutMs = Number(args[2]);
  if (mode === 'ask' && args.length === 3 && Number.isInteger(timeoutMs) && timeoutMs > 0) return ask(args[0]!, port(args[1]), timeoutMs);
  usage();
}

main();
