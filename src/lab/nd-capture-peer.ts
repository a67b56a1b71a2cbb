/**
 * Lab peer: captures the Neighbour Solicitations or Advertisements for TARGET that arrive on
 * interface IF, with the project's own packet socket and the responder's own filters (no
 * tcpdump). Run inside a namespace:
 * `ip netns exec NS node dist/src/lab/nd-capture-peer.js IF solicitations|advertisements TARGET`.
 * Prints {"ready":true} once the socket is bound, then one JSON line per frame:
 * {"sec":S,"nsec":N,"frame":"HEX"}, with the kernel's receive timestamp (CLOCK_REALTIME).
 * Stops when its standard input closes, or on SIGTERM or SIGINT.
 *
 * Frames the namespace itself sends never reach it: the socket is bound to IPv6 frames
 * (ETH_P_IPV6), and the kernel shows outgoing frames only to sockets bound to every protocol.
 * A lab captures an NS where it arrives, at the other end of the wire.
 */
import { META_WORDS, interfaceIndex, openPacketSocket } from '../io/native';
import { parseIpv6 } from '../wire/address';
import { advertisementFilter, solicitationFilter } from '../wire/bpf';
import { exitWithParent } from './peer-exit';

const FILTERS = { solicitations: solicitationFilter, advertisements: advertisementFilter } as const;

function main(): void {
  const [ifname, kind, target] = process.argv.slice(2);
  if (ifname === undefined || (kind !== 'solicitations' && kind !== 'advertisements') || target === undefined) {
    process.stderr.write('usage: nd-capture-peer IF solicitations|advertisements TARGET\n');
    process.exit(2);
  }
  const ifindex = interfaceIndex(ifname);
  if (ifindex === 0) {
    process.stderr.write(`nd-capture-peer: interface ${ifname} not found\n`);
    process.exit(3);
  }
  const socket = openPacketSocket({
    ifindex,
    filter: FILTERS[kind]({ targets: [parseIpv6(target)] }),
    onFrames: (data, count, meta) => {
      let offset = 0;
      for (let i = 0; i < count; i++) {
        const length = meta[i * META_WORDS] ?? 0;
        const line = { sec: meta[i * META_WORDS + 2] ?? 0, nsec: meta[i * META_WORDS + 3] ?? 0, frame: data.subarray(offset, offset + length).toString('hex') };
        process.stdout.write(`${JSON.stringify(line)}\n`);
        offset += length;
      }
    },
    onError: (error) => {
      process.stderr.write(`nd-capture-peer: ${error.code}\n`);
      process.exit(1);
    },
  });
  exitWithParent(() => socket.close());
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
}

main();
