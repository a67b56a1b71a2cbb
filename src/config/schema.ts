/**
 * The configuration file's keys as rows (key, type, min, max), like ndppd's conf tables.
 * Keys are the command-line flags in kebab-case; `option` is the name commander gives the
 * flag's value, so a file value and a flag meet in the same field and flags win.
 */
import { FAST_PATH_MODES, LOG_LEVELS } from '../model/settings';
import { parseListenAddress } from './listen';

/** How a value is checked. `min`/`max` bound string length, list length or the number. */
export type ValueType = 'interface' | 'boolean' | 'choice' | 'targets' | 'names' | 'rate' | 'listen' | 'string';

/** One configuration key. */
export interface SchemaRow {
  readonly key: string;
  readonly option: string;
  readonly type: ValueType;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
}

/** Most answers per second a rate limit may be set to (far above any NIC's NS rate). */
export const MAX_RATE = 10_000_000;
/** Linux IFNAMSIZ minus the terminating NUL. */
const IFNAME_MAX = 15;

/** Every key `--config` accepts; anything else is an error. */
export const CONFIG_SCHEMA: readonly SchemaRow[] = [
  { key: 'interface', option: 'interface', type: 'interface', min: 1, max: IFNAME_MAX },
  { key: 'via', option: 'via', type: 'interface', min: 1, max: IFNAME_MAX },
  { key: 'targets', option: 'target', type: 'targets', min: 0, max: 1_000_000 },
  // Shared with the Docker source's `--docker-network` flag (repeatable).
  { key: 'docker-networks', option: 'dockerNetwork', type: 'names', min: 0, max: 256 },
  { key: 'docker', option: 'docker', type: 'boolean' },
  { key: 'docker-host', option: 'dockerHost', type: 'string', min: 1, max: 4096 },
  { key: 'wait-for-interface', option: 'waitForInterface', type: 'boolean' },
  { key: 'configure-host', option: 'configureHost', type: 'boolean' },
  { key: 'source', option: 'source', type: 'choice', choices: ['target', 'link-local'] },
  { key: 'router', option: 'router', type: 'boolean' },
  { key: 'override', option: 'override', type: 'boolean' },
  { key: 'announce', option: 'announce', type: 'boolean' },
  { key: 'fast-path', option: 'fastPath', type: 'choice', choices: FAST_PATH_MODES },
  { key: 'log-level', option: 'logLevel', type: 'choice', choices: LOG_LEVELS },
  { key: 'log-format', option: 'logFormat', type: 'choice', choices: ['json', 'pretty'] },
  { key: 'metrics-listen', option: 'metricsListen', type: 'listen' },
  { key: 'rate-limit-per-flow', option: 'rateLimitPerFlow', type: 'rate', min: 0, max: MAX_RATE },
  { key: 'rate-limit-per-source', option: 'rateLimitPerSource', type: 'rate', min: 0, max: MAX_RATE },
  { key: 'rate-limit-global', option: 'rateLimitGlobal', type: 'rate', min: 0, max: MAX_RATE },
];

const IFNAME = /^[^\s/:]+$/;

/** A plausible Linux interface name: 1..15 characters, no whitespace, '/' or ':'. */
export function isInterfaceName(name: string): boolean {
  return name.length >= 1 && name.length <= IFNAME_MAX && IFNAME.test(name);
}

/**
 * Answers per second from "N/s", "N" or a YAML number; undefined when malformed.
 * Range is checked by the caller against the row's min and max.
 */
export function parseRate(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d{1,9})\s*(?:\/\s*s)?\s*$/.exec(value);
  return match === null ? undefined : Number(match[1]);
}

function checkLength(row: SchemaRow, length: number, what: string): string | undefined {
  if (row.min !== undefined && length < row.min) return `needs at least ${row.min} ${what}`;
  if (row.max !== undefined && length > row.max) return `at most ${row.max} ${what}`;
  return undefined;
}

/**
 * Check one scalar value against its row; returns the value to use or an error message.
 * Lists are checked item by item by the loader with {@link checkListItem}.
 */
export function checkScalar(row: SchemaRow, value: unknown): { value: unknown } | { error: string } {
  const shown = JSON.stringify(value);
  switch (row.type) {
    case 'boolean':
      return typeof value === 'boolean' ? { value } : { error: `expected true or false, got ${shown}` };
    case 'choice':
      return typeof value === 'string' && row.choices?.includes(value) === true
        ? { value }
        : { error: `expected one of ${row.choices?.join(', ')}, got ${shown}` };
    case 'interface':
    case 'string': {
      if (typeof value !== 'string') return { error: `expected ${row.type === 'interface' ? 'an interface name' : 'a string'}, got ${shown}` };
      const bad = checkLength(row, value.length, 'characters');
      if (bad !== undefined) return { error: `${shown}: ${bad}` };
      if (row.type === 'interface' && !IFNAME.test(value)) return { error: `${shown} is not an interface name` };
      return { value };
    }
    case 'rate': {
      const rate = parseRate(value);
      if (rate === undefined) return { error: `expected answers per second such as 100/s, got ${shown}` };
      if (rate < (row.min ?? 0) || rate > (row.max ?? MAX_RATE)) return { error: `${rate}/s is out of range ${row.min ?? 0}..${row.max ?? MAX_RATE}` };
      return { value: rate };
    }
    case 'listen':
      return typeof value === 'string' && parseListenAddress(value) !== undefined
        ? { value }
        : { error: `expected HOST:PORT such as 127.0.0.1:9100 or [::1]:9100, got ${shown}` };
    default:
      return { error: `expected a list, got ${shown}` };
  }
}

/** Check a list's length against its row. */
export function checkListLength(row: SchemaRow, length: number): string | undefined {
  return checkLength(row, length, 'entries');
}

/** The row for `key`, if it is a known key. */
export function schemaRow(key: string): SchemaRow | undefined {
  return CONFIG_SCHEMA.find((row) => row.key === key);
}
