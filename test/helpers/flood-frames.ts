/**
 * Test peer: sends one Ethernet frame COUNT times on an interface, in chunks of CHUNK every
 * INTERVAL ms (bounded: COUNT ≤ 100 000). Run inside a namespace:
 * `ip netns exec NS node dist/test/helpers/flood-frames.js IF COUNT CHUNK INTERVAL HEX`.
 */
import { interfaceIndex, openPacketSocket } from '../../src/io/native';

const MAX_COUNT = 100_000;

function main(): void {
  const [ifname, countText, chunkText, intervalText, hex] = process.argv.slice(2);
  const count = Number(countText);
  const chunk = Number(chunkText);
  const interval = Number(intervalText);
  if (ifname === undefined || hex === undefined || !(count > 0 && count <= MAX_COUNT) || !(chunk > 0) || !(interval >= 0)) {
    process.stderr.write('usage: flood-frames IF COUNT CHUNK INTERVAL_MS HEX\n');
    process.exit(2);
  }
  const ifindex = interfaceIndex(ifname);
  if (ifindex === 0) {
    process.stderr.write(`flood-frames: interface ${ifname} not found\n`);
    process.exit(3);
  }
  const socket = openPacketSocket({ ifindex, filter: [[0x06, 0, 0, 0]], receive: false });
  const frame = Buffer.from(hex, 'hex');
  let sent = 0;
  const burst = (): void => {
    for (let i = 0; i < chunk && sent < count; i++, sent++) socket.send(frame);
    if (sent < count) setTimeout(burst, interval);
    else socket.close();
  };
  burst();
}

main();
