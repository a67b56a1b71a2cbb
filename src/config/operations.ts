/** Validation of the operations flags: `--metrics-listen` and the answer rate limits. */
import { burstFor, DEFAULT_RATE_LIMITS, type RateLimitSettings } from '../core/rate-limit';
import type { Rate } from '../core/token-bucket';
import { UserError } from '../model/errors';
import { parseListenAddress } from './listen';
import { type ListenAddress } from '../model/settings';
import { MAX_RATE, parseRate } from './schema';

/** Raw values as commander (strings) or a config file (numbers) hand them over. */
export interface RawOperationsOptions {
  metricsListen?: string;
  rateLimitPerFlow?: string | number;
  rateLimitPerSource?: string | number;
  rateLimitGlobal?: string | number;
}

/** Validated operations options. */
export interface OperationsOptions {
  readonly metricsListen: ListenAddress | undefined;
  readonly rateLimits: RateLimitSettings;
}

function rateOption(flag: string, value: string | number | undefined, fallback: Rate): Rate {
  if (value === undefined) return fallback;
  const perSecond = parseRate(value);
  if (perSecond === undefined || perSecond > MAX_RATE) {
    throw new UserError(`invalid ${flag} "${value}": expected answers per second from 0 (no limit) to ${MAX_RATE}, such as 100/s`);
  }
  return { perSecond, burst: burstFor(perSecond) };
}

/** Validate at the boundary; throws UserError (exit 2) with one line naming the flag. */
export function parseOperationsOptions(raw: RawOperationsOptions): OperationsOptions {
  let metricsListen: ListenAddress | undefined;
  if (raw.metricsListen !== undefined) {
    metricsListen = parseListenAddress(raw.metricsListen);
    if (metricsListen === undefined) {
      throw new UserError(`invalid --metrics-listen "${raw.metricsListen}": expected HOST:PORT such as 127.0.0.1:9100 or [::1]:9100`);
    }
  }
  return {
    metricsListen,
    rateLimits: {
      perFlow: rateOption('--rate-limit-per-flow', raw.rateLimitPerFlow, DEFAULT_RATE_LIMITS.perFlow),
      maxFlows: DEFAULT_RATE_LIMITS.maxFlows,
      perSource: rateOption('--rate-limit-per-source', raw.rateLimitPerSource, DEFAULT_RATE_LIMITS.perSource),
      global: rateOption('--rate-limit-global', raw.rateLimitGlobal, DEFAULT_RATE_LIMITS.global),
      maxSources: DEFAULT_RATE_LIMITS.maxSources,
    },
  };
}
