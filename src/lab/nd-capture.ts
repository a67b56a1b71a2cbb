/**
 * Capture of the NS or the NA for one target arriving on a lab interface, by the project's own
 * packet socket and filters (nd-capture-peer.ts, run in the namespace), with the kernel's receive
 * timestamps. Needs node and `ip` only, where capture.ts needs tcpdump.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { formatCommand, spawnInNamespace } from './exec';
import { sleep } from './wait';

const PEER = join(__dirname, 'nd-capture-peer.js');
const EXIT_TIMEOUT_MS = 3000;

/** What to capture: the messages the responder's solicitation or advertisement filter accepts. */
export type NdKind = 'solicitations' | 'advertisements';

/** One captured frame. */
export interface CapturedFrame {
  /** The whole Ethernet frame. */
  readonly data: Uint8Array;
  /** Kernel receive timestamp, CLOCK_REALTIME nanoseconds (one clock for every namespace). */
  readonly timestampNs: bigint;
}

/** A running capture. */
export interface NdCapture {
  /** Wait `settleMs` (default 100) so frames already on the wire arrive, stop, and return every frame. Safe to call twice. */
  stop(options?: { settleMs?: number }): Promise<CapturedFrame[]>;
}

/** What the peer prints: the ready mark, or a frame. */
interface PeerLine {
  ready?: boolean;
  sec?: number;
  nsec?: number;
  frame?: string;
}

/** The peer's output so far. */
class PeerOutput {
  readonly frames: CapturedFrame[] = [];
  /** The first line that was neither the ready mark nor a frame. */
  unexpected: string | undefined;
  private buffer = '';

  /** Feeds a chunk of stdout; calls `onReady` at the ready mark. */
  feed(chunk: string, onReady: () => void): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n'); end >= 0; end = this.buffer.indexOf('\n')) {
      const text = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 1);
      const line = parseLine(text);
      if (line === 'ready') onReady();
      else if (line !== undefined) this.frames.push(line);
      else this.unexpected ??= text;
    }
  }
}

/** One line of peer output: 'ready', a frame, or undefined for anything else. */
function parseLine(text: string): 'ready' | CapturedFrame | undefined {
  let line: PeerLine;
  try {
    line = JSON.parse(text) as PeerLine;
  } catch {
    return undefined;
  }
  if (line.ready === true) return 'ready';
  const { sec, nsec, frame } = line;
  if (typeof frame !== 'string' || !Number.isInteger(sec) || !Number.isInteger(nsec)) return undefined;
  return { data: new Uint8Array(Buffer.from(frame, 'hex')), timestampNs: BigInt(sec!) * 1_000_000_000n + BigInt(nsec!) };
}

/** Start capturing the `kind` for `target` arriving on `ifname` in `ns`; resolves once the socket listens. */
export async function startNdCapture(ns: string, ifname: string, kind: NdKind, target: string, readyTimeoutMs = 5000): Promise<NdCapture> {
  const args = [PEER, ifname, kind, target];
  const command = formatCommand('ip', ['netns', 'exec', ns, 'node', ...args]);
  const child = spawnInNamespace(ns, process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const output = new PeerOutput();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.on('error', () => undefined); // the peer may be gone when we close its input
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const describe = (): string => `${command}: ${output.unexpected === undefined ? '' : `unexpected output ${JSON.stringify(output.unexpected)}; `}${stderr.trim()}`;
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => output.feed(chunk, resolve));
      child.once('error', reject);
      void exited.then((code) => reject(new Error(`${describe()} (exited with code ${code} before listening)`)));
      setTimeout(() => reject(new Error(`${describe()} (not listening after ${readyTimeoutMs} ms)`)), readyTimeoutMs).unref();
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  let stopped: Promise<CapturedFrame[]> | undefined;
  return { stop: (options = {}) => (stopped ??= finish(child, exited, output, options.settleMs ?? 100, describe)) };
}

/** Close the peer's input (it stops on that), wait for it to exit, and return the frames. */
async function finish(child: ChildProcess, exited: Promise<number | null>, output: PeerOutput, settleMs: number, describe: () => string): Promise<CapturedFrame[]> {
  if (settleMs > 0) await sleep(settleMs);
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  const code = await exited;
  clearTimeout(timer);
  if (code !== 0 || output.unexpected !== undefined) throw new Error(`${describe()} (exit code ${code})`);
  return output.frames;
}
