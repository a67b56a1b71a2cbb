import { execFile, spawn, type ChildProcess, type ExecFileException, type SpawnOptions } from 'node:child_process';

/** Output of a finished command. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Options for {@link run}. */
export interface RunOptions {
  /** Kill the command (SIGKILL) after this many milliseconds; default 10 000. */
  readonly timeoutMs?: number;
  /** Exit codes that count as success; default `[0]`. */
  readonly okExitCodes?: readonly number[];
  /** Text written to the command's standard input, which is then closed. */
  readonly input?: string;
}

/** A command that could not start, timed out, or exited with an unexpected code. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly reason: string,
    readonly stderr: string,
    readonly exitCode?: number,
  ) {
    const detail = stderr.trim();
    super(`${command}: ${reason}${detail === '' ? '' : `: ${detail}`}`);
    this.name = 'CommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** A command line as a person would type it, for messages only (never executed). */
export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word))).join(' ');
}

/** Run `cmd` with `args` (no shell) and collect its output; rejects with a {@link CommandError}. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = formatCommand(cmd, args);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const okExitCodes = opts.okExitCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : exitCodeOf(error);
        if (exitCode !== undefined && okExitCodes.includes(exitCode)) {
          resolve({ stdout, stderr, exitCode });
          return;
        }
        reject(new CommandError(command, failureReason(error, timeoutMs), stderr, exitCode));
      },
    );
    child.stdin?.on('error', () => undefined); // the command may exit before reading its input
    child.stdin?.end(opts.input ?? '');
  });
}

/** The numeric exit code in an execFile error, if the command ran to an exit. */
function exitCodeOf(error: ExecFileException): number | undefined {
  if (error.killed === true || typeof error.signal === 'string') return undefined;
  return typeof error.code === 'number' ? error.code : undefined;
}

/** Why an execFile call failed, in words. */
function failureReason(error: ExecFileException | null, timeoutMs: number): string {
  if (error === null) return 'unexpected exit code 0';
  if (error.killed === true) return `timed out after ${timeoutMs} ms`;
  if (typeof error.signal === 'string') return `killed by ${error.signal}`;
  if (typeof error.code === 'number') return `exit code ${error.code}`;
  return `could not start (${String(error.code ?? error.message)})`;
}

/** Run `cmd` inside network namespace `ns` (`ip netns exec ns cmd ...`). */
export function runInNamespace(ns: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/**
 * Start `cmd` inside namespace `ns`; stdout and stderr are pipes unless `options` says otherwise.
 * `ip netns exec` execs the command, so the child's pid and signals are the command's own.
 */
export function spawnInNamespace(ns: string, cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}
