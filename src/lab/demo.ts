/**
 * `ndp-responder demo`: the newcomer's tour, in throwaway network namespaces. Needs only this
 * package, node, `ip` (iproute2) and `sysctl` (procps): the LAN host's own kernel resolves the
 * container (a UDP echo is its first packet), the project's own packet socket captures the NS
 * and the NA at the two ends of the LAN wire, and the shipped `bench` measures the latency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { runInNamespace } from './exec';
import { startNdCapture, type CapturedFrame, type NdCapture } from './nd-capture';
import { summarizeNd, type NdSummary } from './nd-summary';
import { flushNeighbours, neighbourEntry, type NeighbourEntry } from './neighbours';
import { DEMO_TOOLS, missingTools } from './tools';
import { createScenario, destroyAllScenarios, type Scenario } from './topology';
import { echoOnce, startEchoServer, type EchoResult, type EchoServer } from './udp-echo';
import { sleep } from './wait';
import type { BenchResult } from '../loadgen/report';
import { formatMicroseconds } from '../loadgen/stats';
import { UserError, ExitCode } from '../model/errors';

const CLI = join(__dirname, '..', '..', '..', 'bin', 'ndp-responder.js');
/** The UDP echo port (RFC 862) the container serves. */
const ECHO_PORT = 7;
/** How long the LAN host waits for the echo. */
const ECHO_TIMEOUT_MS = 1000;
/** The kernel gives up after 3 NS, 1 s apart (mcast_solicit, retrans_time_ms): wait a little longer. */
const RESOLUTION_BOUND_MS = 4000;
/** Solicitations `bench` sends, one every 50 ms: within the responder's per-flow limit (10/s, burst 20). */
const BENCH_COUNT = 20;
const BENCH_RATE = 20;
/** How long a failure waits for the signal that may have caused it. */
const INTERRUPT_GRACE_MS = 200;

/** One first packet from the LAN host to the container, as the LAN saw it. */
interface Attempt {
  readonly echo: EchoResult;
  /** The LAN kernel's neighbour entry for the container once resolution is over. */
  readonly entry: NeighbourEntry | undefined;
  /** The NS for the container that reached the Docker host's eth0, and the NA that reached lan0. */
  readonly frames: readonly WireFrame[];
}

/** A captured NS or NA, decoded. */
interface WireFrame {
  readonly nd: NdSummary;
  readonly frame: CapturedFrame;
}

/** The tour and everything it must tear down, whichever way it ends. */
class Demo {
  private responder: ChildProcess | undefined;
  /** The path the responder answers from, as its `started` line names it (bpf-tcx, bpf-xdp-generic, socket). */
  private fastPath: string | undefined;
  private echoServer: EchoServer | undefined;
  private interrupted = false;

  /** Nothing is printed after an interrupt but the teardown. */
  say(line = ''): void {
    if (!this.interrupted) process.stdout.write(`${line}\n`);
  }

  /** Ctrl-C or SIGTERM: tear down, then exit 130, whatever the tour was doing. */
  readonly onSignal = (): void => {
    if (this.interrupted) return;
    this.say('\ninterrupted: tearing down the namespaces');
    this.interrupted = true;
    void this.cleanup().finally(() => process.exit(130));
  };

  /** True once a signal has started the teardown. */
  get wasInterrupted(): boolean {
    return this.interrupted;
  }

  /** Stop the responder and the echo server, delete every namespace; idempotent. */
  async cleanup(): Promise<void> {
    this.responder?.kill('SIGTERM');
    await this.echoServer?.stop().catch(() => undefined);
    await destroyAllScenarios();
  }

  /** Build, show the failure, start the responder, show the fix; true when it showed what it claims. */
  async tour(): Promise<boolean> {
    this.say('Building the scenario in throwaway network namespaces …');
    const lab = await createScenario();
    this.say(`   LAN host     ${lab.lan.address}/64 on ${lab.lan.ifname}            (netns ${lab.namespaces.lan})`);
    this.say(`   Docker host  eth0 ${lab.host.uplinkAddress}/64, bridge br0 ${lab.container.gateway}/125, forwarding on, proxy_ndp off`);
    this.say(`   container    ${lab.container.address}/125 behind br0, UDP echo on port ${ECHO_PORT}      (netns ${lab.namespaces.container})`);
    this.echoServer = await startEchoServer(lab.container.ns, ECHO_PORT);
    this.say();
    const before = await this.attempt(lab, '1. Without ndp-responder');
    const asked = before.frames.filter((f) => f.nd.kind === 'NS').length;
    if (!before.echo.reply) this.say(`   nobody answered the LAN host's ${asked} Neighbour Solicitation(s) for the container: it thinks the address is on-link`);
    this.say();
    const args = ['--interface', 'eth0', '--target', lab.container.address, '--via', 'br0'];
    this.say(`2. Starting: ndp-responder run ${args.join(' ')}   (in netns ${lab.namespaces.host})`);
    this.responder = await this.startResponder(lab, args);
    this.say();
    const after = await this.attempt(lab, '3. With ndp-responder');
    this.describeWire(after);
    await this.benchLatency(lab);
    const fixed = !before.echo.reply && after.echo.reply && after.entry?.state === 'REACHABLE';
    this.say();
    this.say(fixed ? 'The container is reachable from the LAN with kernel proxy_ndp off.' : 'Unexpected: see above.');
    return fixed;
  }

