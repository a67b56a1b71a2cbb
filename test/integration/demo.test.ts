import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/lab/exec';
import { listNamespaces } from '../../src/lab/netns';
import { findOnPath } from '../../src/lab/tools';
import { isRoot, runCli, type RunCliOptions } from '../helpers/lab-tools';
import { minimalPath } from '../helpers/packed-package';

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

/** A finished demo run, with the kernel's view of its links read while they existed. */
interface DemoRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly prefix: string | undefined;
  readonly kernel: Promise<KernelView> | undefined;
}

/** Run `ndp-responder demo`; `onStep2` runs once the responder has started, while the namespaces exist. */
async function runDemo(options: Pick<RunCliOptions, 'env' | 'processGroup'> = {}, onStep2?: RunCliOptions['onLine']): Promise<DemoRun> {
  let lanNs: string | undefined;
  let kernel: Promise<KernelView> | undefined;
  const result = await runCli(['demo'], {
    ...options,
    timeoutMs: 60_000,
    onLine: (line, child) => {
      lanNs ??= /\(netns (\S+-lan)\)/.exec(line)?.[1];
      // Step 2 names the host namespace; the demo runs for seconds after it, so its links still exist.
      const hostNs = /^2\. Starting: .*\(in netns (\S+)\)/.exec(line)?.[1];
      if (hostNs !== undefined && lanNs !== undefined && kernel === undefined) {
        kernel = readKernel(hostNs, lanNs);
        kernel.catch(() => undefined); // awaited (and reported) once the demo has finished
        onStep2?.(line, child);
      }
    },
  });
  return { ...result, prefix: /^(\S+)-lan$/.exec(lanNs ?? '')?.[1], kernel };
}

/** No namespace of the run is left. */
async function assertTornDown(run: DemoRun): Promise<void> {
  assert.ok(run.prefix, `the demo names its namespaces: ${run.stdout}`);
  const left = (await listNamespaces()).filter((ns) => ns.startsWith(`${run.prefix}-`));
  assert.deepEqual(left, [], 'no namespace left behind');
}

