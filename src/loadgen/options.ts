/** `ndp-responder bench` options, validated once at the boundary (exit 2 on any mistake). */
import { UserError } from '../model/errors';
import { parseTarget } from '../core/parse-target';
import { PROBE_MODES, type AddressRange, type ProbeMode } from './probe-plan';

/** Hard caps: every run is bounded in count and time whatever the flags say. */
export const BENCH_LIMITS = { maxCount: 10_000_000, maxDurationSeconds: 300, maxRate: 10_000_000, maxPool: 65_535 } as const;
/** Defaults of the bench flags. */
export const BENCH_DEFAULTS = { count: 10_000, rate: 10_000, durationSeconds: 10, sources: 'fixed', mode: 'multicast' } as const;

/** Flags as commander hands them over. */
export interface RawBenchOptions {
  interface?: string;
  target?: string[];
  count?: string;
  rate?: string;
  duration?: string;
  sources?: string;
  mode?: string;
  json?: boolean;
}

/** Source choice before the interface's addresses are known. */
export type SourceChoice = { kind: 'fixed' } | { kind: 'pool'; size: number } | { kind: 'random'; range: AddressRange; text: string };

/** Validated bench options. */
export interface BenchOptions {
  interfaceName: string;
  targets: AddressRange[];
  targetTexts: string[];
  count: number;
  /** NS per second; 0 = as fast as possible. */
  rate: number;
  durationMs: number;
  sources: SourceChoice;
  mode: ProbeMode;
  json: boolean;
}

/** A number in [min, max], integer when asked; `flag` names it in the error. */
function parseNumber(text: string | undefined, fallback: number, flag: string, min: number, max: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new UserError(`invalid ${flag} "${text}": expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

/** `fixed`, `pool:N` or `random:PREFIX`. */
export function parseSources(text: string): SourceChoice {
  if (text === 'fixed') return { kind: 'fixed' };
  const pool = /^pool:(\d+)$/.exec(text);
  if (pool !== null) {
    const size = Number(pool[1]);
    if (size < 1 || size > BENCH_LIMITS.maxPool) throw new UserError(`invalid --sources "${text}": pool size must be 1 to ${BENCH_LIMITS.maxPool}`);
    return { kind: 'pool', size };
  }
  if (text.startsWith('random:')) {
    const prefix = text.slice('random:'.length);
    let parsed;
    try {
      parsed = parseTarget(prefix);
    } catch (error) {
      throw new UserError(`invalid --sources "${text}": ${(error as Error).message}`);
    }
    return { kind: 'random', range: { address: parsed.address, prefixLength: parsed.prefixLength }, text: parsed.text };
  }
  throw new UserError(`invalid --sources "${text}": expected fixed, pool:N or random:PREFIX`);
}

/** Validates the raw flags; throws UserError (exit 2) naming the flag. */
export function parseBenchOptions(raw: RawBenchOptions): BenchOptions {
  const interfaceName = raw.interface?.trim() ?? '';
  if (interfaceName === '') throw new UserError('missing --interface: the interface to send probes on');
  const targetTexts = raw.target ?? [];
  if (targetTexts.length === 0) throw new UserError('missing --target: an address or prefix to solicit');
  const parsed = targetTexts.map((text) => parseTarget(text));
  const mode = (raw.mode ?? BENCH_DEFAULTS.mode) as ProbeMode;
  if (!PROBE_MODES.includes(mode)) throw new UserError(`invalid --mode "${raw.mode}": expected ${PROBE_MODES.join(', ')}`);
  return {
    interfaceName,
    targets: parsed.map((t) => ({ address: t.address, prefixLength: t.prefixLength })),
    targetTexts: parsed.map((t) => t.text),
    count: parseNumber(raw.count, BENCH_DEFAULTS.count, '--count', 1, BENCH_LIMITS.maxCount, true),
    rate: parseNumber(raw.rate, BENCH_DEFAULTS.rate, '--rate', 0, BENCH_LIMITS.maxRate, false),
    durationMs: parseNumber(raw.duration, BENCH_DEFAULTS.durationSeconds, '--duration', 0.001, BENCH_LIMITS.maxDurationSeconds, false) * 1000,
    sources: parseSources(raw.sources ?? BENCH_DEFAULTS.sources),
    mode,
    json: raw.json === true,
  };
}
