import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/lab/exec';
import { listNamespaces } from '../../src/lab/netns';
import { isRoot, runCli } from '../helpers/lab-tools';

const skip = isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)';

/** What the kernel says about the demo's links, read while they exist. */
interface KernelView {
  readonly uplinkMac: string;
  readonly lanMac: string;
  readonly lanAddresses: string[];
}

/** `ip -j` reading of the host uplink and the LAN host's interface, independent of the demo's own output. */
async function readKernel(hostNs: string, lanNs: string): Promise<KernelView> {
  const link = async (ns: string, ifname: string): Promise<string> => {
    const [row] = JSON.parse((await run('ip', ['-n', ns, '-j', 'link', 'show', ifname])).stdout) as { address?: string }[];
    assert.ok(row?.address, `${ifname} in ${ns} has a MAC`);
    return row.address.toLowerCase();
  };
  const addresses = JSON.parse((await run('ip', ['-n', lanNs, '-j', '-6', 'addr', 'show', 'dev', 'lan0', 'scope', 'global'])).stdout) as { addr_info?: { local?: string }[] }[];
  return {
    uplinkMac: await link(hostNs, 'eth0'),
    lanMac: await link(lanNs, 'lan0'),
    lanAddresses: addresses.flatMap((a) => a.addr_info ?? []).flatMap((i) => (i.local === undefined ? [] : [i.local])),
  };
}

test('demo: ping fails without the responder, works with it, shows the captured NA, tears everything down', { skip }, async () => {
  let lanNs: string | undefined;
  let kernel: Promise<KernelView> | undefined;
  const result = await runCli(['demo'], {
    timeoutMs: 60_000,
    onLine: (line) => {
      lanNs ??= /\(netns (\S+-lan)\)/.exec(line)?.[1];
      // Step 2 names the host namespace; the demo runs for seconds after it, so its links still exist.
      const hostNs = /^2\. Starting: .*\(in netns (\S+)\)/.exec(line)?.[1];
      if (hostNs !== undefined && lanNs !== undefined && kernel === undefined) {
        kernel = readKernel(hostNs, lanNs);
        kernel.catch(() => undefined); // awaited (and reported) once the demo has finished
      }
    },
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.ok(kernel, `the demo named its namespaces: ${result.stdout}`);
  const { uplinkMac, lanMac, lanAddresses } = await kernel;
  assert.match(result.stdout, /1\. Without ndp-responder: .* no reply/);
  assert.match(result.stdout, /3\. With ndp-responder: .* reply in [\d.]+ ms/);

  const na = /NA on the LAN: (\S+) is-at (\S+) \(R=(\d) S=(\d) O=(\d)\)\n +from (\S+) to (\S+), hop limit (\d+), Ethernet (\S+) > (\S+)\n/.exec(result.stdout);
  assert.ok(na, `the captured NA, every field: ${result.stdout}`);
  const [, target, tlla, r, s, o, source, destination, hopLimit, ethernetSource, ethernetDestination] = na;
  assert.equal(target, '2001:db8::a:71a5');
  assert.equal(tlla, uplinkMac, 'TLLA: the host uplink MAC the kernel reports');
  assert.equal(ethernetSource, uplinkMac, 'sent from the host uplink');
  assert.deepEqual({ R: r, S: s, O: o }, { R: '0', S: '1', O: '1' });
  assert.equal(source, target, 'sourced from the target address (the default --source)');
  assert.ok(lanAddresses.includes(destination!), `to the LAN host's address ${destination} (kernel: ${lanAddresses.join(', ')})`);
  assert.equal(ethernetDestination, lanMac, "to the LAN host's MAC");
  assert.equal(hopLimit, '255');

  assert.match(result.stdout, /NS→NA latency on the LAN wire: \d+ µs/);
  assert.match(result.stdout, /Tearing down … done\./);
  const prefix = /^(\S+)-lan$/.exec(lanNs ?? '')?.[1];
  assert.ok(prefix, 'the demo names its namespaces');
  const left = (await listNamespaces()).filter((ns) => ns.startsWith(`${prefix}-`));
  assert.deepEqual(left, [], 'no namespace left behind');
  const latency = /latency on the LAN wire: (\d+) µs/.exec(result.stdout)?.[1];
  process.stdout.write(`# demo NS→NA latency: ${latency} µs\n`);
});