/** Every claim of a successful tour, the NA's fields against what the kernel reports. */
async function assertTour(run: DemoRun): Promise<void> {
  const { stdout } = run;
  assert.equal(run.code, 0, stdout + run.stderr);
  assert.ok(run.kernel, `the demo named its namespaces: ${stdout}`);
  const { uplinkMac, lanMac, lanAddresses } = await run.kernel;

  assert.match(stdout, /1\. Without ndp-responder: UDP echo to \[2001:db8::a:71a5\]:7 from the LAN host … no reply\n/);
  const before = /1\. Without[^]*?neighbour entry for 2001:db8::a:71a5: (\S+)\n/.exec(stdout)?.[1];
  assert.match(before ?? 'none', /^(FAILED|INCOMPLETE)$/, 'the LAN kernel could not resolve the container');
  const asked = Number(/nobody answered the LAN host's (\d+) Neighbour Solicitation/.exec(stdout)?.[1]);
  assert.ok(asked >= 1, `the Docker host received the LAN host's NS: ${stdout}`);

  assert.match(stdout, /3\. With ndp-responder: UDP echo to \[2001:db8::a:71a5\]:7 from the LAN host … reply in [\d.]+ ms\n/);
  const entryMac = /3\. With[^]*?neighbour entry for 2001:db8::a:71a5: REACHABLE at (\S+) /.exec(stdout)?.[1];
  assert.equal(entryMac, uplinkMac, "the LAN kernel's entry holds the host uplink MAC");

  const na = /NA on the LAN: (\S+) is-at (\S+) \(R=(\d) S=(\d) O=(\d)\)\n +from (\S+) to (\S+), hop limit (\d+), Ethernet (\S+) > (\S+)\n/.exec(stdout);
  assert.ok(na, `the captured NA, every field: ${stdout}`);
  const [, target, tlla, r, s, o, source, destination, hopLimit, ethernetSource, ethernetDestination] = na;
  assert.equal(target, '2001:db8::a:71a5');
  assert.equal(tlla, uplinkMac, 'TLLA: the host uplink MAC the kernel reports');
  assert.equal(ethernetSource, uplinkMac, 'sent from the host uplink');
  assert.deepEqual({ R: r, S: s, O: o }, { R: '0', S: '1', O: '1' });
  assert.equal(source, target, 'sourced from the target address (the default --source)');
  assert.ok(lanAddresses.includes(destination!), `to the LAN host's address ${destination} (kernel: ${lanAddresses.join(', ')})`);
  assert.equal(ethernetDestination, lanMac, "to the LAN host's MAC");
  assert.equal(hopLimit, '255');

  // Which path answers (the default auto: the kernel where the program loads) decides what eth0's
  // packet socket sees: the NS only when the socket path answers it.
  const path = /responder: answering for 2001:db8::a:71a5 \(routed via br0\), (?:in the kernel \((bpf-tcx|bpf-xdp-generic)\)|from its packet socket)\n/.exec(stdout);
  assert.ok(path, `the demo names the answering path: ${stdout}`);
  if (path[1] === undefined) assert.match(stdout, /NS→NA latency on the LAN wire: [\d.]+ (?:µs|ms|s) /);
  else assert.match(stdout, new RegExp(`NS→NA on the LAN wire: answered in the kernel \\(${path[1]}\\) as the NS arrived at eth0`));
  const bench = /over (\d+) more resolutions by ndp-responder bench: median ([\d.]+ (?:µs|ms|s)), best ([\d.]+ (?:µs|ms|s))\n/.exec(stdout);
  assert.ok(bench, `bench's figures: ${stdout}`);
  assert.equal(bench[1], '20', 'every solicitation answered');
  assert.ok(micros(bench[3]!) <= micros(bench[2]!), 'best ≤ median');
  assert.match(stdout, /The container is reachable from the LAN with kernel proxy_ndp off\.\nTearing down … done\.\n$/);
  await assertTornDown(run);
}

/** "0.2 µs" / "1.23 ms" / "1.00 s" (loadgen/stats.ts formatMicroseconds) in microseconds. */
function micros(text: string): number {
  const [value, unit] = text.split(' ');
  return Number(value) * (unit === 's' ? 1e6 : unit === 'ms' ? 1e3 : 1);
}

test('demo: the LAN kernel fails to resolve the container without the responder and resolves it with; the NA as captured; torn down', { skip }, async () => {
  const run = await runDemo();
  await assertTour(run);
  const latency = /latency on the LAN wire: ([\d.]+ (?:µs|ms|s))/.exec(run.stdout)?.[1];
  const bench = /median ([\d.]+ (?:µs|ms|s))/.exec(run.stdout)?.[1];
  process.stdout.write(`# demo NS→NA latency: ${latency ?? 'answered in the kernel'} on the wire, bench median ${bench}\n`);
});

describe('demo on a bare host: only node, ip and sysctl', { skip }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ndp-demo-path-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('succeeds with a PATH holding only node, ip and sysctl (no ping, tcpdump or ndisc6)', async () => {
    const path = minimalPath(join(dir, 'bare'), ['node', 'ip', 'sysctl']);
    for (const tool of ['node', 'ip', 'sysctl']) assert.ok(findOnPath(tool, path), `${tool} on the bare PATH`);
    for (const tool of ['ping', 'tcpdump', 'ndisc6', 'ndisc', 'ping6']) assert.equal(findOnPath(tool, path), undefined, `${tool} not on the bare PATH`);
    const run = await runDemo({ env: { PATH: path } });
    process.stdout.write(`# demo with PATH=${path} (node, ip, sysctl only), exit ${run.code}:\n${run.stdout.replace(/^/gm, '#   ')}\n`);
    await assertTour(run);
  });

  test('without ip, or without sysctl: one line naming the Debian package, exit 3, nothing built', async () => {
    const cases = [
      [['node', 'sysctl'], 'ndp-responder: demo needs ip (apt-get install iproute2)\n'],
      [['node', 'ip'], 'ndp-responder: demo needs sysctl (apt-get install procps)\n'],
    ] as const;
    for (const [tools, line] of cases) {
      const before = await listNamespaces();
      const result = await runCli(['demo'], { env: { PATH: minimalPath(join(dir, tools.join('-')), tools) } });
      assert.deepEqual({ code: result.code, stdout: result.stdout, stderr: result.stderr }, { code: 3, stdout: '', stderr: line });
      assert.deepEqual(await listNamespaces(), before, 'no namespace created');
    }
  });
});

test('demo interrupted by Ctrl-C (SIGINT to its process group) tears everything down and exits 130', { skip }, async () => {
  const run = await runDemo({ processGroup: true }, (_line, child) => process.kill(-child.pid!, 'SIGINT'));
  assert.equal(run.code, 130, run.stdout + run.stderr);
  assert.match(run.stdout, /\ninterrupted: tearing down the namespaces\n$/);
  assert.equal(run.stderr, '', 'no error after the interrupt');
  await assertTornDown(run);
});
