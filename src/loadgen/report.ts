/** What one `ndp-responder bench` run measured, and its human and JSON forms. */
import { formatMicroseconds, type LatencySummary } from './stats';

/** The result of one run (the `--json` output, one object). */
export interface BenchResult {
  interface: string;
  mode: string;
  targets: string[];
  sources: string;
  /** Distinct (source, target) probes cycled through. */
  probes: number;
  /** NS per second asked for; 0 = as fast as possible. */
  offeredRate: number;
  sent: number;
  /** Seconds from the first to the last send. */
  sendSeconds: number;
  achievedRate: number;
  answered: number;
  answeredFraction: number;
  /** Of `answered`, those that arrived after the last send (a responder's backlog draining). */
  answeredAfterWindow: number;
  /** Answers received within the sending window per second of it: the responder's answer rate. */
  answersPerSecond: number;
  /** NAs that matched no probe sent (foreign targets, duplicates, answers beyond the probes). */
  unmatched: number;
  latencyUs: LatencySummary;
  /** 'kernel': SO_TIMESTAMPING send and SO_TIMESTAMPNS receive; 'user': send time read just before sendmmsg. */
  sendTimestamps: 'kernel' | 'user';
  /** Sends whose kernel timestamp was lost (their user-space time was used instead). */
  sendTimestampsMissing: number;
  /** Frames the kernel dropped on our receive socket (answers we could not count). */
  receiveDrops: number;
  /** Stopped by 'count' or 'duration'. */
  stoppedBy: 'count' | 'duration';
}

/** Rounds to `digits` decimals for the report. */
function fixed(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Rate and fraction fields derived from the counters. */
export function derivedFields(sent: number, answered: number, sendSeconds: number): { achievedRate: number; answeredFraction: number } {
  return {
    achievedRate: sendSeconds > 0 ? Math.round(sent / sendSeconds) : sent,
    answeredFraction: sent > 0 ? fixed(answered / sent, 6) : 0,
  };
}

/** Percent with up to 2 decimals ("99.95 %", "0 %"). */
export function formatPercent(fraction: number): string {
  return `${fixed(fraction * 100, 2)} %`;
}

/** The human-readable report, one fact per line. */
export function formatReport(result: BenchResult): string {
  const l = result.latencyUs;
  const timestamps =
    result.sendTimestamps === 'kernel'
      ? 'kernel (SO_TIMESTAMPING send, SO_TIMESTAMPNS receive)'
      : 'send: user space just before sendmmsg (no kernel TX timestamps); receive: kernel';
  const lines = [
    `bench ${result.interface}: ${result.mode} NS for ${result.targets.join(', ')} from ${result.sources} (${result.probes} distinct probes)`,
    `sent         ${result.sent} in ${result.sendSeconds.toFixed(3)} s (${result.achievedRate} NS/s; asked ${result.offeredRate === 0 ? 'max' : `${result.offeredRate}/s`}, stopped by ${result.stoppedBy})`,
    `answered     ${result.answered} (${formatPercent(result.answeredFraction)}), ${result.answeredAfterWindow} after the sending window; ${result.answersPerSecond} answers/s within it`,
    `unmatched    ${result.unmatched} NA${result.unmatched === 1 ? '' : 's'}`,
    `latency      min ${formatMicroseconds(l.min)}  p50 ${formatMicroseconds(l.p50)}  p90 ${formatMicroseconds(l.p90)}  p99 ${formatMicroseconds(l.p99)}  p99.9 ${formatMicroseconds(l.p999)}  max ${formatMicroseconds(l.max)}`,
    `timestamps   ${timestamps}`,
  ];
  if (result.sendTimestampsMissing > 0) lines.push(`             ${result.sendTimestampsMissing} send timestamps lost, user-space time used for those`);
  if (result.receiveDrops > 0) lines.push(`warning      ${result.receiveDrops} answers dropped by our own receive socket: the answered fraction is a lower bound`);
  return `${lines.join('\n')}\n`;
}

/** The one-line progress shown on a terminal while the run goes on. */
export function formatProgress(sent: number, answered: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((sent * 1000) / elapsedMs) : 0;
  const fraction = sent > 0 ? answered / sent : 0;
  return `sent ${sent}  answered ${answered} (${formatPercent(fraction)})  ${rate} NS/s  ${(elapsedMs / 1000).toFixed(1)} s`;
}
