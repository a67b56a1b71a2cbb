import { join } from 'node:path';
import { LoggedProcess, type JsonLogRecord } from './logged-process';

/** Path of the launcher that users run. */
export const CLI = join(__dirname, '..', '..', '..', 'bin', 'ndp-responder.js');

/** One parsed JSON log line of the daemon. */
export type LogRecord = JsonLogRecord;

/** The responder running inside a namespace, with its JSON log collected. */
export class DaemonProcess extends LoggedProcess {
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
    super(program!, [...entry, ...command]);
  }

  /** Wait for the 'started' line. */
  started(): Promise<LogRecord> {
    return this.waitForLog((r) => r.msg === 'started', 8000, "'started'");
  }
}

/**
 * NAs the daemon sent by either path, from its `stopped` line: the socket path's `advertised`
 * plus the kernel's `fastPathAnswered`.
 */
export function answeredAtStop(stopped: LogRecord | undefined): number {
  return Number(stopped?.advertised ?? 0) + Number(stopped?.fastPathAnswered ?? 0);
}
