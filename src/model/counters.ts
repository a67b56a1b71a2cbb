/** Counters that logs and metrics share. Imports only the closed reason list. */
import { IGNORE_REASONS, type IgnoreReason } from './reasons';

/** Received, answered and ignored frames; `ignored` is keyed by the closed reason list. */
export class ResponderCounters {
  received = 0;
  advertised = 0;
  sendFailures = 0;
  readonly ignored: Record<IgnoreReason, number> = Object.fromEntries(IGNORE_REASONS.map((r) => [r, 0])) as Record<IgnoreReason, number>;
}

/** The two ways a conflict shows: an NA for our target, or a DAD probe (NS from ::) for it. */
export const CONFLICT_KINDS = ['advertisement', 'dad'] as const;

/** One of {@link CONFLICT_KINDS}. */
export type ConflictKind = (typeof CONFLICT_KINDS)[number];
