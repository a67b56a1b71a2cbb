import pino from 'pino';
import type { LogFormat, LogLevel } from '../model/settings';

/** The logger type used across the daemon. */
export type Logger = pino.Logger;

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'module']);

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/** Render one pino JSON line as "HH:MM:SS.mmm LEVEL module: msg key=value …". */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = new Date(typeof record.time === 'number' ? record.time : Date.now()).toISOString().slice(11, 23);
  const level = (LEVEL_NAMES[record.level as number] ?? String(record.level)).padEnd(5);
  const module = typeof record.module === 'string' ? `${record.module}: ` : '';
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN_KEYS.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(' ');
  return `${time} ${level} ${module}${String(record.msg ?? '')}${fields === '' ? '' : ' ' + fields}\n`;
}

/**
 * Create the root logger. JSON lines on stdout, or a compact human format
 * (our own ~20 lines instead of pino-pretty's 13 dependencies).
 */
export function createLogger(level: LogLevel, format: LogFormat, out: NodeJS.WritableStream = process.stdout): Logger {
  const options: pino.LoggerOptions = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime };
  if (format === 'json') return pino(options, pino.destination({ dest: 1, sync: true }));
  return pino(options, { write: (line: string) => out.write(prettyLine(line)) });
}

/** Default format: pretty when stdout is a terminal, JSON otherwise (journald, files, pipes). */
export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? 'pretty' : 'json';
}