  /** Start the real responder in the host namespace, exactly as a user would run it. */
  private startResponder(lab: Scenario, args: string[]): Promise<ChildProcess> {
    const child = spawn('ip', ['netns', 'exec', lab.namespaces.host, process.execPath, CLI, 'run', ...args, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new UserError('responder did not start within 5 s', ExitCode.Failure)), 5000);
      let buffer = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 1);
          const record = parseJson(line) as { msg?: string; target?: string; route?: string; fastPath?: string } | undefined;
          if (record?.msg === 'started') this.fastPath = record.fastPath;
          if (record?.msg === 'route gained, answering') {
            const where = this.inKernel() ? `in the kernel (${this.fastPath})` : 'from its packet socket';
            this.say(`   responder: answering for ${record.target} (routed via ${record.route}), ${where}`);
            clearTimeout(timer);
            resolve(child);
          }
        }
      });
      child.on('error', (error) => reject(new UserError(`cannot start the responder: ${error.message}`, ExitCode.Failure)));
      child.on('exit', (code) => reject(new UserError(`responder exited (${code}): ${stderr.trim()}`, ExitCode.Failure)));
    });
  }

  /**
   * Flush the LAN host's neighbours, send the container one UDP echo (the LAN kernel must
   * resolve it first), and read the kernel's neighbour entry once resolution is over, with the
   * LAN wire captured at both ends throughout.
   */
  private async attempt(lab: Scenario, title: string): Promise<Attempt> {
    const address = lab.container.address;
    await flushNeighbours(lab.lan.ns, lab.lan.ifname);
    const captures = await captureLanWire(lab);
    let echo: EchoResult;
    let entry: NeighbourEntry | undefined;
    try {
      echo = await echoOnce(lab.lan.ns, address, ECHO_PORT, ECHO_TIMEOUT_MS);
      this.say(`${title}: UDP echo to [${address}]:${ECHO_PORT} from the LAN host … ${echo.reply ? `reply in ${echo.rttMs!.toFixed(2)} ms` : 'no reply'}`);
      entry = await settledEntry(lab);
    } catch (error) {
      await Promise.all(captures.map((c) => c.stop({ settleMs: 0 }).catch(() => undefined)));
      throw error;
    }
    const captured = (await Promise.all(captures.map((c) => c.stop()))).flat();
    const mac = entry?.mac === undefined ? '' : ` at ${entry.mac}${entry.mac === lab.host.uplinkMac ? " (the Docker host's eth0)" : ''}`;
    this.say(`   the LAN kernel's neighbour entry for ${address}: ${entry === undefined ? 'none' : `${entry.state}${mac}`}`);
    const frames = captured.flatMap((frame) => {
      const nd = summarizeNd(frame.data);
      return nd !== undefined && nd.target === address ? [{ nd, frame }] : [];
    });
    return { echo, entry, frames: frames.sort((a, b) => (a.frame.timestampNs < b.frame.timestampNs ? -1 : 1)) };
  }

  /** The captured NA, decoded from its bytes, and the NS→NA time between the kernel's two receive timestamps. */
  private describeWire(after: Attempt): void {
    const answer = after.frames.find((f) => f.nd.kind === 'NA');
    if (answer === undefined) {
      this.say('   no NA for the container reached the LAN host');
      return;
    }
    const na = answer.nd;
    const flags = `R=${+na.flags.router} S=${+na.flags.solicited} O=${+na.flags.override}`;
    const tlla = na.linkLayerAddress === undefined ? 'without a Target Link-Layer Address option' : `is-at ${na.linkLayerAddress}`;
    this.say(`   NA on the LAN: ${na.target} ${tlla} (${flags})`);
    this.say(`      from ${na.source} to ${na.destination}, hop limit ${na.hopLimit}, Ethernet ${na.ethernetSource} > ${na.ethernetDestination}`);
    const asked = after.frames.filter((f) => f.nd.kind === 'NS' && f.frame.timestampNs <= answer.frame.timestampNs).at(-1);
    if (asked !== undefined) {
      const micros = Number(answer.frame.timestampNs - asked.frame.timestampNs) / 1000;
      this.say(`   NS→NA latency on the LAN wire: ${formatMicroseconds(micros)} (first answer: the NS arriving at eth0, the NA at lan0, kernel receive timestamps)`);
    } else if (this.inKernel()) {
      // The program answers at eth0's ingress hook, before the frame reaches any IPv6 packet socket.
      this.say(`   NS→NA on the LAN wire: answered in the kernel (${this.fastPath}) as the NS arrived at eth0, so no socket there saw it`);
    }
  }

  private inKernel(): boolean {
    return this.fastPath !== undefined && this.fastPath !== 'socket';
  }

  /** More NS→NA times from the shipped load generator, run on the LAN host. */
  private async benchLatency(lab: Scenario): Promise<void> {
    const args = [CLI, 'bench', '--interface', lab.lan.ifname, '--target', lab.container.address, '--count', String(BENCH_COUNT), '--rate', String(BENCH_RATE), '--json'];
    const { stdout } = await runInNamespace(lab.lan.ns, process.execPath, args, { timeoutMs: 15_000 });
    const result = JSON.parse(stdout) as BenchResult;
    const { p50, min } = result.latencyUs;
    if (p50 === undefined || min === undefined) {
      this.say(`   ndp-responder bench: none of ${result.sent} solicitations answered`);
      return;
    }
    const missed = result.sent - result.answered;
    this.say(`   over ${result.answered} more resolutions by ndp-responder bench: median ${formatMicroseconds(p50)}, best ${formatMicroseconds(min)}${missed > 0 ? ` (${missed} of ${result.sent} unanswered)` : ''}`);
    this.say("   (the kernel's own proxy_ndp waits a random 0–800 ms before answering a multicast NS)");
  }
}

