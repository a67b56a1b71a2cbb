/** `ndp-responder bench`: options → plan → generator → report. */
import { randomFillSync } from 'node:crypto';
import { ExitCode, UserError } from '../model/errors';
import { isNativeError } from '../io/native';
import { formatIpv6 } from '../wire/address';
import { runGenerator, type GeneratorOutcome } from './generator';
import { learnResponderMac, readInterface, resolveSources } from './interface-info';
import { parseBenchOptions, type BenchOptions, type RawBenchOptions } from './options';
import { MAX_PROBES, buildProbePlan, type PlanInput } from './probe-plan';
import { derivedFields, formatProgress, formatReport, type BenchResult } from './report';
import { summarizeLatency } from './stats';

/** How the sources were chosen, for the report ("fixed 2001:db8::1", "pool:64", "random:2001:db8::/64"). */
function describeSources(options: BenchOptions, input: PlanInput): string {
  if (options.mode === 'dad') return 'the unspecified address (DAD)';
  if (options.sources.kind === 'random') return `random:${options.sources.text}`;
  if (options.sources.kind === 'pool') return `pool:${options.sources.size}`;
  const first = input.sources.kind === 'list' ? input.sources.addresses[0] : undefined;
  return first === undefined ? 'fixed' : `fixed ${formatIpv6(first)}`;
}

/** Builds the JSON-able result from the options and the generator's outcome. */
export function benchResult(options: BenchOptions, sources: string, probes: number, outcome: GeneratorOutcome): BenchResult {
  return {
    interface: options.interfaceName,
    mode: options.mode,
    targets: options.targetTexts,
    sources,
    probes,
    offeredRate: options.rate,
    sent: outcome.sent,
    sendSeconds: Math.round(outcome.sendSeconds * 1e6) / 1e6,
    ...derivedFields(outcome.sent, outcome.answered, outcome.sendSeconds),
    answered: outcome.answered,
    answeredAfterWindow: outcome.answeredAfterWindow,
    answersPerSecond: outcome.sendSeconds > 0 ? Math.round((outcome.answered - outcome.answeredAfterWindow) / outcome.sendSeconds) : 0,
    unmatched: outcome.unmatched,
    latencyUs: summarizeLatency(outcome.latenciesUs),
    sendTimestamps: outcome.sendTimestamps,
    sendTimestampsMissing: outcome.sendTimestampsMissing,
    receiveDrops: outcome.receiveDrops,
    stoppedBy: outcome.stoppedBy,
  };
}

/** Turns socket refusals into one-line environment errors. */
function environmentError(error: unknown): unknown {
  if (!isNativeError(error)) return error;
  const hint = error.code === 'EPERM' ? ' (needs CAP_NET_RAW)' : '';
  return new UserError(`${error.syscall}: ${error.code}${hint}`, ExitCode.Environment);
}

/** A finished measurement: the report, and every latency (µs, ascending) for plots. */
export interface Measurement {
  result: BenchResult;
  latenciesUs: Float64Array;
}

/**
 * Measures once with validated options (the CLI and the harness's worker share this).
 * `onSendPhase` marks the send phase's edges (the harness reads machine-wide CPU time there).
 */
export async function measure(
  options: BenchOptions,
  onProgress?: (sent: number, answered: number, ms: number) => void,
  onSendPhase?: (edge: 'start' | 'end') => void,
): Promise<Measurement> {
  const info = await readInterface(options.interfaceName);
  const input: PlanInput = {
    mode: options.mode,
    targets: options.targets,
    sources: resolveSources(options.sources, info),
    localMac: info.mac,
    maxProbes: Math.min(options.count, MAX_PROBES),
    fillRandom: (bytes) => randomFillSync(bytes),
  };
  try {
    if (options.mode === 'unicast') {
      const probe = buildProbePlan({ ...input, mode: 'multicast', maxProbes: 1 }, 1);
      input.responderMac = await learnResponderMac(info.ifindex, probe, options.targetTexts[0] ?? '');
    }
    const plan = buildProbePlan(input);
    const outcome = await runGenerator({
      ifindex: info.ifindex,
      plan,
      count: options.count,
      rate: options.rate,
      durationMs: options.durationMs,
      ...(onProgress === undefined ? {} : { onProgress }),
      ...(onSendPhase === undefined ? {} : { onSendPhase }),
    });
    const result = benchResult(options, describeSources(options, input), plan.probeCount, outcome);
    return { result, latenciesUs: outcome.latenciesUs }; // sorted by summarizeLatency
  } catch (error) {
    throw environmentError(error);
  }
}

/** Runs the bench command and prints the report (text, or one JSON object with --json). */
export async function runBenchCommand(raw: RawBenchOptions): Promise<void> {
  const options = parseBenchOptions(raw);
  const tty = process.stderr.isTTY === true;
  const progress = (s: number, a: number, ms: number): void => void process.stderr.write(`\r\x1b[K${formatProgress(s, a, ms)}`);
  const { result } = await measure(options, tty ? progress : undefined);
  if (tty) process.stderr.write('\r\x1b[K');
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : formatReport(result));
}
