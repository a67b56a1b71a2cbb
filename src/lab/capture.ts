import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCommand, spawnInNamespace } from './exec';
import { parsePcap, type PcapPacket } from './pcap';
import { sleep } from './wait';

/** Options for {@link startCapture}. */
export interface CaptureOptions {
  /** Where tcpdump writes; default a fresh temporary file that stop() deletes. */
  readonly file?: string;
  /** How long tcpdump may take to start listening; default 5000 ms. */
  readonly readyTimeoutMs?: number;
}

/** Options for {@link Capture.stop}. */
export interface StopOptions {
  /** Wait this long before stopping so frames already sent reach the capture; default 100 ms. */
  readonly settleMs?: number;
}

/** A running tcpdump. */
export interface Capture {
  /** The pcap file being written. */
  readonly file: string;
  /** Stop tcpdump (SIGINT), wait for it to exit and return the frames it wrote. Safe to call twice. */
  stop(options?: StopOptions): Promise<PcapPacket[]>;
}

const EXIT_TIMEOUT_MS = 3000;

/**
 * Capture on `ifname` in namespace `ns` with `tcpdump -U --immediate-mode -s 0 -w FILE <filter>`.
 * Resolves once tcpdump reports that it is listening, so frames sent afterwards are captured.
 */
export async function startCapture(ns: string, ifname: string, filterExpression: string, options: CaptureOptions = {}): Promise<Capture> {
  const tempDir = options.file === undefined ? await mkdtemp(join(tmpdir(), 'ndp-lab-')) : undefined;
  const file = options.file ?? join(tempDir ?? tmpdir(), 'capture.pcap');
  // -Z root: stay root so the file can be written wherever the caller asked (tcpdump otherwise drops to its own user).
  const args = ['-i', ifname, '-n', '-U', '--immediate-mode', '-s', '0', '-Z', 'root', '-w', file];
  if (filterExpression.trim() !== '') args.push(filterExpression);
  const command = formatCommand('ip', ['netns', 'exec', ns, 'tcpdump', ...args]);
  const child = spawnInNamespace(ns, 'tcpdump', args);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  try {
    await listening(child, stderr, options.readyTimeoutMs ?? 5000);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    throw new Error(`${command}: ${(error as Error).message}: ${stderr.join('').trim()}`);
  }
  let stopped: Promise<PcapPacket[]> | undefined;
  const stop = (stopOptions: StopOptions = {}): Promise<PcapPacket[]> => {
    stopped ??= finish(child, exited, file, tempDir, stopOptions.settleMs ?? 100, () => `${command}: ${stderr.join('').trim()}`);
    return stopped;
  };
  return { file, stop };
}

/** Resolve when tcpdump prints "listening on"; reject if it exits first or takes too long. */
function listening(child: ChildProcess, stderr: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`not listening after ${timeoutMs} ms`)), timeoutMs);
    const onData = (): void => {
      if (stderr.join('').includes('listening on')) done();
    };
    const onExit = (code: number | null): void => done(new Error(`exited (code ${code}) before listening`));
    const onError = (error: Error): void => done(error);
    function done(error?: Error): void {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      if (error === undefined) resolve();
      else reject(error);
    }
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
    onData();
  });
}

/** Stop tcpdump, parse what it wrote and remove the temporary directory. */
async function finish(
  child: ChildProcess,
  exited: Promise<number | null>,
  file: string,
  tempDir: string | undefined,
  settleMs: number,
  describe: () => string,
): Promise<PcapPacket[]> {
  try {
    if (settleMs > 0) await sleep(settleMs);
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${describe()} (tcpdump exit code ${code})`);
    return parsePcap(new Uint8Array(await readFile(file))).packets;
  } finally {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  }
}
