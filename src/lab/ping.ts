import { runInNamespace } from './exec';

/** Outcome of {@link ping}. */
export interface PingResult {
  /** True when at least one echo reply came back. */
  readonly ok: boolean;
  readonly transmitted: number;
  readonly received: number;
  /** Average round-trip time of the replies, in milliseconds. */
  readonly rttMs?: number;
  /** What ping printed, for assertion messages. */
  readonly output: string;
}

/** Options for {@link ping}. */
export interface PingOptions {
  /** Echo requests to send; default 1. */
  readonly count?: number;
  /** How long to wait for each reply (`-W`), in seconds; default 1. */
  readonly timeoutSeconds?: number;
  /** Pause between requests (`-i`), in seconds; default ping's 1 s. Below 0.002 needs root. */
  readonly intervalSeconds?: number;
  /** Source address (`-I`), e.g. one of the scenario's deprecated `lanSources`; default chosen by the kernel. */
  readonly source?: string;
}

/** The counters and average RTT in iputils ping's summary; undefined fields when a line is missing. */
export function parsePingOutput(output: string): { transmitted?: number; received?: number; rttMs?: number } {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(output);
  return {
    ...(counts?.[1] === undefined ? {} : { transmitted: Number(counts[1]) }),
    ...(counts?.[2] === undefined ? {} : { received: Number(counts[2]) }),
    ...(rtt?.[1] === undefined ? {} : { rttMs: Number(rtt[1]) }),
  };
}

/** Ping `address` from namespace `fromNs` (`ping -6 -n -c N -W S`); no reply is a result, not an error. */
export async function ping(fromNs: string, address: string, options: PingOptions = {}): Promise<PingResult> {
  const count = options.count ?? 1;
  const timeoutSeconds = options.timeoutSeconds ?? 1;
  const interval = options.intervalSeconds;
  const args = ['-6', '-n', '-c', String(count), '-W', String(timeoutSeconds)];
  if (interval !== undefined) args.push('-i', String(interval));
  if (options.source !== undefined) args.push('-I', options.source);
  args.push(address);
  const budgetMs = 2000 + 1000 * (timeoutSeconds + count * (interval ?? 1));
  // Exit code 1 means "no reply"; 2 and others mean ping itself failed and are thrown.
  const { stdout, stderr } = await runInNamespace(fromNs, 'ping', args, { okExitCodes: [0, 1], timeoutMs: budgetMs });
  const output = stdout + stderr;
  const parsed = parsePingOutput(output);
  const received = parsed.received ?? 0;
  return {
    ok: received > 0,
    transmitted: parsed.transmitted ?? 0,
    received,
    ...(parsed.rttMs === undefined ? {} : { rttMs: parsed.rttMs }),
    output,
  };
}
