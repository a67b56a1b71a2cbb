/**
 * Test peer: sends raw Ethernet frames given as hex arguments on an interface.
 * Run inside a namespace: `ip netns exec NS node dist/test/helpers/send-frames.js IF HEX [HEX…]`.
 * Used only for frames no kernel peer would produce (RFC 4861 §7.1.1 violations).
 */
import { interfaceIndex, openPacketSocket } from '../../src/io/native';

function main(): void {
  const [ifname, ...frames] = process.argv.slice(2);
  if (ifname === undefined || frames.length === 0) {
    process.stderr.write('usage: send-frames IF HEX [HEX...]\n');
    process.exit(2);
  }
  const ifindex = interfaceIndex(ifname);
  if (ifindex === 0) {
    process.stderr.write(`send-frames: interface ${ifname} not found\n`);
    process.exit(3);
  }
  const socket = openPacketSocket({ ifindex, filter: [[0x06, 0, 0, 0]], receive: false });
  for (const hex of frames) socket.send(Buffer.from(hex, 'hex'));
  socket.close();
}

main();
