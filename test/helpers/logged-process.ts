import { spawn, type ChildProcess } from 'node:child_process';

/** One parsed JSON log line. */
export type JsonLogRecord = Record<string, unknown> & { msg?: string; level?: number };

/**
 * Any command that prints the responder's JSON log on stdout (the installed `ndp-responder`, or
 * `docker run` attached to the container), with its lines collected and waitable.
 */
export class LoggedProcess {
  readonly logs: JsonLogRecord[] = [];
  stderr = '';
  protected readonly child: ChildProcess;
  protected readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { test: (r: JsonLogRecord) => boolean; resolve: (r: JsonLogRecord) => void }[] = [];
  private partial = '';

  constructor(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  private onData(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      let record: JsonLogRecord;
      try {
        record = JSON.parse(line) as JsonLogRecord;
      } catch {
        continue;
      }
      this.logs.push(record);
      this.waiters = this.waiters.filter((w) => (w.test(record) ? (w.resolve(record), false) : true));
    }
  }

  /** The first record (past or future) matching `test`; rejects after `timeoutMs` or when the command exits. */
  waitForLog(test: (r: JsonLogRecord) => boolean, timeoutMs = 5000, description = 'log line'): Promise<JsonLogRecord> {
    const seen = this.logs.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${description}; stderr: ${this.stderr}; last logs: ${JSON.stringify(this.logs.slice(-5))}`)), timeoutMs);
      this.waiters.push({ test, resolve: (r) => (clearTimeout(timer), resolve(r)) });
      void this.exited.then(({ code }) => reject(new Error(`exited (${code}) while waiting for ${description}; stderr: ${this.stderr}`)));
    });
  }

  /** The child's pid (`ip netns exec` and the launcher exec in place). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Send `signal` and resolve with the exit code and how long the exit took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; ms: number }> {
    const begin = process.hrtime.bigint();
    // `ip netns exec` and the launcher exec in place, so the signal reaches the process itself.
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const { code } = await this.exited;
    return { code, ms: Number(process.hrtime.bigint() - begin) / 1e6 };
  }

  /** Send a signal without waiting (e.g. SIGHUP to reload). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGKILL without waiting (cleanup after a failed test). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Exit status, once exited. */
  wait(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }
}
