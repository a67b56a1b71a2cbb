import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Path of the launcher that users run. */
export const CLI = join(__dirname, '..', '..', '..', 'bin', 'ndp-responder.js');

/** One parsed JSON log line of the daemon. */
export type LogRecord = Record<string, unknown> & { msg?: string; level?: number };

/** The responder running inside a namespace, with its JSON log collected. */
export class DaemonProcess {
  readonly logs: LogRecord[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { test: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }[] = [];
  private partial = '';

  /**
   * `wrapper` runs between the namespace entry and node, e.g. a `setpriv ...` prefix (which execs
   * too). `enter: 'nsenter'` enters with `nsenter --net=` as systemd's NetworkNamespacePath= and
   * container tools do: unlike `ip netns exec`, it leaves /sys mounted for the original namespace.
   */
  constructor(namespace: string, args: string[], wrapper: readonly string[] = [], enter: 'ip-netns-exec' | 'nsenter' = 'ip-netns-exec') {
    // Exactly the test's flags: the daemon runs as users run it. JSON logs change nothing on the
    // packet path; they only let the helper parse the info/warn lines.
    const command = [...wrapper, process.execPath, CLI, 'run', '--log-format', 'json', ...args];
    const [program, ...entry] = enter === 'nsenter' ? ['nsenter', `--net=/var/run/netns/${namespace}`] : ['ip', 'netns', 'exec', namespace];
    this.child = spawn(program!, [...entry, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  private onData(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let record: LogRecord;
      try {
        record = JSON.parse(line) as LogRecord;
      } catch {
        continue;
      }
      this.logs.push(record);
      this.waiters = this.waiters.filter((w) => (w.test(record) ? (w.resolve(record), false) : true));
    }
  }

  /** Resolve with the first log record (past or future) matching `test`, or reject after `timeoutMs`. */
  waitForLog(test: (r: LogRecord) => boolean, timeoutMs = 5000, description = 'log line'): Promise<LogRecord> {
    const seen = this.logs.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${description}; stderr: ${this.stderr}; last logs: ${JSON.stringify(this.logs.slice(-5))}`)), timeoutMs);
      this.waiters.push({ test, resolve: (r) => (clearTimeout(timer), resolve(r)) });
      void this.exited.then(() => reject(new Error(`daemon exited while waiting for ${description}; stderr: ${this.stderr}`)));
    });
  }

  /** PID of the daemon itself (`ip netns exec` and setpriv exec it in place). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Wait for the 'started' line. */
  started(): Promise<LogRecord> {
    return this.waitForLog((r) => r.msg === 'started', 8000, "'started'");
  }

  /** Send a signal and resolve with the exit status and how long the exit took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; ms: number }> {
    const begin = process.hrtime.bigint();
    // `ip netns exec` execs the node process, so the signal reaches the daemon itself.
    this.child.kill(signal);
    const { code } = await this.exited;
    return { code, ms: Number(process.hrtime.bigint() - begin) / 1e6 };
  }

  /** Send a signal without waiting (e.g. SIGHUP to reload). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Kill without ceremony (cleanup after a failed test). */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /** Exit status, once exited. */
  wait(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }
}
