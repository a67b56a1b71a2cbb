/**
 * Reachability with node alone: a UDP echo server in one namespace and a one-datagram client
 * in another (udp-echo-peer.ts). The client's datagram is also what makes its kernel resolve
 * the address, exactly as any first packet to a neighbour would.
 */
import { join } from 'node:path';
import { formatCommand, runInNamespace, spawnInNamespace } from './exec';

const PEER = join(__dirname, 'udp-echo-peer.js');

/** A running echo server. */
export interface EchoServer {
  /** Stop it (closes its input) and wait for it to exit; safe to call twice. */
  stop(): Promise<void>;
}

/** Start echoing UDP datagrams on `port` in `ns`; resolves once the socket is bound. */
export async function startEchoServer(ns: string, port: number, readyTimeoutMs = 5000): Promise<EchoServer> {
  const command = formatCommand('ip', ['netns', 'exec', ns, 'node', PEER, 'serve', String(port)]);
  const child = spawnInNamespace(ns, process.execPath, [PEER, 'serve', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('"listening"') && resolve());
      child.once('error', reject);
      void exited.then(() => reject(new Error(`${command}: exited before listening: ${stderr.trim()}`)));
      setTimeout(() => reject(new Error(`${command}: not listening after ${readyTimeoutMs} ms: ${stderr.trim()}`)), readyTimeoutMs).unref();
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    stop: () => {
      stopped ??= (async () => {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}

/** Outcome of {@link echoOnce}. */
export interface EchoResult {
  readonly reply: boolean;
  /** Round trip of the one datagram, first-packet resolution included, in milliseconds. */
  readonly rttMs?: number;
}

/** Send one datagram to `address`:`port` from `ns` and wait up to `timeoutMs` for its echo. */
export async function echoOnce(ns: string, address: string, port: number, timeoutMs: number): Promise<EchoResult> {
  const { stdout } = await runInNamespace(ns, process.execPath, [PEER, 'ask', address, String(port), String(timeoutMs)], { timeoutMs: timeoutMs + 5000 });
  const result = JSON.parse(stdout) as EchoResult;
  return result.reply && typeof result.rttMs === 'number' ? { reply: true, rttMs: result.rttMs } : { reply: false };
}