/**
 * Both ends of the LAN wire: the NS for the container arriving at the Docker host's eth0 (where
 * the responder receives it) and the NA arriving at the LAN host's lan0, each caught with the
 * responder's own filter. The LAN host's own NS cannot be caught on lan0: see nd-capture-peer.ts.
 */
function captureLanWire(lab: Scenario): Promise<NdCapture[]> {
  const target = lab.container.address;
  return Promise.all([
    startNdCapture(lab.host.ns, lab.host.uplink, 'solicitations', target),
    startNdCapture(lab.lan.ns, lab.lan.ifname, 'advertisements', target),
  ]);
}

/** The LAN kernel's entry for the container, once it is no longer INCOMPLETE (or the bound has passed). */
async function settledEntry(lab: Scenario): Promise<NeighbourEntry | undefined> {
  const begin = Date.now();
  for (;;) {
    const entry = await neighbourEntry(lab.lan.ns, lab.container.address, lab.lan.ifname);
    if (entry?.state !== 'INCOMPLETE' || Date.now() - begin > RESOLUTION_BOUND_MS) return entry;
    await sleep(100);
  }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** `ndp-responder demo`: check root and tools, run the tour, tear everything down on every path. */
export async function runDemo(): Promise<void> {
  if (process.getuid?.() !== 0) throw new UserError('demo needs root to create network namespaces (try: sudo npx ndp-responder demo)', ExitCode.Environment);
  const missing = missingTools(DEMO_TOOLS)[0];
  if (missing !== undefined) throw new UserError(`demo needs ${missing.name} (apt-get install ${missing.debianPackage})`, ExitCode.Environment);
  const demo = new Demo();
  process.on('SIGINT', demo.onSignal);
  process.on('SIGTERM', demo.onSignal);
  try {
    if (!(await demo.tour())) process.exitCode = ExitCode.Failure;
  } catch (error) {
    // A terminal's Ctrl-C reaches the children too, and one may fail before our handler runs.
    if (!demo.wasInterrupted) await sleep(INTERRUPT_GRACE_MS);
    // After an interrupt the namespaces vanish under the tour; the signal handler exits 130.
    if (demo.wasInterrupted) await new Promise(() => undefined);
    throw error;
  } finally {
    if (!demo.wasInterrupted) {
      process.stdout.write('Tearing down … ');
      await demo.cleanup();
      process.stdout.write('done.\n');
    }
  }
}
