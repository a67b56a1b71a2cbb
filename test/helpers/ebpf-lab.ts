/**
 * A two-namespace veth lab for the in-kernel fast path: `lan` (la0,
 * 2001:db8::1, 02:00:00:00:00:0a) asks, `host` (hb0, 02:00:00:00:00:0b, no
 * address for the target) answers through a program attached by an
 * ebpf-peer.js child. Root only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { run } from '../../src/lab/exec';
import { addNamespace, deleteNamespace, deleteNamespaceSync } from '../../src/lab/netns';
import { flushNeighbours, neighbourEntry, type NeighbourEntry } from '../../src/lab/neighbours';
import { sleep } from '../../src/lab/wait';
import { ANSWERER, ASKER, TARGET } from './ebpf-frames';

const PEER = join(__dirname, '..', 'integration', 'ebpf-peer.js');
const SEND_FRAMES = join(__dirname, 'send-frames.js');

/** One JSON line from a peer. */
export type PeerEvent = { event: string } & Record<string, unknown>;

/** An ebpf-peer.js child inside a namespace. */
export class EbpfPeer {
  readonly events: PeerEvent[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private stderr = '';
  private exitCode: number | null | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(ns: string, args: Record<string, unknown>) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, PEER, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as PeerEvent);
      this.waiters.forEach((wake) => wake());
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
        this.waiters.forEach((wake) => wake());
      }),
    );
  }

  /** The peer's process id (the node process, which `ip netns exec` execs into). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The next event named `name` or 'error' after the first `skip` of them; rejects on exit or timeout. */
  next(name: string, skip = 0, timeoutMs = 10_000): Promise<PeerEvent> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.events.filter((e) => e.event === name || e.event === 'error')[skip];
        if (found !== undefined) finish(() => resolve(found));
        else if (this.exitCode !== undefined) finish(() => reject(new Error(`peer exited before ${name}: ${this.stderr}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${name}: ${this.stderr}`))), timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends one command line; the answer is the next event of its name. */
  async ask(command: string, event = command): Promise<PeerEvent> {
    const skip = this.events.filter((e) => e.event === event || e.event === 'error').length;
    this.child.stdin!.write(`${command}\n`);
    return this.next(event, skip);
  }

  /** Signals the peer and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.child.kill(signal);
    await this.exited;
  }
}

/** The lab's two namespaces. */
export class EbpfLab {
  private readonly peers = new Set<EbpfPeer>();
  /** Last-resort cleanup if the test process exits without destroy(). */
  private readonly onExit = (): void => [this.lan, this.host].forEach(deleteNamespaceSync);

  private constructor(
    readonly lan: string,
    readonly host: string,
  ) {}

  /** Builds the lab; `tag` keeps concurrent runs apart. */
  static async create(tag: string): Promise<EbpfLab> {
    const lab = new EbpfLab(`eb${process.pid}${tag}l`, `eb${process.pid}${tag}h`);
    process.once('exit', lab.onExit);
    await addNamespace(lab.lan);
    await addNamespace(lab.host);
    await run('ip', ['-n', lab.lan, 'link', 'add', 'la0', 'address', ASKER.mac, 'type', 'veth', 'peer', 'name', 'hb0', 'address', ANSWERER.mac, 'netns', lab.host]);
    await run('ip', ['-n', lab.lan, 'addr', 'add', `${ASKER.address}/64`, 'dev', 'la0', 'nodad']);
    await run('ip', ['-n', lab.lan, 'link', 'set', 'la0', 'up']);
    await run('ip', ['-n', lab.host, 'link', 'set', 'hb0', 'up']);
    return lab;
  }

  /** Starts an ebpf-peer.js in `ns` and waits until it reports 'attached' (or an 'error'). */
  async peer(ns: string, args: Record<string, unknown>): Promise<{ peer: EbpfPeer; attached: PeerEvent }> {
    const peer = new EbpfPeer(ns, args);
    this.peers.add(peer);
    void peer.exited.then(() => this.peers.delete(peer));
    return { peer, attached: await peer.next('attached') };
  }

  /**
   * Makes the lan kernel resolve the target (one ping starts address resolution: its own NS)
   * and returns its neighbour entry: a MAC only if an NA arrived. Tries `attempts` times, each
   * waiting up to `waitMs`, so a busy machine does not fail a test that expects an answer.
   */
  async resolveTarget({ attempts = 3, waitMs = 1500 } = {}): Promise<NeighbourEntry | undefined> {
    let entry: NeighbourEntry | undefined;
    for (let attempt = 0; attempt < attempts && entry?.mac === undefined; attempt++) {
      await flushNeighbours(this.lan, 'la0');
      await run('ip', ['netns', 'exec', this.lan, 'ping', '-6', '-c1', '-W1', TARGET], { okExitCodes: [0, 1] });
      const deadline = Date.now() + waitMs;
      for (;;) {
        entry = await neighbourEntry(this.lan, TARGET, 'la0');
        if (entry?.mac !== undefined || Date.now() > deadline) break;
        await sleep(50);
      }
    }
    return entry;
  }

  /** Sends whole Ethernet frames, in order, out of the lan side's la0 (a packet socket, no kernel checks). */
  async sendFrames(frames: readonly Uint8Array[]): Promise<void> {
    await run('ip', ['netns', 'exec', this.lan, process.execPath, SEND_FRAMES, 'la0', ...frames.map((f) => Buffer.from(f).toString('hex'))]);
  }

  /** `ip -d -j link show` of hb0: the XDP program ids attached (native "xdp" or generic "xdpgeneric"). */
  async hostXdp(): Promise<{ mode?: number; programId?: number }> {
    const { stdout } = await run('ip', ['-n', this.host, '-d', '-j', 'link', 'show', 'dev', 'hb0']);
    const [link] = JSON.parse(stdout) as { xdp?: { mode?: number; prog?: { id?: number } } }[];
    return { ...(link?.xdp?.mode === undefined ? {} : { mode: link.xdp.mode }), ...(link?.xdp?.prog?.id === undefined ? {} : { programId: link.xdp.prog.id }) };
  }

  /** Program ids on hb0's tcx ingress chain, in run order (queried from inside the host namespace). */
  async tcxChain(): Promise<number[]> {
    const peer = new EbpfPeer(this.host, { ifname: 'hb0', queryOnly: true });
    const chain = await peer.next('tcx');
    await peer.exited;
    return chain.programIds as number[];
  }

  /** Kills every peer still running (so a failed test leaves nothing attached for the next). */
  async stopPeers(): Promise<void> {
    await Promise.all([...this.peers].map((peer) => peer.kill('SIGKILL')));
  }

  /** Kills every peer still running and deletes both namespaces. */
  async destroy(): Promise<void> {
    process.removeListener('exit', this.onExit);
    await Promise.all([...this.peers].map((peer) => peer.kill('SIGKILL')));
    await deleteNamespace(this.lan);
    await deleteNamespace(this.host);
  }
}
