import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startCapture } from './capture';
import { ND_CAPTURE_FILTER, summarizeNd, type NdSummary } from './nd-summary';
import { ping } from './ping';
import { flushNeighbours } from './neighbours';
import { runNdisc6 } from './ndisc';
import { createScenario, destroyAllScenarios, type Scenario } from './topology';
import { UserError, ExitCode } from '../model/errors';

const CLI = join(__dirname, '..', '..', '..', 'bin', 'ndp-responder.js');

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Start the real responder in the host namespace, exactly as a user would run it. */
function startResponder(lab: Scenario, args: string[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', lab.namespaces.host, process.execPath, CLI, 'run', ...args, '--log-format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        try {
          const record = JSON.parse(line) as { msg?: string; target?: string; route?: string };
          if (record.msg === 'route gained, answering') {
            say(`   responder: answering for ${record.target} (routed via ${record.route})`);
            resolve(child);
          }
        } catch {
          // not JSON: ignore
        }
      }
    });
    child.on('exit', (code) => reject(new UserError(`responder exited (${code}): ${stderr.trim()}`, ExitCode.Failure)));
    setTimeout(() => reject(new UserError('responder did not start within 5 s', ExitCode.Failure)), 5000);
  });
}

async function attempt(lab: Scenario, title: string): Promise<{ ok: boolean; rttMs?: number; frames: Uint8Array[]; nsAt?: bigint; naAt?: bigint }> {
  await flushNeighbours(lab.lan.ns, lab.lan.ifname);
  const capture = await startCapture(lab.lan.ns, lab.lan.ifname, ND_CAPTURE_FILTER);
  const result = await ping(lab.lan.ns, lab.container.address, { count: 1, timeoutSeconds: 1 });
  const packets = await capture.stop();
  const ns = packets.find((p) => summarizeNd(p.data)?.kind === 'NS');
  const na = packets.find((p) => summarizeNd(p.data)?.kind === 'NA');
  say(`${title}: ping ${lab.container.address} from the LAN host … ${result.ok ? `reply in ${result.rttMs?.toFixed(2)} ms` : 'no reply'}`);
  return { ok: result.ok, rttMs: result.rttMs, frames: packets.map((p) => p.data), nsAt: ns?.timestampNs, naAt: na?.timestampNs };
}

/** Print the captured NA as decoded from the frame itself, not as the lab expects it to be. */
function describeAdvertisement(na: NdSummary): void {
  const flags = `R=${+na.flags.router} S=${+na.flags.solicited} O=${+na.flags.override}`;
  const tlla = na.linkLayerAddress === undefined ? 'without a Target Link-Layer Address option' : `is-at ${na.linkLayerAddress}`;
  say(`   NA on the LAN: ${na.target} ${tlla} (${flags})`);
  say(`      from ${na.source} to ${na.destination}, hop limit ${na.hopLimit}, Ethernet ${na.ethernetSource} > ${na.ethernetDestination}`);
}

/** NS→NA times (µs) on the LAN wire over `rounds` fresh resolutions by ndisc6. */
async function latencySamples(lab: Scenario, rounds: number): Promise<number[]> {
  const capture = await startCapture(lab.lan.ns, lab.lan.ifname, ND_CAPTURE_FILTER);
  for (let i = 0; i < rounds; i++) await runNdisc6(lab.lan.ns, lab.container.address, lab.lan.ifname);
  const packets = await capture.stop();
  const samples: number[] = [];
  let asked: bigint | undefined;
  for (const packet of packets) {
    const nd = summarizeNd(packet.data);
    if (nd?.kind === 'NS' && nd.target === lab.container.address) asked = packet.timestampNs;
    if (nd?.kind === 'NA' && nd.source === lab.container.address && asked !== undefined) {
      samples.push(Number(packet.timestampNs - asked) / 1000);
      asked = undefined;
    }
  }
  return samples.sort((a, b) => a - b);
}

/** `ndp-responder demo`: the newcomer's tour, in throwaway network namespaces. */
export async function runDemo(): Promise<void> {
  if (process.getuid?.() !== 0) throw new UserError('demo needs root to create network namespaces (try: sudo npx ndp-responder demo)', ExitCode.Environment);
  let responder: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    responder?.kill('SIGTERM');
    await destroyAllScenarios();
  };
  const onSignal = (): void => {
    say('\ninterrupted: tearing down the namespaces');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say('Building the scenario in throwaway network namespaces …');
    const lab = await createScenario();
    say(`   LAN host     ${lab.lan.address}/64 on ${lab.lan.ifname}            (netns ${lab.namespaces.lan})`);
    say(`   Docker host  eth0 ${lab.host.uplinkAddress}/64, bridge br0 ${lab.container.gateway}/125, forwarding on, proxy_ndp off`);
    say(`   container    ${lab.container.address}/125 behind br0      (netns ${lab.namespaces.container})`);
    say();
    const before = await attempt(lab, '1. Without ndp-responder');
    const unanswered = before.frames.map(summarizeNd).filter((s) => s?.kind === 'NS').length;
    if (!before.ok) say(`   nobody answered the LAN host's ${unanswered} Neighbour Solicitation(s) for the container: it thinks the address is on-link`);
    say();
    const args = ['--interface', 'eth0', '--target', lab.container.address, '--via', 'br0'];
    say(`2. Starting: ndp-responder run ${args.join(' ')}   (in netns ${lab.namespaces.host})`);
    responder = await startResponder(lab, args);
    say();
    const after = await attempt(lab, '3. With ndp-responder');
    const na = after.frames.map(summarizeNd).find((s) => s?.kind === 'NA' && s.target === lab.container.address);
    if (na !== undefined) describeAdvertisement(na);
    if (after.nsAt !== undefined && after.naAt !== undefined) {
      say(`   NS→NA latency on the LAN wire: ${(Number(after.naAt - after.nsAt) / 1000).toFixed(0)} µs (first answer)`);
    }
    const samples = await latencySamples(lab, 10);
    if (samples.length > 0) {
      const median = samples[Math.floor(samples.length / 2)]!;
      say(`   over ${samples.length} more resolutions by ndisc6: median ${median.toFixed(0)} µs, best ${samples[0]!.toFixed(0)} µs`);
      say('   (the kernel\'s own proxy_ndp waits a random 0–800 ms before answering a multicast NS)');
    }
    say();
    say(after.ok && !before.ok ? 'The container is reachable from the LAN with kernel proxy_ndp off.' : 'Unexpected: see above.');
    if (!after.ok) process.exitCode = 1;
  } finally {
    process.stdout.write('Tearing down … ');
    await cleanup();
    say('done.');
  }
}
